"""The paper's competing models: V-SGNS, VAE, IV-SGNS and concatenations, checked against
independent references and trained end to end on small generated data."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from conftest import features_file, tiny_config, topic_corpus

from pixie_jax import experiment
from pixie_jax.core import vectors as vectors_lib
from pixie_jax.data import vocab
from pixie_jax.data.feature_files import WordFeatures, save_word_features
from pixie_jax.evaluate import kinds as kinds_lib
from pixie_jax.models import ivsgns, registry, vsgns
from pixie_jax.training import sampling
from pixie_jax.training.step import subsample_epoch as subsample  # compiled, as the trainer runs it


def quiet(*args, **kwargs):
    pass


def crossing_features(tmp_path, dim=6, seed=0):
    """Features of the words of topics a and b in two clusters that cut across the topics:
    words whose last letter is in a-e against f-j. Text alone cannot tell those clusters apart."""
    words = [w for w in vocab.build_vocab(topic_corpus(), 1).words if w[:2] in ("ta", "tb")]
    rng = np.random.default_rng(seed)
    rows = np.stack([rng.normal(loc=(2.0 if w[-1] <= "e" else -2.0), size=dim) for w in words])
    path = tmp_path / "crossing.npz"
    save_word_features(path, WordFeatures(tuple(words), rows.astype(np.float32)))
    return path, words


def cross_topic_similarity(arrays, words, kind):
    """Mean cosine between words of different topics in the same visual cluster, minus that between clusters."""
    vecs = vectors_lib.l2_normalise(kinds_lib.vectors(arrays, kind))
    index = {w: i for i, w in enumerate(arrays["words"])}
    same, other = [], []
    for a in words:
        for b in words:
            if a[:2] < b[:2]:
                cos = float(vecs[index[a]] @ vecs[index[b]])
                (same if (a[-1] <= "e") == (b[-1] <= "e") else other).append(cos)
    return np.mean(same) - np.mean(other)


# ---------------------------------------------------------------- V-SGNS
def test_principal_projection_matches_an_eigendecomposition():
    x = np.random.default_rng(0).normal(size=(40, 7)) @ np.diag([5, 4, 3, 2, 1, 0.5, 0.1])
    got = vsgns.principal_projection(x, 3)
    cov = np.cov(x.T, bias=True)
    vals, vecs = np.linalg.eigh(cov)
    top = vecs[:, np.argsort(vals)[::-1][:3]]
    ref = (x - x.mean(0)) @ top
    np.testing.assert_allclose(np.abs(got), np.abs(ref), rtol=1e-4, atol=1e-4)
    # with every direction kept the projection is a rotation: centred inner products are preserved
    full = vsgns.principal_projection(x, 10)
    c = x - x.mean(0)
    np.testing.assert_allclose(full @ full.T, c @ c.T, rtol=1e-4, atol=1e-3)
    assert full.shape == (40, 10) and np.all(full[:, 7:] == 0)


def test_margin_terms_match_a_loop():
    rng = np.random.default_rng(1)
    u, t, neg = rng.normal(size=(5, 4)), rng.normal(size=(5, 4)), rng.normal(size=(5, 3, 4))
    cos = lambda a, b: a @ b / np.linalg.norm(a) / np.linalg.norm(b)  # noqa: E731
    ref = [sum(max(0.0, 0.5 - cos(u[b], t[b]) + cos(u[b], neg[b, k])) for k in range(3)) for b in range(5)]
    np.testing.assert_allclose(
        vsgns.margin_terms(jnp.asarray(u), jnp.asarray(t), jnp.asarray(neg), 0.5), ref, rtol=1e-5
    )


def test_vsgns_loss_is_sgns_plus_weighted_margins():
    cfg = sampling.SamplerConfig(
        window=3,
        contexts_per_centre=2,
        negatives=3,
        text_centres=8,
        visual_centres=4,
        visual_words=0,
        latent=4,
        visual_rows=3,
    )
    ids = jnp.asarray(np.random.default_rng(2).integers(0, 10, 200), jnp.int32)
    vis_index = jnp.asarray([0, 1, 2, -1, -1, -1, -1, -1, -1, -1], jnp.int32)
    keep = jnp.ones(10)
    noise = vocab.alias_table(np.full(10, 0.1))
    tables = sampling.WordArrays(keep, jnp.asarray(noise.prob), jnp.asarray(noise.alias), vis_index)
    epoch = subsample(jax.random.key(0), ids, keep, vis_index)
    batch = vsgns.draw_batch(jax.random.key(1), epoch, tables, cfg=cfg, negatives=5)
    vis = batch["visual"]
    np.testing.assert_allclose(vis["token_weight"], vis["weight"] * 2 / 4)
    assert vis["margin_rows"].shape == (4, 5) and int(vis["margin_rows"].max()) < 3 and "vae" not in batch
    model = vsgns.VSgns(10, 4, 6)
    params = model.init(jax.random.key(3))
    params["v"] = jax.random.normal(jax.random.key(4), params["v"].shape)
    targets = jax.random.normal(jax.random.key(5), (3, 4))
    loss, metrics = vsgns.batch_loss(model, params, batch, targets)
    # an independent float64 loop over the batch: SGNS terms of both strata, then the margins
    e, v, x = (np.asarray(a, np.float64) for a in (params["e"], params["v"], targets))
    log_sig = lambda t: -np.logaddexp(0.0, -t)  # noqa: E731
    cos = lambda a, b: a @ b / (np.linalg.norm(a) * np.linalg.norm(b))  # noqa: E731
    text = 0.0
    for stratum in (batch["text"], vis):
        words, ctx, valid, neg, weight = (
            np.asarray(stratum[k]) for k in ("words", "contexts", "valid", "negatives", "weight")
        )
        for b, w in enumerate(words):
            for c in range(ctx.shape[1]):
                pair = -log_sig(e[w] @ v[ctx[b, c]]) - sum(log_sig(-e[w] @ v[n]) for n in neg[b, c])
                text += weight[b] * valid[b, c] * pair
    margin = 0.0
    for b, w in enumerate(np.asarray(vis["words"])):
        target = x[int(vis["rows"][b])]
        margin += float(vis["token_weight"][b]) * sum(
            max(0.0, 0.5 - cos(e[w], target) + cos(e[w], x[int(r)])) for r in np.asarray(vis["margin_rows"][b])
        )
    np.testing.assert_allclose(metrics["loss_text"], text, rtol=1e-5)
    np.testing.assert_allclose(metrics["loss_visual"], margin, rtol=1e-5)
    np.testing.assert_allclose(loss, text + margin, rtol=1e-5)


def probe_accuracy(arrays, words):
    """Leave-one-out accuracy of a least-squares linear probe predicting the visual cluster from e_w."""
    e = arrays["e"][[list(arrays["words"]).index(w) for w in words]]
    y = np.array([1.0 if w[-1] <= "e" else -1.0 for w in words])
    hits = 0
    for i in range(len(words)):
        keep = np.arange(len(words)) != i
        a = np.c_[e[keep], np.ones(keep.sum())]
        w = np.linalg.solve(a.T @ a + 1e-3 * np.eye(a.shape[1]), a.T @ y[keep])
        hits += np.sign(np.r_[e[i], 1.0] @ w) == y[i]
    return hits / len(words)


def test_vsgns_learns_visual_clusters_that_text_cannot_show(corpus_file, tmp_path):
    features, words = crossing_features(tmp_path)
    gap, probe = {}, {}
    for name, variant in (("sgns", None), ("vsgns", "A"), ("vsgns", "B")):
        # centres with replacement and C draws: twice the steps a pass of the enumerated window, so the
        # margin term (one per visual centre and step, under Adam) gets as many updates as before
        cfg = tiny_config(
            corpus_file,
            features if variant else "",
            config=name,
            epochs=2.0,
            **{"optimizer.learning_rate": 0.01, "sampler.enumerate_window": False, "sampler.shuffle": False},
        )
        if variant:
            cfg.vsgns.model = variant
            cfg.vsgns.negatives = 4
        result = experiment.run(cfg, tmp_path / f"{name}{variant}", log=quiet, devices=jax.devices()[:1])
        arrays = result.arrays | {"words": list(result.data.vocab.words)}
        gap[variant], probe[variant] = cross_topic_similarity(arrays, words, "e"), probe_accuracy(arrays, words)
    assert set(result.arrays) == {"e", "v", "x", "mask"} and result.kinds == ("e",)
    # model A pulls same-cluster words of different topics together; both make the clusters linearly readable
    assert gap["A"] > gap[None] + 0.1, gap
    assert probe[None] < 0.7 and probe["A"] >= 0.9 and probe["B"] >= 0.75, probe


# ---------------------------------------------------------------- VAE
def test_vae_alone_encodes_the_clusters(corpus_file, tmp_path):
    features, words = crossing_features(tmp_path)
    cfg = tiny_config(
        corpus_file, features, config="vae", **{"vae.steps": 300, "optimizer.network_learning_rate": 1e-2}
    )
    result = experiment.run_and_write(cfg, tmp_path / "vae", log=quiet)
    arrays = result.arrays | {"words": list(result.data.vocab.words)}
    assert set(result.arrays) == {"mu", "x", "mask"} and result.kinds == ("mu",)
    assert cross_topic_similarity(arrays, words, "mu") > 1.0  # of at most 2
    lines = (tmp_path / "vae" / "metrics.jsonl").read_text().splitlines()
    import json

    first, last = json.loads(lines[0]), json.loads(lines[-1])
    assert last["loss"] < first["loss"] and last["step"] == 300
    text = (tmp_path / "vae" / "embeddings.txt").read_text().splitlines()
    assert text[0] == f"{len(result.data.vocab)} 8"


def test_vae_needs_features(corpus_file, tmp_path):
    with pytest.raises(ValueError, match="needs visual features"):
        experiment.run(tiny_config(corpus_file, config="vae"), tmp_path, log=quiet)


# ---------------------------------------------------------------- IV-SGNS
def test_ridge_matches_an_augmented_least_squares():
    rng = np.random.default_rng(3)
    e, x = rng.normal(size=(30, 4)), rng.normal(size=(30, 3))
    w, b = vectors_lib.fit_linear(e, x, alpha=2.0)
    # ridge with a free bias = least squares on [e 1; sqrt(alpha) I 0] against [x; 0]
    a = np.block([[e, np.ones((30, 1))], [np.sqrt(2.0) * np.eye(4), np.zeros((4, 1))]])
    ref, *_ = np.linalg.lstsq(a, np.vstack([x, np.zeros((4, 3))]), rcond=None)
    np.testing.assert_allclose(w, ref[:4], atol=1e-10)
    np.testing.assert_allclose(b, ref[4], atol=1e-10)


def test_nonlinear_map_fits_what_a_linear_map_cannot():
    rng = np.random.default_rng(4)
    e = rng.normal(size=(200, 3)).astype(np.float32)
    x = np.stack([np.sin(2 * e[:, 0]), e[:, 1] ** 2], axis=1).astype(np.float32)
    params = ivsgns.fit_mlp(jax.random.key(0), e, x, hidden=32, steps=1500, learning_rate=1e-2)
    mse_mlp = float(np.mean((np.asarray(ivsgns.mlp(params, e)) - x) ** 2))
    mse_linear = float(np.mean((vectors_lib.predict_linear(vectors_lib.fit_linear(e, x, 0.0), e) - x) ** 2))
    assert mse_mlp < 0.3 * mse_linear, (mse_mlp, mse_linear)


@pytest.mark.parametrize("config", ["ivsgns", "ivsgns_nonlinear"])
def test_ivsgns_embeds_every_word_with_imagined_features(corpus_file, tmp_path, config):
    # features that text can predict: topic a against topic b
    words = [w for w in vocab.build_vocab(topic_corpus(), 1).words if w[:2] in ("ta", "tb")]
    features = features_file(tmp_path, words)
    cfg = tiny_config(corpus_file, features, config=config, **{"ivsgns.steps": 200})
    result = experiment.run_and_write(cfg, tmp_path / "iv", log=quiet, devices=jax.devices()[:1])
    a = result.arrays
    assert set(a) == {"e", "v", "x", "fx", "mask"} and result.kinds == ("e", "e+fx")
    assert a["fx"].shape == (len(result.data.vocab), 6) and np.all(np.abs(a["fx"]).sum(1) > 0)
    rows = a["mask"] > 0
    assert np.corrcoef(a["fx"][rows].ravel(), a["x"][rows].ravel())[0, 1] > 0.7
    line = (tmp_path / "iv" / "embeddings.txt").read_text().splitlines()[0]
    assert line == f"{len(result.data.vocab)} 14"
    # refitting on the written SGNS embeddings gives the same map
    written = str(tmp_path / "iv" / "embeddings.npz")
    cfg2 = tiny_config(corpus_file, features, config=config, **{"ivsgns.steps": 200, "ivsgns.sgns": written})
    again = experiment.run(cfg2, tmp_path / "again", log=quiet)
    np.testing.assert_allclose(again.arrays["fx"], a["fx"], rtol=1e-4, atol=1e-4)


def test_bad_config_is_refused_before_training(corpus_file, tmp_path):
    cfg = tiny_config(corpus_file, config="vsgns", embedding="s")
    with pytest.raises(ValueError, match="model 'vsgns' writes kinds e, v, x"):
        experiment.run(cfg, tmp_path, log=quiet)
    cfg = tiny_config(corpus_file, **{"model.name": "glove"})
    with pytest.raises(ValueError, match="unknown model.name 'glove'"):
        registry.get(cfg)
    cfg = tiny_config(corpus_file, config="ivsgns", **{"ivsgns.map": "cubic"})
    with pytest.raises(ValueError, match="ivsgns.map must be"):
        ivsgns.imagined_features(cfg, np.zeros((3, 2)), np.ones(3), np.zeros((3, 2)), jax.random.key(0))
