"""The SGNS objective of trained tables by band: word2vec's pair distribution and the loss in float64."""

import numpy as np
import pytest

from pixie_jax.evaluate import fit


def test_pairs_follow_word2vecs_distance_distribution():
    # ids are positions, so a pair's distance and side are readable from its two ids
    ids, window = np.arange(5_000), 4
    centres, contexts = fit.sample_pairs(ids, np.ones(len(ids)), window, 200_000, np.random.default_rng(0))
    assert len(centres) == len(contexts) == 200_000
    gap = contexts - centres
    expected = (window - np.arange(window)) / (window * (window + 1) / 2)  # (L - d + 1) / (L (L + 1) / 2)
    observed = np.bincount(np.abs(gap), minlength=window + 1)[1:] / len(gap)
    np.testing.assert_allclose(observed, expected, atol=0.005)
    assert abs(np.mean(gap > 0) - 0.5) < 0.005
    assert centres.min() >= 0 and contexts.max() < len(ids)
    # centres uniform over the positions (ends a little under: pairs reaching past them are dropped)
    assert abs(np.mean(centres < 2_500) - 0.5) < 0.01


def test_subsampled_words_never_appear():
    rng = np.random.default_rng(1)
    ids = rng.integers(0, 10, 20_000)
    keep = np.ones(10)
    keep[3] = 0.0
    centres, contexts = fit.sample_pairs(ids, keep, 5, 10_000, rng)
    assert 3 not in centres and 3 not in contexts
    assert set(np.unique(centres)) == set(range(10)) - {3}


def test_too_few_tokens_is_an_error():
    with pytest.raises(ValueError, match="keeps 0 token"):
        fit.sample_pairs(np.arange(10), np.zeros(10), 2, 5, np.random.default_rng(0))


def test_loss_at_zero_tables_is_one_plus_n_log_two():
    sample = fit.objective_sample(np.arange(3_000) % 1_500, np.ones(1_500), np.ones(1_500), 3, 5, pairs=2_000)
    out = fit.fit_by_band(np.zeros((1_500, 4)), np.zeros((1_500, 4)), sample)
    assert out["all"]["pairs"] == 2_000
    assert out["<1k"]["pairs"] + out["1k-10k"]["pairs"] == 2_000 and out[">=10k"]["pairs"] == 0
    assert out["all"]["total"] == pytest.approx(6 * np.log(2))
    assert out["all"]["positive"] == pytest.approx(np.log(2))
    assert np.isnan(out[">=10k"]["total"])


def test_loss_by_band_matches_a_direct_sum():
    rng = np.random.default_rng(2)
    e, v = rng.normal(size=(30, 3)), rng.normal(size=(30, 3))
    centres, contexts = np.array([0, 5, 25, 29]), np.array([1, 2, 3, 4])
    noise = np.array([[7, 8], [9, 9], [0, 1], [2, 3]])
    sig = lambda x: 1 / (1 + np.exp(-x))  # noqa: E731

    def direct(p):
        w = centres[p]
        return -np.log(sig(e[w] @ v[contexts[p]])) - sum(np.log(sig(-e[w] @ v[n])) for n in noise[p])

    out = fit.objective_by_band(e, v, centres, contexts, noise, edges=(10, 20))
    assert out["<10"]["pairs"] == 2 and out["10-20"]["pairs"] == 0 and out[">=20"]["pairs"] == 2
    assert out["<10"]["total"] == pytest.approx((direct(0) + direct(1)) / 2, rel=1e-12)
    assert out[">=20"]["total"] == pytest.approx((direct(2) + direct(3)) / 2, rel=1e-12)
    assert out["all"]["total"] == pytest.approx(np.mean([direct(p) for p in range(4)]), rel=1e-12)
    assert out["all"]["positive"] + out["all"]["negative"] == pytest.approx(out["all"]["total"])


def test_the_same_seed_draws_the_same_sample():
    args = (np.arange(2_000) % 300, np.full(300, 0.7), np.arange(300, 0, -1), 5, 3)
    a, b = fit.objective_sample(*args, pairs=500, seed=4), fit.objective_sample(*args, pairs=500, seed=4)
    for k in a:
        np.testing.assert_array_equal(a[k], b[k])
    assert a["noise"].shape == (500, 3)


def test_chunked_losses_equal_one_pass():
    rng = np.random.default_rng(5)
    e, v = rng.normal(size=(50, 4)), rng.normal(size=(50, 4))
    centres, contexts, noise = rng.integers(0, 50, 1_000), rng.integers(0, 50, 1_000), rng.integers(0, 50, (1_000, 7))
    whole = fit.pair_losses(e, v, centres, contexts, noise, chunk=1_000)
    for chunk in (1, 333, 4096):
        for a, b in zip(whole, fit.pair_losses(e, v, centres, contexts, noise, chunk=chunk)):
            np.testing.assert_allclose(a, b, rtol=1e-13)
