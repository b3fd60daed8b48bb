"""Each row once a step (config.distinct_rows): the distinct rows and their slots are numpy's unique, the
rows read once equal the rows gathered one by one, and a step equals the former step (every entry on its
own) up to the order of float sums, with dense Adam, sparse_sgd and lazy_adam, on 1 and 4 devices,
replicated and sharded (and on 8 devices in a process of its own: dense Adam and lazy_adam sharded,
sparse_sgd replicated)."""

import os
import subprocess
import sys

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from conftest import ROOT, tiny_config, topic_files, xla_flags

from pixie_jax import experiment
from pixie_jax.data import training_data
from pixie_jax.training import rows, sparse

RATES = {"adam": 0.01, "sparse_sgd": 0.025, "lazy_adam": 0.01}


@pytest.mark.parametrize("size, n", [(50, 400), (10_000, 300)])  # the mask (4 n >= V) and the sort
def test_distinct_rows_are_numpys_unique_with_each_entrys_slot(size, n):
    rng = np.random.default_rng(0)
    index = (rng.zipf(1.3, n) % size).astype(np.int32)
    found, inverse = jax.jit(rows.distinct_rows, static_argnums=1)(jnp.asarray(index), size)
    found, inverse = np.asarray(found), np.asarray(inverse)
    unique = np.unique(index)
    assert found.shape == (min(size, n),)
    np.testing.assert_array_equal(found[: len(unique)], unique)
    assert (found[len(unique) :] == size).all()  # the padding slots: out of range
    np.testing.assert_array_equal(found[inverse], index)


@pytest.mark.parametrize("size, n", [(50, 400), (10_000, 300), (4, 12)])  # the mask, the sort, every row touched
def test_padding_entries_never_take_a_touched_rows_slot(size, n):
    """Entries naming ``size`` (padding: bags, rows another device owns) get the slot after the distinct
    rows, which holds ``size`` or lies past the slots: a row's summed gradient leaves them out."""
    from pixie_jax.training import sparse

    rng = np.random.default_rng(2)
    index = np.where(rng.random(n) < 0.25, size, rng.integers(0, size, n)).astype(np.int32)
    found, inverse = (np.asarray(a) for a in jax.jit(rows.distinct_rows, static_argnums=1)(jnp.asarray(index), size))
    real = index < size
    np.testing.assert_array_equal(found[inverse[real]], index[real])
    unique = np.unique(index[real])
    assert (inverse[~real] == len(unique)).all()
    assert len(unique) == len(found) or found[len(unique)] == size
    grads = rng.normal(size=(n, 2)).astype(np.float32)
    got_rows, sums = sparse.summed_row_gradients([jnp.asarray(index)], [jnp.asarray(grads)], size)
    expected = np.zeros((size, 2))
    np.add.at(expected, index[real], grads[real])
    keep = np.asarray(got_rows) < size
    np.testing.assert_allclose(np.asarray(sums)[keep], expected[np.asarray(got_rows)[keep]], rtol=1e-5, atol=1e-6)


def test_rows_read_once_are_the_rows_gathered_and_their_gradient_the_tables():
    rng = np.random.default_rng(1)
    params = {"e": jnp.asarray(rng.normal(size=(30, 4)), jnp.float32), "v": jnp.asarray(rng.normal(size=(30, 4)))}
    tree = {
        "e": {"centre": jnp.asarray(rng.integers(0, 30, 16))},
        "v": {"ctx": jnp.asarray(rng.integers(0, 30, (16, 3))), "neg": jnp.asarray(rng.integers(0, 5, (16, 3, 2)))},
    }
    weights = jax.tree.map(lambda i: jnp.asarray(rng.normal(size=(*i.shape, 4)), jnp.float32), tree)
    once, every = rows.gather_once(params, tree), rows.gather(params, tree)
    for a, b in zip(jax.tree.leaves(once), jax.tree.leaves(every), strict=True):
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b))

    def total(gather):
        return lambda p: sum(jnp.sum(r * w) for r, w in zip(jax.tree.leaves(gather(p, tree)), jax.tree.leaves(weights)))

    g_once, g_every = jax.grad(total(rows.gather_once))(params), jax.grad(total(rows.gather))(params)
    for k in params:
        np.testing.assert_allclose(np.asarray(g_once[k]), np.asarray(g_every[k]), rtol=1e-5, atol=1e-6)
    summed_rows, sums = sparse.summed_row_gradients(
        [jnp.ravel(tree["v"]["ctx"]), jnp.ravel(tree["v"]["neg"])],
        [weights["v"]["ctx"].reshape(-1, 4), weights["v"]["neg"].reshape(-1, 4)],
        30,
    )
    dense = np.zeros((31, 4), np.float32)
    np.add.at(dense, np.asarray(summed_rows), np.asarray(sums))
    np.testing.assert_allclose(dense[:30], np.asarray(g_every["v"]), rtol=1e-5, atol=1e-6)


