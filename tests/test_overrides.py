"""Config files and KEY=VALUE overrides (the benchmarks' and tests' shared parser)."""

import pytest

from pixie_jax import overrides


def test_overrides_are_typed_like_the_current_value():
    c = overrides.load_config("pixie")
    overrides.apply_overrides(
        c, ["sampler.negatives=64", "optimizer.learning_rate=0.025", "progress=False", "optimizer.name=sparse_sgd"]
    )
    assert c.sampler.negatives == 64 and isinstance(c.sampler.negatives, int)
    assert c.optimizer.learning_rate == 0.025 and c.progress is False and c.optimizer.name == "sparse_sgd"


def test_bad_overrides_name_the_key_or_value():
    c = overrides.load_config("pixie")
    with pytest.raises(KeyError, match="sampler.negativs"):
        overrides.apply_overrides(c, ["sampler.negativs=3"])
    with pytest.raises(ValueError, match="progress takes True or False"):
        overrides.apply_overrides(c, ["progress=yes"])
    with pytest.raises(ValueError, match="not KEY=VALUE"):
        overrides.apply_overrides(c, ["epochs"])


def test_only_present_skips_other_models_sections():
    c = overrides.load_config("pixie")
    overrides.apply_overrides(c, ["vsgns.gamma=0.3", "epochs=2.0"], only_present=True)
    assert c.epochs == 2.0 and "vsgns" not in c


def test_bad_config_files_are_named_with_what_is_wrong(tmp_path):
    (tmp_path / "syntax.py").write_text("def get_config(:\n")
    (tmp_path / "empty.py").write_text("x = 1\n")
    cases = [
        (tmp_path / "syntax.py", rf"{tmp_path / 'syntax.py'}: line 1: .*; fix the config file"),
        (tmp_path / "empty.py", rf"{tmp_path / 'empty.py'}: defines no get_config\(\)"),
        (tmp_path, rf"{tmp_path}: a folder, not a config file"),
        ("no_such_config", r"no_such_config.py: no such config file \(the configs by name: .*pixie"),
    ]
    for path, message in cases:
        with pytest.raises(overrides.ConfigFileError, match=message):
            overrides.load_config(str(path))
