"""Sparse row updates: against hand-written numpy updates, dense Adam, and the dense gradient."""

import re

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest
from conftest import features_file, sample_batch, tiny_config, topic_corpus
from test_objective import _setup

from pixie_jax import experiment
from pixie_jax.data import training_data as data_lib
from pixie_jax.data import vocab
from pixie_jax.models import objective
from pixie_jax.training import rows as rows_lib
from pixie_jax.training import sampling, sparse


def _rows_and_grads(rng, vocab, n, k=3):
    return rng.integers(vocab, size=n).astype(np.int32), rng.normal(size=(n, k)).astype(np.float32)


def test_sparse_sgd_equals_a_numpy_update_with_duplicates_summed():
    rng = np.random.default_rng(0)
    table = rng.normal(size=(9, 3)).astype(np.float32)
    opt = sparse.sgd(optax.linear_schedule(0.5, 0.1, 4), scale=3.0)
    tables, state = {"e": jnp.asarray(table)}, opt.init({"e": table})
    expected = table.astype(np.float64)
    for step in range(3):
        idx, g = _rows_and_grads(rng, 9, 12)
        idx[:3] = idx[3]  # some rows four times
        tables, state = opt.update(
            tables,
            state,
            {"e": [jnp.asarray(idx[:5]), jnp.asarray(idx[5:])]},
            {"e": [jnp.asarray(g[:5]), jnp.asarray(g[5:])]},
        )
        rate = 0.5 + (0.1 - 0.5) * step / 4
        for i, row in zip(idx, g):
            expected[i] -= rate * 3.0 * row
    np.testing.assert_allclose(tables["e"], expected, rtol=1e-5, atol=1e-6)
    assert int(state.count) == 3


def _numpy_lazy_adam(table, steps, rate, b1=0.9, b2=0.999, eps=1e-8):
    table = table.astype(np.float64)
    m, u = np.zeros_like(table), np.zeros_like(table)
    for t, (idx, g) in enumerate(steps, start=1):
        summed = np.zeros_like(table)
        np.add.at(summed, idx, g)
        for r in np.unique(idx):
            m[r] = b1 * m[r] + (1 - b1) * summed[r]
            u[r] = b2 * u[r] + (1 - b2) * summed[r] ** 2
            table[r] -= rate * (m[r] / (1 - b1**t)) / (np.sqrt(u[r] / (1 - b2**t)) + eps)
    return table, m, u


