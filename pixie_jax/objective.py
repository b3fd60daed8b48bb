"""The minibatch loss: an unbiased estimate of the objective in docs/objective.md.

    J(e, v, phi, theta) = J_text + lambda * J_visual

    J_text   = E_{(w,c) ~ D} E_{c'_1..N ~ P_n} E_{z ~ q_phi(z|x_w)} [ -log s(f(e_w, v_c, z))
                                                                  - sum_i log s(-f(e_w, v_c'_i, z)) ]
    J_visual = 1/|V_x| sum_{w in V_x} -( E_{z ~ q_phi(z|x_w)} log p_theta(x_w|z) - KL(q_phi(z|x_w) || N(0, I)) )

D is word2vec's pair distribution (see :mod:`pixie_jax.sampling`), z_w = 0 for words
without features, s the logistic sigmoid. With lambda = |V_x| / P (P pairs in a pass) J is
the paper's eq. (7) summed over words, divided by P.
"""
from __future__ import annotations

import jax
import jax.numpy as jnp

from pixie_jax.model import Pixie, reparameterise, visual_elbo


def stratum_text_loss(model: Pixie, params, stratum: dict, z, negative_group: int):
    """Sum over centres b of weight_b * 1/J sum_j sum_c valid_bc * (eq. (2) negated with z^(j)).

    ``z`` [B, J, K] or None (z = 0). Returns a scalar.
    """
    words, ctx, valid, neg = stratum["words"], stratum["contexts"], stratum["valid"], stratum["negatives"]
    if z is None:
        z = jnp.zeros(words.shape + (1, params["e"].shape[1]), params["e"].dtype)
    h = model.word_vectors(params, words[:, None], z)                      # [B, J, K]
    v = params["v"]
    pos_loss = -jax.nn.log_sigmoid(jnp.einsum("bjk,bck->bjc", h, v[ctx]))  # [B, J, C]
    per_pair = jnp.einsum("bjc,bc->bj", pos_loss, valid)
    if neg.shape[-1]:
        if negative_group == 1:
            neg_logits = jnp.einsum("bjk,bcnk->bjcn", h, v[neg])
            neg_loss = -jax.nn.log_sigmoid(-neg_logits).sum(-1)              # [B, J, C]
            per_pair = per_pair + jnp.einsum("bjc,bc->bj", neg_loss, valid)
        else:
            groups = neg.shape[0]
            hg = h.reshape((groups, -1) + h.shape[1:])                       # [G', m, J, K]
            neg_logits = jnp.einsum("gmjk,gnk->gmjn", hg, v[neg])
            neg_loss = -jax.nn.log_sigmoid(-neg_logits).sum(-1).reshape(h.shape[:2])  # [B, J]
            per_pair = per_pair + neg_loss * valid.sum(-1, keepdims=True)
    return jnp.sum(stratum["weight"] * per_pair.mean(-1))


def batch_loss(model: Pixie, params, batch: dict, features, negative_group: int, n_vae_total: int = 0):
    """The loss of one batch (or one device's share of it) and its metrics.

    Every term is pre-weighted by its global normaliser, so shares add up (psum) to the
    whole batch's loss. ``features`` [V_x, D] holds the scaled visual features.
    """
    text = stratum_text_loss(model, params, batch["text"], None, negative_group)
    metrics = {"loss_text": text}
    if "visual" in batch:
        vis = batch["visual"]
        mu, logvar = model.encode(params, features[vis["rows"]])
        z = reparameterise(mu, logvar, vis["eps"])
        text = text + stratum_text_loss(model, params, vis, z, negative_group)
        metrics["loss_text"] = text
    loss = text
    if "vae" in batch:
        vae = batch["vae"]
        elbo, log_lik, kl = visual_elbo(model, params, features[vae["rows"]], vae["eps"])
        loss = loss - jnp.sum(vae["weight"] * elbo)
        metrics["visual_log_lik"] = log_lik.sum() / n_vae_total
        metrics["visual_kl"] = kl.sum() / n_vae_total
        metrics["loss_visual"] = -elbo.sum() / n_vae_total
    metrics["loss"] = loss
    return loss, metrics
