"""Extensions of PIXIE-concat, eq. (11), labelled as such: they are not the paper's.

Eq. (11) is t_w = [e_w, m_w mu_w] with m_w = 1 for a word with features, else 0. For a visual word
e_w is only the text residual of e + z, and a word without photos gets a zero second block, so a
pair of one visual and one other word is scored on a shortened e-cosine (benchmarks/RESULTS.md,
"Reading the tables"). Three variants a user would try:

    weighted:  t^a_w = [e_w, a m_w mu_w]        the visual block scaled by a (a = 1 is eq. (11))
    whole:     t^s_w = [s_w, m_w mu_w]          s_w = e_w + m_w mu_w (eq. (10)) in place of the residual e_w
    filled:    t^f_w = [e_w, mu^_w]             mu^_w = mu_w for a word with features, else W^T e_w + b,

with (W, b) the ridge map from e to mu fitted on the words with features (IV-SGNS's closed form,
:func:`pixie_jax.core.vectors.fit_linear`, applied to mu instead of the raw features).
"""

from __future__ import annotations

import numpy as np

from pixie_jax.core.vectors import embedding_t, fit_linear, predict_linear
from pixie_jax.errors import InputError


def _concat(first, arrays: dict, a: float = 1.0) -> np.ndarray:
    """Eq. (11)'s [first_w, m_w (a mu_w)] as float32 numpy."""
    mask = np.asarray(arrays["mask"], np.float32)
    return np.asarray(embedding_t(first, a * np.asarray(arrays["mu"], np.float32), mask), np.float32)


def weighted(arrays: dict, a: float) -> np.ndarray:
    """[e_w, a m_w mu_w] of an embeddings file's arrays (``e``, ``mu``, ``mask``)."""
    return _concat(arrays["e"], arrays, a)


def whole(arrays: dict) -> np.ndarray:
    """[s_w, m_w mu_w]: PIXIE+'s s (eq. (10)) in place of e."""
    return _concat(arrays["s"], arrays)


def filled(arrays: dict, alpha: float = 1.0) -> np.ndarray:
    """[e_w, mu^_w]: mu of the words with features; for the others mu predicted from e by ridge regression
    (penalty ``alpha``) fitted on the words with features."""
    visual = np.asarray(arrays["mask"]) > 0
    if visual.sum() < 2:
        raise InputError(f"filling mu needs words with features to fit on; the embeddings have {int(visual.sum())}")
    mu = np.asarray(arrays["mu"], np.float32).copy()
    mu[~visual] = predict_linear(fit_linear(arrays["e"][visual], mu[visual], alpha), arrays["e"][~visual])
    return np.concatenate([arrays["e"], mu], axis=1).astype(np.float32)


def variants(arrays: dict, weights=(0.5, 2.0), alpha: float = 1.0) -> dict[str, np.ndarray]:
    """Eq. (11) and its labelled extensions, by name."""
    out = {"t (eq. 11)": weighted(arrays, 1.0)}
    out |= {f"t, visual block x{a:g} (extension)": weighted(arrays, a) for a in weights}
    out["t with s for e (extension)"] = whole(arrays)
    out["t, mu filled from e (extension)"] = filled(arrays, alpha)
    return out
