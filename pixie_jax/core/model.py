"""PIXIE as pure functions: encoder, decoder, fusion, fused SGNS logits, the Monte Carlo ELBO.

Notation (paper section 2): word embeddings ``e[w]``, context embeddings ``v[c]`` (K-dim),
visual features ``x[w]`` (D-dim, scaled into [0, 1]), latent visual factors ``z[w]`` (K-dim).

    q_phi(z|x)   = N(mu_phi(x), diag exp(logvar_phi(x)))          encoder, eq. (8)
    p_theta(x|z) = N(mean_theta(z), diag exp(logvar_theta(z)))    decoder, eq. (3)
    p(y_wc = 1)  = sigmoid(f(e_w, v_c, z_w)),  f = v_c . (e_w + z_w)  eq. (4), (5)

All parameters live in one pytree ``params = {"e", "v", "encoder", "decoder", "fusion"}``.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import NamedTuple

import flax.linen as nn
import jax
import jax.numpy as jnp

LOG_2PI = math.log(2.0 * math.pi)


class Encoder(nn.Module):
    """mu_phi(x), logvar_phi(x): one hidden layer (tanh units in the paper, 4.1), linear outputs."""

    hidden: int = 500
    latent: int = 100
    activation: Callable = jnp.tanh

    @nn.compact
    def __call__(self, x):
        h = self.activation(nn.Dense(self.hidden, name="hidden")(x))
        return nn.Dense(self.latent, name="mu")(h), nn.Dense(self.latent, name="logvar")(h)


MIN_DECODER_LOGVAR = math.log(1e-4)


class Decoder(nn.Module):
    """mean_theta(z) (sigmoid outputs) and logvar_theta(z): one hidden layer (tanh units in the paper).

    The log-variance is a linear output r floored smoothly at log(1e-4) (sigma >= 0.01 on features
    in [0, 1]): logvar = m + softplus(r - m). Without a floor a Gaussian decoder can drive the
    variance of near-constant feature dimensions to zero and its likelihood to infinity.
    """

    hidden: int = 500
    features: int = 1280
    activation: Callable = jnp.tanh

    @nn.compact
    def __call__(self, z):
        h = self.activation(nn.Dense(self.hidden, name="hidden")(z))
        raw = nn.Dense(self.features, name="logvar")(h)
        logvar = MIN_DECODER_LOGVAR + jax.nn.softplus(raw - MIN_DECODER_LOGVAR)
        return nn.sigmoid(nn.Dense(self.features, name="mean")(h)), logvar


# ---------------------------------------------------------------- fusion
class Fusion(NamedTuple):
    """A fusion ``f(e, v, z) = v . combine(fusion_params, e, z)``.

    Keeping f bilinear in v lets one word vector serve its positive context and all its
    negatives as one matrix product. ``init(K)`` returns the fusion's own parameters.
    """

    init: Callable[[int], dict]
    combine: Callable[[dict, jax.Array, jax.Array], jax.Array]


def _additive_combine(fparams, e, z):
    del fparams
    return e + z


def _gated_combine(fparams, e, z):
    return e + jax.nn.sigmoid(fparams["gate"]) * z


ADDITIVE = Fusion(init=lambda k: {}, combine=_additive_combine)
"""Eq. (5): f(e, v, z) = v . (e + z)."""

GATED = Fusion(init=lambda k: {"gate": jnp.zeros((k,), jnp.float32)}, combine=_gated_combine)
"""A learned per-dimension gate: f(e, v, z) = v . (e + sigmoid(g) * z), g initialised to 0."""

FUSIONS = {"additive": ADDITIVE, "gated": GATED}


# ---------------------------------------------------------------- distributions
def gaussian_kl(mu, logvar):
    """KL(N(mu, diag e^logvar) || N(0, I)) = 1/2 sum_k (e^logvar + mu^2 - 1 - logvar)."""
    return 0.5 * jnp.sum(jnp.exp(logvar) + mu**2 - 1.0 - logvar, axis=-1)


def gaussian_log_likelihood(x, mean, logvar):
    """log N(x | mean, diag e^logvar) = -1/2 sum_d (log 2 pi + logvar + (x - mean)^2 e^-logvar)."""
    return -0.5 * jnp.sum(LOG_2PI + logvar + (x - mean) ** 2 * jnp.exp(-logvar), axis=-1)


def reparameterise(mu, logvar, eps):
    """z^(j) = mu + exp(logvar / 2) * eps^(j): ``mu``, ``logvar`` [..., K], ``eps`` [..., J, K] ~ N(0, I)."""
    return mu[..., None, :] + jnp.exp(0.5 * logvar)[..., None, :] * eps


# ---------------------------------------------------------------- the model
def init_tables(key, vocab_size: int, dim: int) -> dict:
    """word2vec's initialisation: e ~ U(-0.5/K, 0.5/K), v = 0."""
    return {
        "e": jax.random.uniform(key, (vocab_size, dim), jnp.float32, -0.5 / dim, 0.5 / dim),
        "v": jnp.zeros((vocab_size, dim), jnp.float32),
    }


