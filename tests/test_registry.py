"""The model registry: a variant added in one file trains through the generic trainer."""
import json
import runpy

import jax.numpy as jnp
import numpy as np
import pytest
from conftest import ROOT, features_file, tiny_config, topic_corpus

from pixie_jax import checkpoints, experiment, registry, train, vocab


@pytest.fixture(scope="module")
def tanh_spec():
    return runpy.run_path(str(ROOT / "examples" / "tanh_fusion.py"))["SPEC"]


def test_documented_variant_trains_and_learns_its_fusion(corpus_file, tmp_path, tanh_spec):
    words = vocab.build_vocab(topic_corpus(), 1).words
    feats = features_file(tmp_path, [w for w in words if w.startswith(("ta", "tb"))])
    cfg = tiny_config(corpus_file, features=feats, epochs=0.5, **{"model.name": "pixie_tanh"})
    assert registry.get(cfg) is tanh_spec
    result = experiment.run(cfg, tmp_path / "run", log=lambda *a: None)
    assert set(result.arrays) == {"e", "v", "mu", "x", "s", "t", "mask"} and result.kinds == ("e", "s", "t")
    losses = [json.loads(line)["loss"] for line in (tmp_path / "run" / "metrics.jsonl").read_text().splitlines()]
    assert losses[-1] < losses[0]
    # the fusion's own parameter was trained: W moved away from the identity it started at
    manager = checkpoints.manager(tmp_path / "run" / "checkpoints", 2)
    run = train.setup(cfg, result.data)
    restored, _ = checkpoints.restore(manager, run.state)
    w = np.asarray(restored.params["fusion"]["w"])
    assert np.abs(w - np.eye(len(w))).max() > 1e-4


def test_registry_names_are_unique(tanh_spec):
    other = registry.ModelSpec("pixie_tanh", tanh_spec.build, tanh_spec.loss, tanh_spec.arrays, ("e",), ("e",))
    with pytest.raises(ValueError, match="already registered"):
        registry.register(other)
    assert registry.register(tanh_spec) is tanh_spec  # registering the same spec again is harmless
    with pytest.raises(ValueError, match="unknown model.name 'glove'; choose one of pixie, vsgns, vae, ivsgns"):
        registry.get(tiny_config("x", **{"model.name": "glove"}))


def test_fusion_is_additive_at_z_zero(tanh_spec):
    fusion = tanh_spec.build(tiny_config("x"), 5).fusion
    e = jnp.ones((2, 1, 8))
    np.testing.assert_array_equal(fusion.combine(fusion.init(8), e, jnp.zeros((2, 3, 8))), jnp.ones((2, 3, 8)))
