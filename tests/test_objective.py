"""The loss against references: SGNS exactly, unbiasedness by exact enumeration, finite differences."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from conftest import sample_batch

from pixie_jax.core import model as M
from pixie_jax.core import vectors
from pixie_jax.data import vocab
from pixie_jax.models.objective import batch_loss
from pixie_jax.training import sampling
from pixie_jax.training.step import subsample_epoch as subsample  # compiled, as the trainer runs it

V, K, D, L = 6, 4, 5, 3
IDS = np.array([0, 1, 2, 0, 3, 4, 0, 5, 1, 1, 2, 0, 4, 3, 0], np.int32)
VISUAL = np.array([1, 4])


def _setup(visual=True, seed=0, lam=0.3):
    rng = np.random.default_rng(seed)
    pix = M.Pixie(V, dim=K, features=D, hidden=7)
    params = jax.jit(pix.init)(jax.random.key(seed))
    params["e"] = jnp.asarray(rng.normal(0, 0.5, (V, K)), jnp.float32)
    params["v"] = jnp.asarray(rng.normal(0, 0.5, (V, K)), jnp.float32)
    counts = np.bincount(IDS, minlength=V)
    table = vocab.alias_table(vocab.noise_distribution(counts))
    vis_index = np.full(V, -1, np.int32)
    if visual:
        vis_index[VISUAL] = np.arange(len(VISUAL))
    feats = jnp.asarray(rng.uniform(size=(max(len(VISUAL), 1), D)), jnp.float32)
    tables = sampling.WordArrays(jnp.ones(V), jnp.asarray(table.prob), jnp.asarray(table.alias), jnp.asarray(vis_index))
    epoch = subsample(jax.random.key(9), jnp.asarray(IDS), tables.keep_prob, tables.vis_index)
    return pix, params, table, feats, tables, epoch, vis_index, lam


def _numpy_log_sigmoid(x):
    return -np.logaddexp(0.0, -x)


def exact_objective(pix, params, table, feats, vis_index, lam, negatives):
    """J by enumerating every centre, distance and side, and the noise distribution exactly."""
    e, v = np.asarray(params["e"], np.float64), np.asarray(params["v"], np.float64)
    z = np.zeros_like(e)
    rows = np.flatnonzero(vis_index >= 0)
    j_vis = 0.0
    if len(rows):
        x = feats[vis_index[rows]]
        mu, logvar = pix.encode(params, x)
        z[rows] = np.asarray(mu)
        eps = jnp.zeros(mu.shape[:1] + (1, K))
        elbo, _, _ = M.visual_elbo(pix, params, x, eps)
        j_vis = lam * float(np.mean(-np.asarray(elbo)))
    h = e + z
    pn = table.probabilities()
    neg = negatives * (pn[None, :] * -_numpy_log_sigmoid(-(h @ v.T))).sum(1)
    p_d = (L - np.arange(1, L + 1) + 1) / (L * (L + 1) / 2)
    T = len(IDS)
    j_text = 0.0
    for t in range(T):
        for d in range(1, L + 1):
            for s in (1, -1):
                c = t + s * d
                if 0 <= c < T:
                    w = IDS[t]
                    j_text += p_d[d - 1] * 0.5 / T * (-_numpy_log_sigmoid(v[IDS[c]] @ h[w]) + neg[w])
    return j_text + j_vis


@pytest.mark.parametrize("group,enumerate_window", [(1, False), (4, False), (1, True), (2 * (L + 1), True)])
def test_minibatch_loss_is_unbiased_by_exact_enumeration(group, enumerate_window):
    pix, params, table, feats, tables, epoch, vis_index, lam = _setup()
    # make q(z|x) a point mass so that the expectation over z is exact too
    params["encoder"]["logvar"]["bias"] = jnp.full((K,), -40.0)
    cfg = sampling.SamplerConfig(
        window=L,
        contexts_per_centre=2,
        negatives=3,
        negative_group=group,
        text_centres=8,
        visual_centres=4,
        visual_words=4,
        samples=1,
        latent=K,
        visual_rows=len(VISUAL),
        enumerate_window=enumerate_window,
    )

    def one(key):
        batch = sample_batch(key, epoch, tables, cfg)
        return batch_loss(pix, params, batch, feats, cfg.visual_words, lam)[0]

    losses = np.asarray(jax.jit(jax.vmap(one))(jax.random.split(jax.random.key(3), 20000)), np.float64)
    exact = exact_objective(pix, params, table, np.asarray(feats), vis_index, lam, cfg.negatives)
    se = losses.std() / np.sqrt(len(losses))
    assert abs(losses.mean() - exact) < 4 * se, (losses.mean(), exact, se)
    assert se < 0.01 * abs(exact)


def test_without_visual_features_the_loss_and_gradients_are_sgns():
    pix, params, table, feats, tables, epoch, _, _ = _setup(visual=False)
    cfg = sampling.SamplerConfig(
        window=L, contexts_per_centre=3, negatives=5, text_centres=6, visual_centres=0, visual_words=0, latent=K
    )
    batch = sample_batch(jax.random.key(5), epoch, tables, cfg)
    assert set(batch) == {"text"}
    loss, grads = jax.value_and_grad(lambda p: batch_loss(pix, p, batch, feats)[0])(params)

    # eq. (2) and its gradient, written out in numpy (float64)
    e, v = np.asarray(params["e"], np.float64), np.asarray(params["v"], np.float64)
    ge, gv, ref = np.zeros_like(e), np.zeros_like(v), 0.0
    sig = lambda x: 1 / (1 + np.exp(-x))  # noqa: E731
    tb = {k: np.asarray(a) for k, a in batch["text"].items()}
    for b, w in enumerate(tb["words"]):
        for j, c in enumerate(tb["contexts"][b]):
            wt = tb["weight"][b] * tb["valid"][b, j]
            ref += wt * (-np.log(sig(v[c] @ e[w])) - sum(np.log(sig(-v[n] @ e[w])) for n in tb["negatives"][b, j]))
            g = sig(v[c] @ e[w]) - 1
            ge[w] += wt * g * v[c]
            gv[c] += wt * g * e[w]
            for n in tb["negatives"][b, j]:
                gn = sig(v[n] @ e[w])
                ge[w] += wt * gn * v[n]
                gv[n] += wt * gn * e[w]
    np.testing.assert_allclose(float(loss), ref, rtol=1e-5)
    np.testing.assert_allclose(grads["e"], ge, rtol=1e-4, atol=1e-7)
    np.testing.assert_allclose(grads["v"], gv, rtol=1e-4, atol=1e-7)
    for leaf in jax.tree.leaves((grads["encoder"], grads["decoder"])):
        assert not np.asarray(leaf).any()


@pytest.mark.parametrize("group,packed", [(2, False), (1, True), (2 * (L + 1), True)])
def test_gradients_match_finite_differences_in_float64(group, packed):
    with jax.enable_x64(True):
        pix, params, _, feats, tables, epoch, _, lam = _setup(lam=0.05)
        params = jax.tree.map(lambda a: jnp.asarray(a, jnp.float64), params)
        feats = jnp.asarray(feats, jnp.float64)
        cfg = sampling.SamplerConfig(
            window=L,
            contexts_per_centre=2,
            negatives=3,
            negative_group=group,
            text_centres=4,
            visual_centres=2,
            visual_words=2,
            samples=2,
            latent=K,
            visual_rows=len(VISUAL),
            enumerate_window=packed,
        )
        batch = sample_batch(jax.random.key(1), epoch, tables, cfg)
        batch = jax.tree.map(lambda a: a.astype(jnp.float64) if a.dtype == jnp.float32 else a, batch)
        f = jax.jit(lambda p: batch_loss(pix, p, batch, feats, cfg.visual_words, lam)[0])
        grads = jax.grad(f)(params)
        rng = np.random.default_rng(0)
        for _ in range(5):
            direction = jax.tree.map(lambda a: jnp.asarray(rng.normal(size=a.shape)), params)
            h = 1e-6
            plus = f(jax.tree.map(lambda a, d: a + h * d, params, direction))  # noqa: B023
            minus = f(jax.tree.map(lambda a, d: a - h * d, params, direction))  # noqa: B023
            numeric = (plus - minus) / (2 * h)
            analytic = sum(jnp.vdot(g, d) for g, d in zip(jax.tree.leaves(grads), jax.tree.leaves(direction)))
            np.testing.assert_allclose(float(analytic), float(numeric), rtol=1e-6, atol=1e-8)


def test_distributions_against_scipy():
    from scipy import stats

    rng = np.random.default_rng(0)
    mu, logvar, x = rng.normal(size=(3, 7)), rng.normal(size=(3, 7)), rng.normal(size=(3, 7))
    np.testing.assert_allclose(
        M.gaussian_log_likelihood(x, mu, logvar), stats.norm(mu, np.exp(logvar / 2)).logpdf(x).sum(-1), rtol=1e-5
    )
    # KL(q || p) by numerical integration, one dimension at a time
    grid = np.linspace(-12, 12, 200001)
    dens = stats.norm(mu[0, 0], np.exp(logvar[0, 0] / 2))
    q = dens.pdf(grid)
    kl_num = np.trapezoid(q * (dens.logpdf(grid) - stats.norm.logpdf(grid)), grid)
    np.testing.assert_allclose(M.gaussian_kl(mu[:1, :1], logvar[:1, :1])[0], kl_num, rtol=1e-4)


def test_gated_fusion_reduces_to_sgns_when_closed_and_embeddings_s_t():
    e = jnp.ones((3, 2))
    z = jnp.full((3, 2), 2.0)
    assert np.allclose(M.GATED.combine({"gate": jnp.full((2,), -50.0)}, e, z), e)
    assert np.allclose(M.GATED.combine({"gate": jnp.zeros(2)}, e, z), e + 1.0)
    assert np.allclose(M.ADDITIVE.combine({}, e, z), 3.0)
    mu, mask = jnp.array([[1.0, 2.0]] * 3), jnp.array([1.0, 0.0, 1.0])
    s, t = vectors.embedding_s(e, mu, mask), vectors.embedding_t(e, mu, mask)
    np.testing.assert_allclose(s, [[2, 3], [1, 1], [2, 3]])
    np.testing.assert_allclose(t, [[1, 1, 1, 2], [1, 1, 0, 0], [1, 1, 1, 2]])


def test_lambda_per_word_is_visual_words_over_pairs_of_a_pass():
    """lambda = |V_x| / P makes P (J_text + lambda J_visual) the paper's eq. (7) summed over words: the
    text terms summed over a pass's P pairs plus each visual word's -ELBO once. P is counted here by
    enumerating word2vec's reduced windows on a corpus, against the trainer's (L + 1) per kept token."""
    import ml_collections

    from pixie_jax.data import training_data as data_lib
    from pixie_jax.models import objective

    rng = np.random.default_rng(0)
    ids = rng.integers(0, V, 4000).astype(np.int32)
    keep = rng.uniform(0.3, 1.0, V).astype(np.float32)
    vis_index = np.array([-1, 0, -1, -1, 1, -1], np.int32)
    data = data_lib.TrainingData(
        vocab.Vocab(tuple("abcdef"), np.bincount(ids, minlength=V)),
        ids,
        keep,
        vocab.alias_table(np.full(V, 1 / V)),
        vis_index,
        np.zeros((2, D), np.float32),
        None,
        np.zeros((2, D), np.float32),
    )
    cfg = ml_collections.ConfigDict({"visual_weight_mode": "per_word", "visual_weight": 1.0})
    lam = objective.visual_weight(
        cfg, data, sampling.SamplerConfig(window=L, text_centres=8, visual_centres=0, visual_words=0)
    )
    # expected pairs of one pass: token t kept with keep[w_t]; window b ~ U{1..L}; context t+-d kept too
    # (subsampling happens before windows, so a window of b counts b kept neighbours each side)
    k = keep[ids].astype(np.float64)
    pairs = 0.0
    for b in range(1, L + 1):  # away from the ends, b kept neighbours on each side
        pairs += (2 * b / L) * k.sum()
    np.testing.assert_allclose(lam, 2 / pairs, rtol=1e-6)
    np.testing.assert_allclose(pairs, k.sum() * (L + 1))


def test_decoder_variance_floor():
    """logvar = m + softplus(r - m), m = log 1e-4: never below the floor, the raw output where far above it."""
    dec = M.Decoder(hidden=3, features=4)
    params = dec.init(jax.random.key(0), jnp.zeros((1, 2)))["params"]
    for bias, expected in ((-1e3, M.MIN_DECODER_LOGVAR), (5.0, 5.0)):
        p = jax.tree.map(lambda a: a, params)
        p["logvar"] = {
            "kernel": jnp.zeros_like(params["logvar"]["kernel"]),
            "bias": jnp.full_like(params["logvar"]["bias"], bias),
        }
        _, logvar = dec.apply({"params": p}, jnp.ones((3, 2)))
        np.testing.assert_allclose(logvar, expected, atol=1e-4)
    _, logvar = dec.apply({"params": params}, 100 * jax.random.normal(jax.random.key(1), (50, 2)))
    assert float(logvar.min()) >= M.MIN_DECODER_LOGVAR - 1e-6
    # with the floor the log-likelihood of a point at the mean is bounded by that of sigma = 0.01
    bound = -0.5 * 4 * (M.LOG_2PI + M.MIN_DECODER_LOGVAR)
    assert float(M.gaussian_log_likelihood(jnp.zeros(4), jnp.zeros(4), logvar[0])) <= bound + 1e-4
