"""The command-line tools, end to end."""

import subprocess
import sys

import numpy as np
from conftest import ROOT

TRAIN = [sys.executable, str(ROOT / "bin" / "train")]


def test_default_config_on_bundled_data_writes_everything(tmp_path):
    out = subprocess.run(
        TRAIN
        + [
            "--config",
            str(ROOT / "configs" / "pixie.py"),
            f"--workdir={tmp_path}",
            "--config.epochs=0.01",
            "--config.progress=False",
        ],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert out.returncode == 0, out.stderr[-2000:]
    assert "1,046 of 21,900 vocabulary words" in out.stdout
    table = out.stdout[out.stdout.index("benchmark") :]
    assert "EN-MEN-TR-3k" in table and "t [visual]" in table
    for name in ("embeddings.npz", "embeddings.txt", "metrics.jsonl", "similarity.json", "vocab.tsv"):
        assert (tmp_path / name).exists(), name
    z = np.load(tmp_path / "embeddings.npz")
    assert z["t"].shape == (21900, 200) and z["s"].shape == (21900, 100) and int(z["mask"].sum()) == 1046
    np.testing.assert_allclose(z["s"], z["e"] + z["mask"][:, None] * z["mu"], rtol=1e-6)
    from gensim.models import KeyedVectors

    kv = KeyedVectors.load_word2vec_format(str(tmp_path / "embeddings.txt"))
    assert len(kv.index_to_key) == 21900 and kv.vector_size == 200
    np.testing.assert_allclose(kv["dog"], z["t"][list(z["words"]).index("dog")], rtol=1e-5)


def test_unknown_keys_and_bad_values_are_rejected(tmp_path):
    def refused(override):
        out = subprocess.run(
            TRAIN + ["--config", str(ROOT / "configs" / "sgns.py"), f"--workdir={tmp_path}", override],
            capture_output=True,
            text=True,
        )
        assert out.returncode != 0
        return out.stderr

    err = refused("--config.sampler.negativs=3")
    assert "has no key 'sampler.negativs'" in err and "sampler.negatives" in err
    assert "--config.sampler.window=wide" in refused("--config.sampler.window=wide")
    assert "optimizer.name = 'adamax' (must be one of 'adam', " in refused("--config.optimizer.name=adamax")


def test_an_interruption_before_training_names_the_checkpoint_left_or_none(tmp_path):
    from pixie_jax.cli import processes

    assert processes.interrupted(tmp_path / "run") == (
        "interrupted before any checkpoint was written; run the same command to start again"
    )
    for step in ("100", "2500", "tmp"):
        (tmp_path / "run" / "checkpoints" / step).mkdir(parents=True)
    assert "the checkpoint of step 2,500 in" in processes.interrupted(tmp_path / "run")


def test_a_built_wheel_ships_the_configs_and_finds_them_by_name_from_any_folder(tmp_path):
    import os

    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(tmp_path / "wheel"), str(ROOT)],
        check=True,
        capture_output=True,
        timeout=600,
    )
    wheel = next((tmp_path / "wheel").glob("pixie_jax-*.whl"))
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--target", str(tmp_path / "site"), str(wheel)],
        check=True,
        capture_output=True,
        timeout=600,
    )
    env = dict(os.environ, PYTHONPATH=str(tmp_path / "site"))
    out = subprocess.run(
        [
            sys.executable,
            "-c",
            "import pixie_jax, sys; from pixie_jax.cli import train_main; "
            "print(pixie_jax.__file__, flush=True); train_main(sys.argv[1:])",
            "--config",
            "paper",
            "--config.epochs=0",
        ],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert out.stdout.startswith(str(tmp_path / "site")), out.stdout + out.stderr
    assert out.returncode == 1 and "epochs = 0.0 (must be > 0)" in out.stderr, out.stderr


def test_only_the_projects_own_errors_become_one_line_messages():
    """An InputError raised by the project is a one-line message; a ValueError raised inside jax (a bug, or
    a case the project does not check) is re-raised by the entry point's guard with its traceback."""
    import jax.numpy as jnp
    import pytest

    from pixie_jax import cli
    from pixie_jax.cli import running
    from pixie_jax.errors import InputError
    from pixie_jax.training import sampling

    def caught(fn):
        try:
            fn()
        except Exception as err:
            return err

    ours = caught(lambda: sampling.SamplerConfig(window=3, text_centres=3, enumerate_window=True))
    assert isinstance(ours, InputError)
    with pytest.raises(SystemExit, match="^error: text_centres .3. must be a multiple of 2"):
        cli.command(lambda argv=None: sampling.SamplerConfig(window=3, text_centres=3, enumerate_window=True))()
    theirs = caught(lambda: jnp.ones(6).reshape(4, 4))
    assert isinstance(theirs, (ValueError, TypeError)) and not running._expected(theirs)
    with pytest.raises(SystemExit) as exit_info:
        cli.command(lambda argv=None: jnp.ones(6).reshape(4, 4))()
    assert exit_info.value.code == cli.BUG
