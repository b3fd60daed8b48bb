"""examples/cbow.py, a model of another objective trained from outside the package: its loss against an
enumeration, topics learned, dense Adam and sparse_sgd, 4 devices with sharded tables as one device, and
the trainer counting its centres."""

import json
import sys

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from conftest import ROOT, tiny_config

from pixie_jax import experiment

sys.path.insert(0, str(ROOT / "examples"))
import cbow

CBOW = str(ROOT / "examples" / "cbow.py")


def quiet(*args, **kwargs):
    pass


def test_the_loss_is_the_mean_context_predicting_its_centre_by_enumeration():
    """Packed rows of L = 1 (S = 4 slots, two centres a row): each centre's h is the mean of its valid
    context rows, scored against its own row of v and the negatives of its first slot."""
    rng = np.random.default_rng(0)
    R, S, N, K = 3, 4, 2, 5
    owner = np.array([[0, 0, 1, 1], [0, 0, 1, 1], [0, 1, 1, 1]], np.int32)
    valid = np.array([[1, 1, 1, 0], [0, 0, 1, 1], [1, 0, 1, 1]], np.float32)
    stratum = {
        "words": jnp.arange(2 * R),
        "contexts": jnp.asarray(rng.integers(0, 9, (R, S))),
        "owner": jnp.asarray(owner),
        "valid": jnp.asarray(valid),
        "negatives": jnp.asarray(rng.integers(0, 9, (R, S, N))),
        "weight": jnp.full((2 * R,), 0.1, jnp.float32),
    }
    e_rows, v_rows = rng.normal(size=(R, S, K)), rng.normal(size=(2 * R, 1 + N, K))
    gathered = {"e": {"text": jnp.asarray(e_rows)}, "v": {"text": jnp.asarray(v_rows)}}
    got, _ = cbow.loss(2.0, {}, gathered, {"text": stratum}, None)
    expected = 0.0
    for b in range(2 * R):
        r, who = divmod(b, 2)
        mine = [s for s in range(S) if owner[r, s] == who and valid[r, s]]
        if not mine:
            continue  # a centre without a context adds nothing
        h = e_rows[r, mine].mean(0)
        logits = v_rows[b] @ h
        expected += 0.1 * 2.0 * (np.log1p(np.exp(-logits[0])) + np.log1p(np.exp(logits[1:])).sum())
    np.testing.assert_allclose(float(got), expected, rtol=1e-5)
    index = cbow.row_index({"text": stratum})
    np.testing.assert_array_equal(index["v"]["text"][:, 0], np.arange(2 * R))
    np.testing.assert_array_equal(index["v"]["text"][1::2, 1:], stratum["negatives"][:, -1])  # the second centre's


def cbow_config(corpus, **overrides):
    return tiny_config(corpus, config="sgns", **{"model.name": CBOW, **overrides})


def test_cbow_learns_topics_and_the_trainer_counts_its_centres(corpus_file, tmp_path):
    cfg = cbow_config(corpus_file, epochs=3.0)
    lines = []
    params, data = experiment.train(cfg, tmp_path / "run", log=lines.append, devices=jax.devices()[:1])
    e = np.asarray(params["e"])
    e = e / np.linalg.norm(e, axis=1, keepdims=True)
    topics = np.array([w[:2] for w in data.vocab.words])
    same, other = topics[:, None] == topics[None, :], ~np.eye(len(topics), dtype=bool)
    within, between = (e @ e.T)[same & other].mean(), (e @ e.T)[~same].mean()
    assert within > between + 0.3, (within, between)
    assert any(line.startswith("training cbow: ") and " of 64 centres " in line for line in lines), lines
    records = [json.loads(x) for x in (tmp_path / "run" / "metrics.jsonl").read_text().splitlines()]
    assert records[-1]["loss"] < records[0]["loss"] and records[-1]["centres_per_s"] > 0


@pytest.mark.parametrize("optimizer", ["adam", "sparse_sgd"])
def test_cbow_on_four_devices_with_sharded_tables_trains_as_one(corpus_file, tmp_path, optimizer):
    assert len(jax.devices()) >= 4, "conftest asks XLA for 4 host devices"
    cfg = cbow_config(corpus_file, epochs=0.3, **{"optimizer.name": optimizer})
    one, _ = experiment.train(cfg, tmp_path / "one", log=quiet, devices=jax.devices()[:1])
    cfg.shard_tables = "on"
    four, _ = experiment.train(cfg, tmp_path / "four", log=quiet, devices=jax.devices()[:4])
    start = cbow.Cbow(len(one["e"]), 8).init(jax.random.key(0))["v"]
    assert np.abs(np.asarray(one["v"]) - np.asarray(start)).max() > 1e-3  # v learned from its zero start
    for a, b in zip(jax.tree.leaves(one), jax.tree.leaves(four)):  # float sums in another order: Adam's
        np.testing.assert_allclose(a, b, rtol=2e-4, atol=2e-5)  # normalised step carries them to about 1e-5
