"""Where learning is lost: similarity by word-frequency band, how a system's cosines lean with word
frequency, and nearest-neighbour overlap with reference vectors (gensim's, say) per band.

Rows of an embedding file are in frequency order, so a word's rank is its row. A benchmark pair
belongs to the band of its rarer word: ranks [0, 1k), [1k, 10k), [10k, ...) by default. Within a
band, rho is Spearman's over that band's pairs alone. The neighbour overlap of word w between two
embeddings of the same words is |N_k(w) ∩ N'_k(w)| / k, N_k the k nearest words by cosine (w itself
excluded), averaged over the band's words (a seeded sample of at most ``per_band`` of them). The
frequency lean of a benchmark's scores (human or cosine) is Spearman's rho between them and the rank of
each pair's rarer word: positive where rarer pairs score higher.
"""

from __future__ import annotations

import numpy as np
import scipy.stats

from pixie_jax.core.vectors import l2_normalise
from pixie_jax.errors import InputError
from pixie_jax.evaluate import similarity

EDGES = (1_000, 10_000)


def band_names(edges=EDGES) -> list[str]:
    """'<1k', '1k-10k', '>=10k' for the default edges."""
    short = lambda n: f"{n // 1000}k" if n % 1000 == 0 else str(n)  # noqa: E731
    bounds = [0, *edges]
    return (
        [f"<{short(edges[0])}"]
        + [f"{short(a)}-{short(b)}" for a, b in zip(bounds[1:], bounds[2:])]
        + [f">={short(edges[-1])}"]
    )


def band_of(ranks: np.ndarray, edges=EDGES) -> np.ndarray:
    """The band index of each rank (0 for the most frequent band)."""
    return np.searchsorted(np.asarray(edges), np.asarray(ranks), side="right")


def similarity_by_band(
    words, vectors: np.ndarray, bench: similarity.Benchmark, edges=EDGES, word: str = "rarer"
) -> dict:
    """{band: Score} over the pairs whose rarer word (``word='commoner'``: whose more frequent word) falls
    in the band (pairs with a word outside the vocabulary are left out, as in the 'all' setting)."""
    if word not in ("rarer", "commoner"):
        raise InputError(f"word must be 'rarer' or 'commoner', got {word!r}")
    index, pick = {w: i for i, w in enumerate(words)}, max if word == "rarer" else min
    rank = np.array([pick(index[a], index[b]) if a in index and b in index else -1 for a, b in bench.pairs])
    bands = band_of(np.maximum(rank, 0), edges)
    out = {}
    for i, name in enumerate(band_names(edges)):
        keep = (bands == i) & (rank >= 0)
        sub = similarity.Benchmark(
            bench.name, tuple(p for p, k in zip(bench.pairs, keep) if k), bench.scores[keep], int(keep.sum())
        )
        out[name] = (
            similarity.score(sub, words, vectors, setting=name)
            if sub.pairs
            else similarity.Score(bench.name, name, float("nan"), 0, 0)
        )
    return out


def frequency_lean(words, vectors: np.ndarray, bench: similarity.Benchmark) -> dict:
    """{'human': rho(human score, rank of the rarer word), 'cosine': rho(cos(w1, w2), rank of the rarer
    word), 'pairs': n} over the pairs with both words in ``words`` (rows in frequency order)."""
    index = {w: i for i, w in enumerate(words)}
    keep = [i for i, (a, b) in enumerate(bench.pairs) if a in index and b in index]
    if len(keep) < 3:
        raise InputError(f"{bench.name}: {len(keep)} pairs in the vocabulary; the lean needs 3 or more")
    first, second = (np.array([index[bench.pairs[i][j]] for i in keep]) for j in (0, 1))
    unit = l2_normalise(np.asarray(vectors, np.float32))
    cosines = np.einsum("ij,ij->i", unit[first], unit[second])
    rarer = np.maximum(first, second)
    human = np.asarray(bench.scores)[keep]
    return {
        "human": float(scipy.stats.spearmanr(human, rarer)[0]),
        "cosine": float(scipy.stats.spearmanr(cosines, rarer)[0]),
        "pairs": len(keep),
    }


def nearest_rows(unit: np.ndarray, rows: np.ndarray, k: int, chunk: int = 512) -> np.ndarray:
    """[len(rows), k] the k nearest rows of each of ``rows`` by cosine (unit rows), itself excluded."""
    out = np.empty((len(rows), k), np.int64)
    for start in range(0, len(rows), chunk):
        part = rows[start : start + chunk]
        sims = unit[part] @ unit.T
        sims[np.arange(len(part)), part] = -np.inf
        top = np.argpartition(-sims, k, axis=1)[:, :k]
        out[start : start + chunk] = top
    return out


def neighbour_overlap(
    words, vectors: np.ndarray, ref_vectors: np.ndarray, k: int = 10, per_band: int = 500, edges=EDGES, seed: int = 0
) -> dict:
    """{band: mean |N_k(w) ∩ N'_k(w)| / k} between ``vectors`` and ``ref_vectors`` (rows are the same
    ``words``), over a seeded sample of at most ``per_band`` words of each band."""
    if len(vectors) != len(ref_vectors):
        raise InputError(f"the two embeddings must have the same rows: {len(vectors)} and {len(ref_vectors)}")
    a, b = (l2_normalise(np.asarray(v, np.float32)) for v in (vectors, ref_vectors))
    rng = np.random.default_rng(seed)
    bands = band_of(np.arange(len(words)), edges)
    out = {}
    for i, name in enumerate(band_names(edges)):
        members = np.flatnonzero(bands == i)
        if not len(members):
            out[name] = float("nan")
            continue
        rows = np.sort(rng.choice(members, min(per_band, len(members)), replace=False))
        na, nb = nearest_rows(a, rows, k), nearest_rows(b, rows, k)
        out[name] = float(np.mean([len(np.intersect1d(x, y)) / k for x, y in zip(na, nb)]))
    return out