@pytest.mark.parametrize("n", [5, 30], ids=["sorted-sums", "dense-sums"])
def test_lazy_adam_equals_a_numpy_lazy_adam(n):
    rng = np.random.default_rng(1)
    table = rng.normal(size=(40, 3)).astype(np.float32)
    steps = [_rows_and_grads(rng, 40, n) for _ in range(4)]
    opt = sparse.lazy_adam(0.05)
    tables, state = {"v": jnp.asarray(table)}, opt.init({"v": table})
    for idx, g in steps:
        tables, state = jax.jit(opt.update)(
            tables,
            state,
            {"v": [jnp.asarray(idx[:2]), jnp.asarray(idx[2:])]},
            {"v": [jnp.asarray(g[:2]), jnp.asarray(g[2:])]},
        )
    ref, m, u = _numpy_lazy_adam(table, steps, 0.05)
    np.testing.assert_allclose(tables["v"], ref, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(state.mu["v"], m, rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(state.nu["v"], u, rtol=1e-5, atol=1e-9)
    untouched = np.setdiff1d(np.arange(40), np.concatenate([idx for idx, _ in steps]))
    assert len(untouched) and np.array_equal(np.asarray(tables["v"])[untouched], table[untouched])


def test_lazy_adam_equals_dense_adam_when_every_row_is_touched():
    rng = np.random.default_rng(2)
    table = rng.normal(size=(7, 3)).astype(np.float32)
    lazy, dense = sparse.lazy_adam(0.1), optax.adam(0.1)
    tables, lazy_state = {"e": jnp.asarray(table)}, lazy.init({"e": table})
    params, dense_state = {"e": jnp.asarray(table)}, dense.init({"e": jnp.asarray(table)})
    for _ in range(5):
        idx = np.concatenate([rng.permutation(7), rng.integers(7, size=6)]).astype(np.int32)
        g = rng.normal(size=(13, 3)).astype(np.float32)
        tables, lazy_state = lazy.update(tables, lazy_state, {"e": [jnp.asarray(idx)]}, {"e": [jnp.asarray(g)]})
        grad = jnp.zeros((7, 3)).at[idx].add(g)
        updates, dense_state = dense.update({"e": grad}, dense_state, params)
        params = optax.apply_updates(params, updates)
    np.testing.assert_allclose(tables["e"], params["e"], rtol=1e-5, atol=1e-6)


def test_the_configs_adam_settings_reach_dense_and_lazy_adam():
    """optimizer.adam_b1 / adam_b2 / adam_eps: both table rules take the same step as a float64 Adam with them."""
    from pixie_jax.configs import pixie as pixie_config
    from pixie_jax.training import optimizers

    config = pixie_config.get_config()
    config.optimizer.update(
        name="lazy_adam", learning_rate=0.05, schedule="constant", adam_b1=0.5, adam_b2=0.9, adam_eps=1e-3
    )
    rng = np.random.default_rng(3)
    table = rng.normal(size=(6, 3)).astype(np.float32)
    steps = [(np.arange(6).astype(np.int32), rng.normal(size=(6, 3)).astype(np.float32)) for _ in range(3)]
    ref, _, _ = _numpy_lazy_adam(table, steps, 0.05, b1=0.5, b2=0.9, eps=1e-3)
    default, _, _ = _numpy_lazy_adam(table, steps, 0.05)
    assert not np.allclose(ref, default, atol=1e-4)
    lazy = optimizers.table_optimizer(config, total_steps=3, examples_per_step=1)
    config.optimizer.name = "adam"
    dense = optimizers.build_optimizer(config, total_steps=3, table_names=("e",))
    tables, lazy_state = {"e": jnp.asarray(table)}, lazy.init({"e": table})
    params = {"e": jnp.asarray(table)}
    dense_state = dense.init(params)
    for idx, g in steps:
        tables, lazy_state = lazy.update(tables, lazy_state, {"e": [jnp.asarray(idx)]}, {"e": [jnp.asarray(g)]})
        updates, dense_state = dense.update({"e": jnp.asarray(g)}, dense_state, params)
        params = optax.apply_updates(params, updates)
    np.testing.assert_allclose(tables["e"], ref, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(params["e"], ref, rtol=1e-5, atol=1e-6)


def test_lazy_tables_give_the_other_tables_dense_adam():
    """optimizer.lazy_tables = 'e': e moves at its touched rows only (a float64 lazy Adam); v takes optax's
    dense Adam of its scattered gradient, every row moving on its decaying moments."""
    from pixie_jax.configs import pixie as pixie_config
    from pixie_jax.training import optimizers

    config = pixie_config.get_config()
    config.optimizer.update(name="lazy_adam", learning_rate=0.05, schedule="constant", lazy_tables="e")
    rng = np.random.default_rng(4)
    table = rng.normal(size=(20, 3)).astype(np.float32)
    steps = [_rows_and_grads(rng, 20, 6) for _ in range(4)]
    opt = optimizers.table_optimizer(config, total_steps=4, examples_per_step=1, table_names=("e", "v"))
    tables = {"e": jnp.asarray(table), "v": jnp.asarray(table)}
    state = opt.init(tables)
    dense, params = optax.adam(0.05), {"v": jnp.asarray(table)}
    dense_state = dense.init(params)
    for idx, g in steps:
        parts = {"e": [jnp.asarray(idx)], "v": [jnp.asarray(idx)]}
        tables, state = jax.jit(opt.update)(tables, state, parts, {k: [jnp.asarray(g)] for k in parts})
        updates, dense_state = dense.update({"v": jnp.zeros((20, 3)).at[idx].add(g)}, dense_state, params)
        params = optax.apply_updates(params, updates)
    lazy_ref, _, _ = _numpy_lazy_adam(table, steps, 0.05)
    np.testing.assert_allclose(tables["e"], lazy_ref, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(tables["v"], params["v"], rtol=1e-5, atol=1e-6)
    untouched = np.setdiff1d(np.arange(20), np.concatenate([idx for idx, _ in steps]))
    assert len(untouched) and np.array_equal(np.asarray(tables["e"])[untouched], table[untouched])
    assert not np.allclose(tables["v"], lazy_ref, atol=1e-3)  # rows between their touches moved on


@pytest.mark.parametrize("name", ["adam", "lazy_adam", "sparse_sgd"])
def test_table_rates_scale_one_tables_step(name):
    """optimizer.table_rates = 'v:0.25': v's first step is a quarter of e's (the same gradient), under every rule."""
    from pixie_jax.configs import pixie as pixie_config
    from pixie_jax.training import optimizers

    config = pixie_config.get_config()
    config.optimizer.update(name=name, learning_rate=0.05, table_rates="v:0.25")
    table = np.random.default_rng(5).normal(size=(6, 3)).astype(np.float32)
    idx, g = np.array([0, 2, 2, 5], np.int32), np.random.default_rng(6).normal(size=(4, 3)).astype(np.float32)
    tables = {"e": jnp.asarray(table), "v": jnp.asarray(table)}
    if name == "adam":
        opt = optimizers.build_optimizer(config, total_steps=10, table_names=("e", "v"))
        grad = jnp.zeros((6, 3)).at[idx].add(g)
        updates, _ = opt.update({"e": grad, "v": grad}, opt.init(tables), tables)
        new = optax.apply_updates(tables, updates)
    else:
        opt = optimizers.table_optimizer(config, total_steps=10, examples_per_step=2, table_names=("e", "v"))
        parts = {"e": [jnp.asarray(idx)], "v": [jnp.asarray(idx)]}
        new, _ = opt.update(tables, opt.init(tables), parts, {k: [jnp.asarray(g)] for k in parts})
    step_e, step_v = np.asarray(new["e"]) - table, np.asarray(new["v"]) - table
    assert np.abs(step_e).max() > 1e-3
    np.testing.assert_allclose(step_v, 0.25 * step_e, rtol=1e-4, atol=1e-7)


@pytest.mark.parametrize(
    "key,value,message",
    [
        ("table_rates", "x:2", "'x:2' is not NAME:MULTIPLE with NAME one of the row tables e, v"),
        ("table_rates", "v", "'v' is not NAME:MULTIPLE"),
        ("table_rates", "v:0", "'v:0' must give a positive finite multiple"),
        ("table_rates", "v:fast", "'v:fast' must give a positive finite multiple"),
        ("lazy_tables", "v:2", "'v:2' is not NAME with NAME one of the row tables e, v"),
        ("lazy_tables", "e", "optimizer.lazy_tables = 'e' applies to optimizer.name = 'lazy_adam' only"),
    ],
)
def test_per_table_settings_refuse_what_they_cannot_use(key, value, message):
    from pixie_jax.configs import pixie as pixie_config
    from pixie_jax.errors import InputError
    from pixie_jax.training import optimizers

    config = pixie_config.get_config()
    config.optimizer[key] = value
    with pytest.raises(InputError, match=re.escape(message)):
        optimizers.build_optimizer(config, total_steps=10, table_names=("e", "v"))


@pytest.mark.parametrize("group,packed", [(1, False), (2, False), (1, True), (8, True)])
def test_row_gradients_scattered_are_the_dense_gradient(group, packed):
    pix, params, _, feats, tables, epoch, _, lam = _setup()
    cfg = sampling.SamplerConfig(
        window=3,
        contexts_per_centre=2,
        negatives=3,
        negative_group=group,
        text_centres=4,
        visual_centres=2,
        visual_words=2,
        latent=4,
        visual_rows=2,
        enumerate_window=packed,
    )
    batch = sample_batch(jax.random.key(4), epoch, tables, cfg)
    dense = jax.jit(jax.grad(lambda p: objective.batch_loss(pix, p, batch, feats, 2, lam)[0]))(params)
    tables_, networks = rows_lib.split(params, objective.TABLES)
    rows = objective.gather_rows(tables_, batch)
    g_net, g_rows = jax.jit(
        jax.grad(lambda n, r: objective.loss_from_rows(pix, n, r, batch, feats, 2, lam)[0], argnums=(0, 1))
    )(networks, rows)
    idx, flat = rows_lib.flat_indices(objective.row_index_tree(batch)), rows_lib.flat_grads(g_rows)
    for name in ("e", "v"):
        assert [i.shape[0] for i in idx[name]] == [g.shape[0] for g in flat[name]]
        scattered = jnp.zeros_like(params[name]).at[jnp.concatenate(idx[name])].add(jnp.concatenate(flat[name]))
        np.testing.assert_allclose(scattered, dense[name], rtol=1e-5, atol=1e-7)
    for a, b in zip(jax.tree.leaves(g_net), jax.tree.leaves({k: dense[k] for k in networks})):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-7)


def _topic_gap(params, words):
    e = np.asarray(params["e"])
    e = e / np.linalg.norm(e, axis=1, keepdims=True)
    topics = np.array([w[:2] for w in words])
    same = (topics[:, None] == topics[None, :]) & ~np.eye(len(words), dtype=bool)
    sims = e @ e.T
    return sims[same].mean() - sims[topics[:, None] != topics[None, :]].mean()


@pytest.mark.parametrize("name,rate", [("sparse_sgd", 0.05), ("lazy_adam", 0.01)])
def test_sparse_optimizers_learn_topics(corpus_file, tmp_path, name, rate):
    cfg = tiny_config(corpus_file, epochs=3.0, **{"optimizer.name": name, "optimizer.learning_rate": rate})
    params, data = experiment.train(cfg, tmp_path / "run", log=lambda *a: None, devices=jax.devices()[:1])
    assert _topic_gap(params, data.vocab.words) > 0.3


@pytest.mark.parametrize(
    "name,settings",
    [
        ("sparse_sgd", {}),
        ("lazy_adam", {}),
        ("lazy_adam", {"optimizer.lazy_tables": "e", "optimizer.table_rates": "v:0.5"}),
    ],
    ids=["sparse_sgd", "lazy_adam", "lazy_adam-e-only"],
)
def test_sparse_four_devices_match_one(corpus_file, tmp_path, name, settings):
    words = vocab.build_vocab(topic_corpus(), 1).words
    feats = features_file(tmp_path, [w for w in words if w.endswith(("wa", "wb", "wc"))])
    cfg = tiny_config(
        corpus_file,
        features=feats,
        epochs=0.3,
        **{"sampler.negative_group": 16, "optimizer.name": name, "optimizer.learning_rate": 0.02, **settings},
    )
    one, _ = experiment.train(cfg, tmp_path / "one", log=lambda *a: None, devices=jax.devices()[:1])
    four, _ = experiment.train(cfg, tmp_path / "four", log=lambda *a: None, devices=jax.devices()[:4])
    # dense Adam (v with lazy_tables = 'e') scales a rounding-sized gradient up to a step: a looser atol
    atol = 1e-5 if settings else 2e-6
    for a, b in zip(jax.tree.leaves(one), jax.tree.leaves(four)):
        np.testing.assert_allclose(a, b, rtol=2e-4, atol=atol)
    e0 = experiment.setup(cfg, data_lib.prepare_data(cfg, log=lambda *a: None)).state.params["e"]
    assert not np.allclose(one["e"], e0) and np.abs(np.asarray(one["encoder"]["mu"]["kernel"])).sum() > 0