@pytest.fixture(scope="module")
def pixie_data(tmp_path_factory):
    corpus, feats = topic_files(tmp_path_factory.mktemp("distinct"))
    cfg = tiny_config(corpus, features=feats)
    return cfg, training_data.prepare_data(cfg, log=lambda *_: None)


def one_chunk(cfg, data, devices, distinct: bool):
    cfg = cfg.copy_and_resolve_references()
    cfg.distinct_rows = "on" if distinct else "off"
    run = experiment.setup(cfg, data, devices)
    state, metrics = run.run_chunk(0, run.epoch_data(0))
    run.state = state
    return run.host_state().params, np.asarray(metrics["loss"])


@pytest.mark.parametrize(
    "optimizer, devices, shard",
    [
        ("adam", 1, "off"),
        ("sparse_sgd", 1, "off"),
        ("lazy_adam", 1, "off"),
        ("adam", 4, "off"),
        ("lazy_adam", 4, "off"),  # several devices' distinct rows repeat a row: summed again
        ("adam", 4, "on"),
        ("sparse_sgd", 4, "on"),
    ],
)
def test_a_step_with_each_row_once_equals_the_former_step(pixie_data, optimizer, devices, shard):
    base, data = pixie_data
    cfg = base.copy_and_resolve_references()
    cfg.optimizer.name, cfg.optimizer.learning_rate, cfg.shard_tables = optimizer, RATES[optimizer], shard
    once, loss_once = one_chunk(cfg, data, jax.devices()[:devices], True)
    every, loss_every = one_chunk(cfg, data, jax.devices()[:devices], False)
    np.testing.assert_allclose(loss_once, loss_every, rtol=1e-5)
    for a, b in zip(jax.tree.leaves(once), jax.tree.leaves(every), strict=True):
        np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=1e-4, atol=1e-6)
    assert max(np.abs(np.asarray(once[t]) - np.asarray(every[t])).max() for t in ("e", "v")) < 1e-5


EIGHT = """
import sys
sys.path.insert(0, {tests!r})
import jax, numpy as np
from conftest import tiny_config
from pixie_jax.data import training_data
from test_distinct_rows import one_chunk
for optimizer, rate, shard in (("adam", 0.01, "on"), ("lazy_adam", 0.01, "on"), ("sparse_sgd", 0.025, "off")):
    cfg = tiny_config({corpus!r}, features={feats!r}, shard_tables=shard)
    cfg.optimizer.name, cfg.optimizer.learning_rate = optimizer, rate
    data = training_data.prepare_data(cfg, log=lambda *_: None)
    once, _ = one_chunk(cfg, data, jax.devices(), True)
    every, _ = one_chunk(cfg, data, jax.devices(), False)
    gap = max(float(np.abs(np.asarray(a) - np.asarray(b)).max()) for a, b in zip(
        jax.tree.leaves(once), jax.tree.leaves(every)))
    print(optimizer, shard, len(jax.devices()), gap)
"""


def test_on_eight_devices_too(tmp_path):
    corpus, feats = topic_files(tmp_path)
    script = EIGHT.format(tests=str(ROOT / "tests"), corpus=str(corpus), feats=str(feats))
    done = subprocess.run(
        [sys.executable, "-c", script],
        env=dict(os.environ, XLA_FLAGS=xla_flags(8)),
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    lines = done.stdout.split("\n")
    gaps = [line.split() for line in lines if line.strip()]
    assert len(gaps) == 3 and all(g[2] == "8" and float(g[3]) < 1e-5 for g in gaps), done.stdout


def test_auto_reads_each_row_once_with_sharded_tables_and_lazy_adam_on_accelerators_only():
    assert rows.decide("auto", "cpu", False) == (False, "distinct_rows = auto: replicated tables, adam on a cpu device")
    assert rows.decide("auto", "gpu", False, "adam") == (
        False,
        "distinct_rows = auto: replicated tables, adam on a gpu device",
    )
    assert rows.decide("auto", "gpu", False, "lazy_adam")[0] and not rows.decide("auto", "cpu", False, "lazy_adam")[0]
    assert rows.decide("auto", "cpu", True)[0] and rows.decide("on", "cpu", False)[0]
    assert not rows.decide("off", "gpu", True)[0]