class Pixie(NamedTuple):
    """The model's sizes and pure functions; ``init`` builds the parameter pytree. A variant is one
    ``_replace`` away: ``model._replace(activation=jax.nn.relu)`` for ReLU encoder and decoder units."""

    vocab_size: int
    dim: int = 100
    features: int = 1280
    hidden: int = 500
    fusion: Fusion = ADDITIVE
    activation: Callable = jnp.tanh  # of the encoder's and decoder's hidden units

    @property
    def encoder(self) -> Encoder:
        return Encoder(self.hidden, self.dim, self.activation)

    @property
    def decoder(self) -> Decoder:
        return Decoder(self.hidden, self.features, self.activation)

    def init(self, key) -> dict:
        """:func:`init_tables` for e and v; Flax's default init for the networks."""
        k_e, k_enc, k_dec = jax.random.split(key, 3)
        return init_tables(k_e, self.vocab_size, self.dim) | {
            "encoder": self.encoder.init(k_enc, jnp.zeros((1, self.features)))["params"],
            "decoder": self.decoder.init(k_dec, jnp.zeros((1, self.dim)))["params"],
            "fusion": self.fusion.init(self.dim),
        }

    def encode(self, params, x):
        """mu_phi(x), logvar_phi(x)."""
        return self.encoder.apply({"params": params["encoder"]}, x)

    def decode(self, params, z):
        """mean_theta(z), logvar_theta(z)."""
        return self.decoder.apply({"params": params["decoder"]}, z)

    def combine(self, params, e, z):
        """combine(e_w, z_w): the vector every context of w is scored against (e_w + z_w in eq. (5))."""
        return self.fusion.combine(params["fusion"], e, z)


def fused_logits(model: Pixie, params, e, z, v):
    """Eq. (5) for each context: f(e_w, v_c, z_w) = v_c . combine(e_w, z_w), on gathered rows.

    ``e`` [B, K] rows of the centres, ``z`` [B, J, K] their latent draws (zero for words without
    features), ``v`` [B, C, M, K] rows of each centre's contexts (a context and its negatives)
    give logits [B, J, C, M].
    """
    h = model.combine(params, e[:, None, :], z)  # [B, J, K]: e_w + z_w
    return jnp.einsum("bjk,bcmk->bjcm", h, v)


def sgns_pair_loss(pos_logit, neg_logits):
    """Eq. (2), negated: -log sigmoid(f(w, c)) - sum_i log sigmoid(-f(w, c'_i))."""
    return -jax.nn.log_sigmoid(pos_logit) - jnp.sum(jax.nn.log_sigmoid(-neg_logits), axis=-1)


def visual_elbo(model: Pixie, params, x, eps):
    """The visual part of eq. (9) for each word: 1/J sum_j log p_theta(x|z^(j)) - KL(q_phi(z|x) || N(0, I)).

    ``x`` [..., D], ``eps`` [..., J, K] standard normal draws; returns
    (elbo [...], log-likelihood [...], KL [...]).
    """
    mu, logvar = model.encode(params, x)
    mean, dec_logvar = model.decode(params, reparameterise(mu, logvar, eps))
    log_lik = gaussian_log_likelihood(x[..., None, :], mean, dec_logvar).mean(axis=-1)
    kl = gaussian_kl(mu, logvar)
    return log_lik - kl, log_lik, kl
