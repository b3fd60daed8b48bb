"""The model registry: a variant added in one file trains through the generic trainer."""

import dataclasses
import json
import subprocess
import sys

import jax.numpy as jnp
import numpy as np
import pytest
from conftest import ROOT, features_file, tiny_config, topic_corpus

from pixie_jax import experiment
from pixie_jax.data import training_data as data_lib
from pixie_jax.data import vocab
from pixie_jax.models import registry
from pixie_jax.training import checkpoints

TANH_FILE = str(ROOT / "examples" / "tanh_fusion.py")


@pytest.fixture(scope="module")
def tanh_spec():
    """The example's spec, loaded as bin/train loads it: config.model.name is the file's path."""
    return registry.get(tiny_config("x", **{"model.name": TANH_FILE}))


def train_example(config_file, tmp_path, *args):
    """bin/train with the config ``examples/<config_file>`` into ``tmp_path``/run, from ``tmp_path``."""
    command = [sys.executable, str(ROOT / "bin" / "train"), "--config", str(ROOT / "examples" / config_file)]
    return subprocess.run(
        [*command, f"--workdir={tmp_path / 'run'}", *args], capture_output=True, text=True, cwd=tmp_path
    )


def tiny_args(corpus, *extra):
    """bin/train's overrides that make a run a few seconds on the topic corpus."""
    return [
        f"--config.corpus={corpus}",
        "--config.min_count=1",
        "--config.model.dim=8",
        "--config.sampler.window=3",
        "--config.sampler.negatives=4",
        "--config.sampler.text_centres=64",
        "--config.steps_per_call=5",
        "--config.checkpoint_every=1000",
        "--config.progress=False",
        "--config.benchmarks=",
        *extra,
    ]


def test_documented_variant_trains_from_the_command_line_and_learns_its_fusion(corpus_file, tmp_path, tanh_spec):
    """examples/tanh_fusion.py and its config are all it takes: bin/train loads the model's file
    (config.model.name is its path) and trains it through the generic trainer."""
    words = vocab.build_vocab(topic_corpus(), 1).words
    feats = features_file(tmp_path, [w for w in words if w.startswith(("ta", "tb"))])
    tiny = tiny_args(
        corpus_file,
        "--config.model.hidden=16",
        "--config.model.features=6",
        "--config.sampler.visual_centres=16",
        "--config.sampler.visual_words=8",
        "--config.checkpoint_every=10",
        "--config.epochs=0.5",
    )
    done = train_example("tanh_fusion_config.py", tmp_path, f"--config.features={feats}", *tiny)
    assert done.returncode == 0, done.stderr
    assert "training pixie_tanh:" in done.stdout + done.stderr
    z = np.load(tmp_path / "run" / "embeddings.npz")
    assert {"e", "v", "mu", "x", "s", "t"} <= set(z.files)
    losses = [json.loads(line)["loss"] for line in (tmp_path / "run" / "metrics.jsonl").read_text().splitlines()]
    assert losses[-1] < losses[0]
    # the same file named in a config in this process gives the same spec, once registered
    cfg = tiny_config(corpus_file, features=feats, **{"model.name": TANH_FILE})
    assert tanh_spec.name == "pixie_tanh" and registry.get(cfg) is tanh_spec
    assert registry.MODELS["pixie_tanh"] is tanh_spec
    # the fusion's own parameter was trained: W moved away from the identity it started at
    manager = checkpoints.manager(tmp_path / "run" / "checkpoints", 2)
    run = experiment.setup(cfg, data_lib.prepare_data(cfg, log=lambda *a: None))
    restored, _ = checkpoints.restore(manager, run.state)
    w = np.asarray(restored.params["fusion"]["w"])
    assert np.abs(w - np.eye(len(w))).max() > 1e-4


def test_a_model_name_that_is_no_model_says_why(tmp_path):
    with pytest.raises(ValueError, match=r"model.name '.*nowhere.py': no such file"):
        registry.get(tiny_config("x", **{"model.name": str(tmp_path / "nowhere.py")}))
    (tmp_path / "plain.py").write_text("X = 1\n")
    with pytest.raises(
        ValueError, match=r"model.name '.*plain.py': defines no SPEC \(a pixie_jax.models.spec.ModelSpec"
    ):
        registry.get(tiny_config("x", **{"model.name": str(tmp_path / "plain.py")}))
    with pytest.raises(ValueError, match=r"model.name 'no_such_pkg.model': no module 'no_such_pkg' to import"):
        registry.get(tiny_config("x", **{"model.name": "no_such_pkg.model"}))


def test_registry_names_are_unique(tanh_spec):
    other = dataclasses.replace(tanh_spec, kinds=("e",))
    with pytest.raises(ValueError, match="already registered"):
        registry.register(other)
    assert registry.register(tanh_spec) is tanh_spec  # registering the same spec again is harmless
    with pytest.raises(
        ValueError,
        match="unknown model.name 'glove'; choose one of pixie, vsgns, vae, ivsgns, .*or give a model's own file",
    ):
        registry.get(tiny_config("x", **{"model.name": "glove"}))


