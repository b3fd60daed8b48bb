"""How closely trained tables fit the SGNS objective, by word-frequency band.

Two trainers fed the same pairs can score differently on similarity because one fitted the objective
less (learned less from a pass) or because their fits differ in kind. The objective itself, on one
sample of word2vec's pairs scored for both, tells the two apart:

    loss(w, c) = -log sigma(e_w . v_c) - sum_{n=1..N} log sigma(-e_w . v_{z_n}),   z_n ~ P_n,

averaged over the pairs whose centre w falls in a band of :mod:`pixie_jax.evaluate.bands` (rows are in
frequency order, so a word's rank is its id). Lower is a closer fit. The pairs follow word2vec's
distribution (:mod:`pixie_jax.training.sampling`): each token kept with its word's keep probability, a centre
position t of the kept tokens drawn uniformly, a distance d in 1..L with probability
(L - d + 1) / (L (L + 1) / 2) and a side +-1; a pair whose context falls outside the kept tokens is
dropped. P_n(w) is proportional to count(w)^power. Everything is drawn from one seeded generator, so
two embeddings of the same words are scored on the same pairs and negatives.
"""

from __future__ import annotations

import numpy as np

from pixie_jax.data import vocab as vocab_lib
from pixie_jax.errors import InputError
from pixie_jax.evaluate.bands import EDGES, band_names, band_of
from pixie_jax.training import sampling


def sample_pairs(
    ids: np.ndarray, keep_prob: np.ndarray, window: int, pairs: int, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """(centres, contexts): ``pairs`` word-id pairs of word2vec's pair distribution (module docstring)."""
    ids = np.asarray(ids)
    kept = ids[rng.random(len(ids)) < np.asarray(keep_prob, np.float64)[ids]]
    if len(kept) < 2:
        raise InputError(f"the corpus keeps {len(kept)} token(s) after subsampling; pairs need at least 2")
    distance_p = sampling.distance_probabilities(window)  # d = 1..L
    centres, contexts, have = [], [], 0
    while have < pairs:
        draw = pairs - have + 64
        t = rng.integers(0, len(kept), draw)
        c = t + (rng.choice(window, draw, p=distance_p) + 1) * rng.choice((-1, 1), draw)
        ok = (c >= 0) & (c < len(kept))
        centres.append(kept[t[ok]])
        contexts.append(kept[c[ok]])
        have += int(ok.sum())
    return np.concatenate(centres)[:pairs], np.concatenate(contexts)[:pairs]


def pair_losses(
    e: np.ndarray, v: np.ndarray, centres: np.ndarray, contexts: np.ndarray, noise: np.ndarray, chunk: int = 4096
) -> tuple[np.ndarray, np.ndarray]:
    """(positive [P], negative [P]) in float64: -log sigma(e_w . v_c) and sum_n -log sigma(-e_w . v_{z_n})
    of each pair, ``noise`` [P, N] its noise words; ``chunk`` pairs at a time, so memory stays small."""
    e, v = np.asarray(e, np.float64), np.asarray(v, np.float64)
    positive, negative = np.empty(len(centres)), np.empty(len(centres))
    for a in range(0, len(centres), chunk):
        u = e[centres[a : a + chunk]]
        positive[a : a + chunk] = np.logaddexp(0.0, -np.einsum("pk,pk->p", u, v[contexts[a : a + chunk]]))
        negative[a : a + chunk] = np.logaddexp(0.0, np.einsum("pk,pnk->pn", u, v[noise[a : a + chunk]])).sum(axis=1)
    return positive, negative


def objective_by_band(
    e: np.ndarray, v: np.ndarray, centres: np.ndarray, contexts: np.ndarray, noise: np.ndarray, edges=EDGES
) -> dict:
    """{'all' and each band: {'positive', 'negative', 'total', 'pairs'}}: the means of :func:`pair_losses`'
    two terms and of their sum over the pairs whose centre is in the band."""
    positive, negative = pair_losses(e, v, centres, contexts, noise)
    bands = band_of(centres, edges)
    groups = [("all", np.ones(len(centres), bool))] + [(n, bands == i) for i, n in enumerate(band_names(edges))]
    out = {}
    for name, m in groups:
        n = int(m.sum())
        mean = (lambda x: float(x[m].mean())) if n else (lambda x: float("nan"))  # noqa: B023
        out[name] = {
            "positive": mean(positive),
            "negative": mean(negative),
            "total": mean(positive + negative),
            "pairs": n,
        }
    return out


def objective_sample(
    ids, keep_prob, counts, window: int, negatives: int, pairs: int = 200_000, noise_power: float = 0.75, seed: int = 0
) -> dict:
    """The pairs and negatives :func:`fit_by_band` scores: {'centres', 'contexts', 'noise'}, seeded."""
    rng = np.random.default_rng(seed)
    centres, contexts = sample_pairs(ids, keep_prob, window, pairs, rng)
    p = vocab_lib.noise_distribution(counts, noise_power)
    return {"centres": centres, "contexts": contexts, "noise": rng.choice(len(p), (len(centres), negatives), p=p)}


def fit_by_band(e: np.ndarray, v: np.ndarray, sample: dict, edges=EDGES) -> dict:
    """:func:`objective_by_band` of the tables (e, v) on a :func:`objective_sample`."""
    return objective_by_band(e, v, sample["centres"], sample["contexts"], sample["noise"], edges)
