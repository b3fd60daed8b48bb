"""Nearest neighbours (the paper's Table 5) and word-pair cosines (Table 4), with concreteness.

Concreteness ratings (Brysbaert, Warriner & Kuperman 2014) are read from the user's copy of
``Concreteness_ratings_Brysbaert_et_al_BRM.txt`` (tab-separated, header with ``Word`` and
``Conc.M``); they are not shipped, as their licence (CC BY-NC-ND) does not clearly allow it.
"""

from __future__ import annotations

import os

import numpy as np

from pixie_jax.core.vectors import l2_normalise
from pixie_jax.errors import InputError, ProjectError


class QueryError(ProjectError, KeyError):
    def __str__(self) -> str:
        return str(self.args[0])


def _row(index: dict, word: str) -> int:
    if word not in index:
        raise QueryError(f"{word!r} is not in the embeddings' vocabulary")
    return index[word]


def nearest(words, vectors: np.ndarray, query: str, k: int = 10) -> list[tuple[str, float]]:
    """The k words of highest cosine similarity to ``query`` (itself excluded)."""
    index = {w: i for i, w in enumerate(words)}
    unit = l2_normalise(np.asarray(vectors, np.float64))
    q = _row(index, query)
    sims = unit @ unit[q]
    sims[q] = -np.inf
    top = np.argsort(-sims, kind="stable")[:k]
    return [(words[i], float(sims[i])) for i in top]


def pair_cosines(words, vectors: np.ndarray, pairs) -> list[float]:
    index = {w: i for i, w in enumerate(words)}
    unit = l2_normalise(np.asarray(vectors, np.float64))
    return [float(unit[_row(index, a)] @ unit[_row(index, b)]) for a, b in pairs]


def load_concreteness(path: str | os.PathLike) -> dict[str, float]:
    """{word: mean concreteness rating 1..5} from Brysbaert et al.'s file."""
    with open(path, encoding="utf-8-sig") as f:
        header = f.readline().rstrip("\r\n").split("\t")
        if "Word" not in header or "Conc.M" not in header:
            raise InputError(f"{path}: line 1: expected a header with 'Word' and 'Conc.M', got {header}")
        w, c = header.index("Word"), header.index("Conc.M")
        out = {}
        for lineno, line in enumerate(f, 2):
            fields = line.rstrip("\r\n").split("\t")
            if len(fields) <= max(w, c):
                continue
            try:
                out[fields[w].lower()] = float(fields[c])
            except ValueError:
                raise InputError(f"{path}: line {lineno}: rating {fields[c]!r} is not a number") from None
    return out