def test_fusion_is_additive_at_z_zero(tanh_spec):
    fusion = tanh_spec.build(tiny_config("x"), 5).fusion
    e = jnp.ones((2, 1, 8))
    np.testing.assert_array_equal(fusion.combine(fusion.init(8), e, jnp.zeros((2, 3, 8))), jnp.ones((2, 3, 8)))


def test_a_model_module_holds_its_own_settings_and_the_configs_take_them_from_it():
    from pixie_jax import overrides

    for name in ("vsgns", "vae", "ivsgns"):
        config = registry.configure(overrides.load_config("pixie"), name)
        spec = registry.get(config)
        assert config[name].to_dict() == spec.settings() and config.embedding == spec.embedding
        assert config.to_dict() == overrides.load_config(name).to_dict()  # configs/<name>.py is just this
    assert overrides.load_config("vsgns").vsgns.negatives == 20 and overrides.load_config("vae").vae.steps == 4000
    nonlinear = overrides.load_config("ivsgns_nonlinear")
    assert nonlinear.ivsgns.map == "nonlinear" and nonlinear.ivsgns.steps == 2000
    sgns = registry.configure(overrides.load_config("sgns"), "pixie")  # no settings of its own: nothing added
    assert sgns.to_dict() == overrides.load_config("sgns").to_dict()
    with pytest.raises(ValueError, match="unknown model.name 'vsgn'"):
        registry.configure(overrides.load_config("pixie"), "vsgn")


@pytest.mark.parametrize(
    "optimizer",
    [["--config.optimizer.name=adam"], ["--config.optimizer.name=sparse_sgd", "--config.optimizer.learning_rate=0.05"]],
)
def test_sgns_with_one_tied_table_is_one_file_and_one_config(corpus_file, tmp_path, optimizer):
    """examples/tied_sgns.py declares one row table; dense Adam and row-sparse SGD train it alike, and the
    tied vectors learn the corpus's topics."""
    done = train_example("tied_sgns_config.py", tmp_path, *tiny_args(corpus_file, "--config.epochs=2", *optimizer))
    assert done.returncode == 0, done.stderr
    assert "training tied_sgns:" in done.stdout
    z = np.load(tmp_path / "run" / "embeddings.npz")
    assert set(z.files) == {"words", "mask", "e"}
    e = z["e"] / np.linalg.norm(z["e"], axis=1, keepdims=True)
    topics = np.array([w[:2] for w in z["words"]])
    same, other = topics[:, None] == topics[None, :], topics[:, None] != topics[None, :]
    sims = e @ e.T
    assert sims[same & ~np.eye(len(e), dtype=bool)].mean() > sims[other].mean() + 0.1
    losses = [json.loads(line)["loss"] for line in (tmp_path / "run" / "metrics.jsonl").read_text().splitlines()]
    assert losses[-1] < losses[0]


def test_pixie_with_relu_units_is_one_replace_of_its_spec(corpus_file, tmp_path):
    """examples/relu_encoder.py: no copied encoder; the trained encoder's hidden units are ReLUs."""
    import jax

    words = vocab.build_vocab(topic_corpus(), 1).words
    feats = features_file(tmp_path, [w for w in words if w.startswith(("ta", "tb"))])
    relu = str(ROOT / "examples" / "relu_encoder.py")
    cfg = tiny_config(corpus_file, features=feats, **{"model.name": relu, "epochs": 0.3})
    spec = registry.get(cfg)
    assert spec.name == "pixie_relu" and spec.bind is registry.MODELS["pixie"].bind
    model = spec.build(cfg, len(words))
    assert model.activation is jax.nn.relu and model.encoder.activation is jax.nn.relu
    params = model.init(jax.random.key(0))
    x = jnp.asarray(np.random.default_rng(0).normal(size=(3, 6)), jnp.float32)
    hidden = params["encoder"]["hidden"]
    h = jax.nn.relu(x @ hidden["kernel"] + hidden["bias"])
    mu = h @ params["encoder"]["mu"]["kernel"] + params["encoder"]["mu"]["bias"]
    np.testing.assert_allclose(model.encode(params, x)[0], mu, rtol=1e-5, atol=1e-6)
    trained, _ = experiment.train(cfg, tmp_path / "run", log=lambda *a: None)
    assert np.abs(np.asarray(trained["encoder"]["hidden"]["kernel"]) - np.asarray(hidden["kernel"])).max() > 1e-4


def test_one_model_file_named_by_a_relative_and_an_absolute_path_is_one_model(tmp_path, monkeypatch):
    monkeypatch.chdir(ROOT)
    relative = registry.get(tiny_config("x", **{"model.name": "examples/tanh_fusion.py"}))
    absolute = registry.get(tiny_config("x", **{"model.name": TANH_FILE}))
    assert relative is absolute


