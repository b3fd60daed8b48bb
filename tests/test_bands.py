import numpy as np
import pytest

from pixie_jax.errors import InputError
from pixie_jax.evaluate import bands, similarity


def test_pairs_fall_in_the_band_of_their_rarer_word():
    words = [f"w{i}" for i in range(30)]
    rng = np.random.default_rng(0)
    vectors = rng.normal(size=(30, 4))
    pairs = (
        ("w0", "w1"),
        ("w2", "w3"),
        ("w1", "w4"),
        ("w0", "w12"),
        ("w5", "w15"),
        ("w3", "w11"),
        ("w25", "w2"),
        ("w21", "w22"),
        ("w20", "w29"),
        ("w27", "w1"),
        ("w0", "oov"),
    )
    scores = np.arange(len(pairs), dtype=float)
    bench = similarity.Benchmark("toy", pairs, scores, len(pairs))
    by = bands.similarity_by_band(words, vectors, bench, edges=(10, 20))
    assert bands.band_names((10, 20)) == ["<10", "10-20", ">=20"]
    assert [by[b].used for b in ("<10", "10-20", ">=20")] == [3, 3, 4]  # the pair with 'oov' is left out
    sub = similarity.Benchmark("toy", pairs[6:10], scores[6:10], 4)  # the >=20 band alone, scored directly
    assert by[">=20"].rho == pytest.approx(similarity.score(sub, words, vectors).rho)
    assert bands.band_names() == ["<1k", "1k-10k", ">=10k"]


def test_neighbour_overlap_is_one_for_the_same_vectors_and_counts_shared_neighbours():
    rng = np.random.default_rng(1)
    vectors = rng.normal(size=(60, 5))
    words = [f"w{i}" for i in range(60)]
    same = bands.neighbour_overlap(words, vectors, 3 * vectors, k=5, edges=(20, 40))
    assert same == {"<20": 1.0, "20-40": 1.0, ">=40": 1.0}
    other = bands.neighbour_overlap(words, vectors, rng.normal(size=(60, 5)), k=5, edges=(20, 40), per_band=7)
    unit = vectors / np.linalg.norm(vectors, axis=1, keepdims=True)
    near = bands.nearest_rows(unit, np.array([0, 1]), 5)
    for row, found in zip((0, 1), near):  # against a full sort
        sims = unit @ unit[row]
        sims[row] = -np.inf
        assert set(found) == set(np.argsort(-sims)[:5])
    assert all(0 <= v < 0.5 for v in other.values())  # unrelated vectors share few neighbours


def test_frequency_lean_is_spearman_against_the_rarer_words_rank():
    """Vectors built so that cos(w_i, w_j) falls as the rarer row grows: a cosine lean of -1 exactly; the
    human lean follows the scores given; an out-of-vocabulary pair is left out; too few pairs is an error."""
    k = 12
    words = [f"w{i}" for i in range(k)]
    # w0 = e_0; w_i (i > 0) = cos_i e_0 + sin_i e_i, so cos(w0, w_i) = cos_i, falling with i
    angles = np.linspace(0.1, 1.4, k - 1)
    vectors = np.zeros((k, k))
    vectors[0, 0] = 1.0
    vectors[1:, 0], vectors[np.arange(1, k), np.arange(1, k)] = np.cos(angles), np.sin(angles)
    pairs = tuple(("w0", f"w{i}") for i in range(1, k)) + (("w0", "oov"),)
    scores = np.r_[np.arange(1, k, dtype=float)[::-1] ** 2, 99.0]  # human: also falling with the rarer word
    lean = bands.frequency_lean(words, vectors, similarity.Benchmark("toy", pairs, scores, len(pairs)))
    assert lean == {"human": pytest.approx(-1.0), "cosine": pytest.approx(-1.0), "pairs": k - 1}
    shuffled = np.random.default_rng(0).permutation(k - 1).astype(float)
    lean = bands.frequency_lean(words, vectors, similarity.Benchmark("toy", pairs[:-1], shuffled, k - 1))
    from scipy.stats import spearmanr

    assert lean["human"] == pytest.approx(spearmanr(shuffled, np.arange(1, k))[0])
    with pytest.raises(InputError, match="toy: 2 pairs in the vocabulary; the lean needs 3 or more"):
        bands.frequency_lean(words, vectors, similarity.Benchmark("toy", pairs[:2], scores[:2], 2))


def test_bands_by_the_commoner_word():
    words = [f"w{i}" for i in range(30)]
    vectors = np.random.default_rng(1).normal(size=(30, 4))
    pairs = (("w0", "w25"), ("w1", "w26"), ("w2", "w27"), ("w12", "w28"), ("w13", "w29"), ("w14", "w22"), ("w15", "w2"))
    bench = similarity.Benchmark("toy", pairs, np.arange(7.0), 7)
    by = bands.similarity_by_band(words, vectors, bench, edges=(10, 20), word="commoner")
    assert [by[b].used for b in ("<10", "10-20", ">=20")] == [4, 3, 0]
    rarer = bands.similarity_by_band(words, vectors, bench, edges=(10, 20))
    assert [rarer[b].used for b in ("<10", "10-20", ">=20")] == [0, 1, 6]
    with pytest.raises(InputError, match="word must be 'rarer' or 'commoner', got 'both'"):
        bands.similarity_by_band(words, vectors, bench, word="both")
