"""Vector helpers shared by evaluation, the baselines and the visual tools (numpy, float64 inside), and
PIXIE's combined embeddings s and t from e, mu and the visual mask."""

from __future__ import annotations

import numpy as np


def l2_normalise(x: np.ndarray) -> np.ndarray:
    """x / ||x|| per row (rows of zeros stay zero)."""
    norm = np.linalg.norm(x, axis=-1, keepdims=True)
    return x / np.where(norm > 0, norm, 1.0)


def row_cosines(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """cos(a_i, b_i) = a_i . b_i / (|a_i| |b_i|) for each row pair, in float64 (0 where a row is zero)."""
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    return np.einsum("...i,...i->...", a, b) / np.maximum(
        np.linalg.norm(a, axis=-1) * np.linalg.norm(b, axis=-1), 1e-12
    )


def principal_directions(x: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """(x - mean(x), W [D, k']): the centred rows and their top-k principal directions (SVD, k' = min(k, rank
    bound)), each direction's sign fixed so that its largest loading is positive."""
    centred = np.asarray(x, np.float64) - np.asarray(x, np.float64).mean(axis=0)
    _, _, vt = np.linalg.svd(centred, full_matrices=False)
    w = vt[:k].T
    return centred, w * np.sign(w[np.abs(w).argmax(axis=0), np.arange(w.shape[1])])


def fit_linear(e: np.ndarray, x: np.ndarray, alpha: float = 1.0):
    """Closed-form ridge regression with an unpenalised bias, in float64: returns (W [K, D], b [D])."""
    e, x = np.asarray(e, np.float64), np.asarray(x, np.float64)
    e_mean, x_mean = e.mean(0), x.mean(0)
    ec = e - e_mean
    w = np.linalg.solve(ec.T @ ec + alpha * np.eye(e.shape[1]), ec.T @ (x - x_mean))
    return w, x_mean - e_mean @ w


def predict_linear(fit, e):
    """e W + b of a :func:`fit_linear` fit, in float32."""
    w, b = fit
    return (np.asarray(e, np.float64) @ w + b).astype(np.float32)


def embedding_s(e, mu, mask):
    """Eq. (10), PIXIE+: s_w = e_w + m_w mu_phi(x_w)."""
    return e + mask[:, None] * mu


def embedding_t(e, mu, mask):
    """Eq. (11), PIXIE-concat: t_w = [e_w, m_w mu_phi(x_w)]."""
    return np.concatenate([np.asarray(e), np.asarray(mask)[:, None] * np.asarray(mu)], axis=-1)