def test_each_models_own_keys_are_checked_by_its_module(tmp_path):
    """PIXIE's network sizes are PIXIE's rules (pixie_jax/models/pixie.py), not the global ones: a model
    without an encoder is not refused for them."""
    from pixie_jax import experiment, validation

    cfg = tiny_config(tmp_path / "corpus.txt", **{"model.hidden": 0, "visual_weight": -1.0})
    with pytest.raises(validation.ConfigError, match=r"model.hidden = 0 \(must be >= 1\); visual_weight = -1.0"):
        experiment.check(cfg)
    cfg.model.name, cfg.embedding = str(ROOT / "examples" / "tied_sgns.py"), "e"
    assert experiment.check(cfg).name == "tied_sgns"


def test_each_model_binds_its_own_quantities(corpus_file, tmp_path):
    """ModelSpec has no field for one model: lambda is PIXIE's (its log note), V-SGNS's loss reads its
    projected features, the VAE's length is config.vae.steps; a composed model (IV-SGNS) trains its base
    on the text alone, also through experiment.train."""
    words = vocab.build_vocab(topic_corpus(), 1).words
    feats = features_file(tmp_path, [w for w in words if w.startswith(("ta", "tb"))])
    bound = {}
    for name in ("pixie", "vsgns", "vae", "ivsgns"):
        cfg = tiny_config(corpus_file, feats, config=name, steps_per_call=10)
        if name == "vae":
            cfg.vae.steps = 43
        data = data_lib.prepare_data(cfg, log=lambda *a: None)
        bound[name] = experiment.trainable(experiment.sized_batch(cfg, data), data)
    assert bound["pixie"].note.startswith("lambda = ") and bound["vsgns"].note == bound["vae"].note == ""
    assert bound["pixie"].features.shape == (data.n_visual, 6) and data.n_visual > 0
    assert bound["vsgns"].features.shape == (data.n_visual, 8)  # x~: the K-dim principal projection
    np.testing.assert_allclose(bound["vsgns"].features.mean(axis=0), 0, atol=1e-5)  # centred
    assert bound["vae"].total_steps == 50 and bound["vae"].length_keys == ("vae.steps",)  # whole calls of 10
    assert bound["ivsgns"].name == "ivsgns" and bound["ivsgns"].model.__class__.__name__ == "Pixie"  # its base
    cfg = tiny_config(corpus_file, feats, config="ivsgns", epochs=0.2)
    params, data = experiment.train(cfg, tmp_path / "iv", log=lambda *a: None)
    assert data.n_visual == 0 and "encoder" in params


def test_a_model_files_own_settings_become_config_keys_with_their_defaults(tmp_path):
    """--config.<model>.<key> reaches the settings of a model loaded from a path, given before or after
    --config.model.name, with no section written in the config; its rules check them."""
    from pixie_jax.cli import config_parser, parse_config

    model_file = tmp_path / "scaled_tied.py"
    model_file.write_text(
        "import dataclasses, sys\n"
        f"sys.path.insert(0, {str(ROOT / 'examples')!r})\n"
        "import tied_sgns\n"
        "SPEC = dataclasses.replace(tied_sgns.SPEC, name='scaled_tied', settings=lambda: {'scale': 1.0, 'rows': 4},\n"
        "                           rules=(('scaled_tied.scale', 0, False),))\n"
    )
    parser = config_parser("test", "a config", "runs/x")
    config_file = str(ROOT / "configs" / "sgns.py")
    _, config = parse_config(
        parser, ["--config", config_file, "--config.scaled_tied.scale=2.5", f"--config.model.name={model_file}"]
    )
    assert config.scaled_tied.scale == 2.5 and config.scaled_tied.rows == 4  # given, and its default
    _, config = parse_config(
        parser, ["--config", config_file, f"--config.model.name={model_file}", "--config.scaled_tied.scale=-1"]
    )
    with pytest.raises(Exception, match=r"scaled_tied.scale = -1.0 \(must be > 0\)"):
        experiment.check(config)
    with pytest.raises(SystemExit, match="has no key 'scaled_tied.scale'"):  # without the model, no such section
        parse_config(parser, ["--config", config_file, "--config.scaled_tied.scale=2"])


def test_a_config_built_in_python_gets_its_models_settings_when_checked(tmp_path):
    """Without the command line: a config naming a model file whose settings it lacks gets their defaults
    when the experiment checks it, so the model can read them."""
    from pixie_jax import overrides

    model_file = tmp_path / "scaled_tied2.py"
    model_file.write_text(
        "import dataclasses, sys\n"
        f"sys.path.insert(0, {str(ROOT / 'examples')!r})\n"
        "import tied_sgns\n"
        "SPEC = dataclasses.replace(tied_sgns.SPEC, name='scaled_tied2', settings=lambda: {'scale': 1.5})\n"
    )
    config = overrides.apply_overrides(overrides.load_config("sgns"), [f"model.name={model_file}"])
    assert "scaled_tied2" not in config
    assert experiment.check(config).name == "scaled_tied2" and config.scaled_tied2.scale == 1.5
