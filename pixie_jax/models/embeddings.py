"""A trained model's embedding arrays over the vocabulary (the kinds of docs/baselines.md), from its
parameters: rows in vocabulary order, zero rows where a word has no features."""

from __future__ import annotations

import jax.numpy as jnp
import numpy as np

from pixie_jax.core.model import Pixie
from pixie_jax.core.vectors import embedding_s, embedding_t


def visual_arrays(data) -> dict:
    """The visual mask m_w and raw features x_w (zero rows for words without them) over the vocabulary."""
    mask = (data.vis_index >= 0).astype(np.float32)
    x = np.zeros((len(data.vocab), data.raw_features.shape[1]), np.float32)
    rows = np.flatnonzero(mask)
    x[rows] = data.raw_features[data.vis_index[rows]]
    return {"x": x, "mask": mask}


def encoder_means(model: Pixie, params, data) -> np.ndarray:
    """mu_phi(x_w) for the words with features, zero rows for the others."""
    mu = np.zeros((len(data.vocab), model.dim), np.float32)
    rows = np.flatnonzero(data.vis_index >= 0)
    if len(rows):
        mu[rows] = np.asarray(model.encode(params, jnp.asarray(data.features[data.vis_index[rows]]))[0])
    return mu


def table_arrays(model, params, data) -> dict:
    """e, v, x and the visual mask (SGNS, V-SGNS)."""
    del model
    return visual_arrays(data) | {"e": np.asarray(params["e"]), "v": np.asarray(params["v"])}


def pixie_arrays(model: Pixie, params, data) -> dict:
    """:func:`table_arrays` and mu, s (eq. 10) and t (eq. 11)."""
    arrays = table_arrays(model, params, data)
    mu, mask = encoder_means(model, params, data), arrays["mask"]
    return arrays | {
        "mu": mu,
        "s": np.asarray(embedding_s(arrays["e"], mu, mask)),
        "t": np.asarray(embedding_t(arrays["e"], mu, mask)),
    }


def vae_arrays(model: Pixie, params, data) -> dict:
    """mu, x and the visual mask (the VAE alone)."""
    return visual_arrays(data) | {"mu": encoder_means(model, params, data)}


def visual_only_embeddings(model: Pixie, params, data, text_dim: int | None = None) -> dict:
    """Words with features but outside the vocabulary have no text: e_w = 0, so
    s_w = mu_phi(x_w) and t_w = [0, mu_phi(x_w)], with x_w scaled as the training words were.
    ``text_dim=None`` (a model without text) gives mu and x only."""
    mu = np.asarray(model.encode(params, jnp.asarray(data.scaling.apply(data.visual_only_features)))[0])
    if text_dim is None:
        return {"mu": mu, "x": data.visual_only_features}
    zeros = np.zeros((len(mu), text_dim), np.float32)
    return {"mu": mu, "s": mu, "t": np.concatenate([zeros, mu], axis=1), "x": data.visual_only_features}
