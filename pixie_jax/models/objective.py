"""The minibatch loss: an unbiased estimate of the objective in docs/objective.md.

    J(e, v, phi, theta) = J_text + lambda * J_visual

    J_text   = E_{(w,c) ~ D} E_{c'_1..N ~ P_n} E_{z ~ q_phi(z|x_w)} [ -log s(f(e_w, v_c, z))
                                                                  - sum_i log s(-f(e_w, v_c'_i, z)) ]
    J_visual = 1/|V_x| sum_{w in V_x} -( E_{z ~ q_phi(z|x_w)} log p_theta(x_w|z) - KL(q_phi(z|x_w) || N(0, I)) )

D is word2vec's pair distribution (see :mod:`pixie_jax.training.sampling`), z_w = 0 for words
without features, s the logistic sigmoid. With lambda = |V_x| / P (P pairs in a pass) J is
the paper's eq. (7) summed over words, divided by P.

The loss reads the tables e and v only through the rows a batch gathers (:func:`gather_rows`),
so its gradient can be taken with respect to those rows alone (sparse updates, see
:mod:`pixie_jax.training.sparse`) or, through the gather, with respect to the whole tables.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

from pixie_jax.core.model import Pixie, fused_logits, reparameterise, sgns_pair_loss, visual_elbo
from pixie_jax.errors import InputError
from pixie_jax.training import rows as rows_lib

STRATA = ("text", "visual")
TABLES = ("e", "v")  # the row tables PIXIE's batches read (:data:`ROWS`)


def row_index_tree(batch: dict) -> dict:
    """The table rows each centre stratum reads: of ``e`` [B] the centres and, of ``v``, either ``out``
    [B, C, 1 + N] (each context, then its own negatives, for one gather; G = 1) or ``ctx`` [B, C] and
    ``neg`` [G', N]. Keyed by table, then stratum: {'e': {stratum: [B]}, 'v': {stratum: {part: ...}}}."""
    tree = {"e": {}, "v": {}}
    for name in STRATA:
        if name in batch:
            ctx, neg = batch[name]["contexts"], batch[name]["negatives"]
            tree["e"][name] = batch[name]["words"]
            tree["v"][name] = (
                {"out": jnp.concatenate([ctx[..., None], neg], -1)} if neg.ndim == 3 else {"ctx": ctx, "neg": neg}
            )
    return tree


ROWS = rows_lib.RowTables(TABLES, row_index_tree)  # what PIXIE and the SGNS baselines declare to the trainer


def gather_rows(params, batch: dict) -> dict:
    """:func:`row_index_tree` with each index array replaced by its rows: ``e`` [B, K] from e, the
    others [..., K] from v (:func:`pixie_jax.training.rows.gather`)."""
    return rows_lib.gather(params, row_index_tree(batch))


def by_stratum(rows: dict) -> dict:
    """Gathered rows keyed by stratum, then part: {stratum: {'e': [B, K], 'out' or 'ctx', 'neg': ...}}."""
    return {name: {"e": rows["e"][name], **rows["v"][name]} for name in rows["e"]}


def stratum_text_loss(model, params, rows: dict, stratum: dict, z):
    """Sum over centres b of weight_b * 1/J sum_j sum_c valid_bc * (eq. (2) negated with z^(j)).

    ``rows``: the stratum's gathered rows (:func:`gather_rows`); ``z`` [B, J, K] or None (z = 0).
    Returns a scalar. Packed rows (``owner`` in the stratum) go to :func:`packed_text_loss`.
    """
    valid = stratum["valid"]
    z = jnp.zeros_like(rows["e"][:, None, :]) if z is None else z  # [B, 1 or J, K]
    if "owner" in stratum:
        return packed_text_loss(model, params, rows, stratum, z)
    if "out" in rows:  # G = 1: logits of the context (m = 0) and of its own negatives (m >= 1), eq. (5)
        logits = fused_logits(model, params, rows["e"], z, rows["out"])  # [B, J, C, 1 + N]
        per_pair = jnp.einsum("bjc,bc->bj", sgns_pair_loss(logits[..., 0], logits[..., 1:]), valid)
    else:  # one set of negatives per group of G pairs (whole centres): its loss counts for each valid pair
        h = model.combine(params, rows["e"][:, None, :], z)  # [B, J, K]: e_w + z_w
        pos_logits = jnp.einsum("bjk,bck->bjc", h, rows["ctx"])  # [B, J, C]
        per_pair = (
            jnp.einsum("bjc,bc->bj", -jax.nn.log_sigmoid(pos_logits), valid)
            - _group_negative_logsig(h, rows["neg"]) * valid.sum(-1)[:, None]
        )
    return jnp.sum(stratum["weight"] * per_pair.mean(-1))


def _group_negative_logsig(h, neg_rows):
    """sum_i log sigmoid(-h_b . v_{c'_i}) [B, J] for each centre's h [B, J, K], the negatives [G', N, K]
    of its group (centres in groups of B / G', in order)."""
    hg = h.reshape((neg_rows.shape[0], -1) + h.shape[1:])  # [G', m, J, K]
    neg_logits = jnp.einsum("gmjk,gnk->gmjn", hg, neg_rows).reshape(h.shape[:2] + (-1,))
    return jax.nn.log_sigmoid(-neg_logits).sum(-1)


def per_slot(x, owner):
    """Per-centre values ``x`` [B, ...] at each context slot of packed rows (:mod:`pixie_jax.training.sampling`,
    ``enumerate_window``): row r holds centres 2r and 2r + 1, ``owner`` [B/2, S] says which; [B/2, S, ...]."""
    pairs = x.reshape((-1, 2) + x.shape[1:])
    which = owner.reshape(owner.shape + (1,) * (x.ndim - 1)).astype(bool)
    return jnp.where(which, pairs[:, None, 1], pairs[:, None, 0])


def centre_counts(valid, owner):
    """Valid pairs of each centre of packed rows: [B] from ``valid`` and ``owner`` [B/2, S]."""
    return jnp.stack([(valid * (1 - owner)).sum(-1), (valid * owner).sum(-1)], -1).reshape(-1)


def packed_text_loss(model, params, rows: dict, stratum: dict, z):
    """:func:`stratum_text_loss` on packed rows: sum over slots (r, s) of weight * valid_rs * 1/J sum_j
    (eq. (2) negated), each slot's centre h = e_w + z_w taken by its ``owner``; with G > 1 each centre's
    shared negatives' term counts once per valid pair of the centre."""
    valid, owner = stratum["valid"], stratum["owner"]
    hc = model.combine(params, rows["e"][:, None, :], z)  # [B, J, K]
    h = per_slot(hc, owner)  # [R, S, J, K]
    slot_weight = per_slot(stratum["weight"], owner) * valid  # [R, S]
    if "out" in rows:  # G = 1: each slot's context and its own negatives
        logits = jnp.einsum("rsjk,rsmk->rjsm", h, rows["out"])  # [R, J, S, 1 + N]
        return jnp.einsum("rjs,rs->", sgns_pair_loss(logits[..., 0], logits[..., 1:]), slot_weight) / h.shape[2]
    pos = jnp.einsum("rjs,rs->", -jax.nn.log_sigmoid(jnp.einsum("rsjk,rsk->rjs", h, rows["ctx"])), slot_weight)
    neg = -_group_negative_logsig(hc, rows["neg"]).mean(-1) * centre_counts(valid, owner)
    return pos / h.shape[2] + jnp.sum(stratum["weight"] * neg)


def loss_from_rows(
    model: Pixie, params, rows: dict, batch: dict, features, vae_words: int = 1, visual_weight: float = 0.0
):
    """:func:`batch_loss` given the gathered rows (:func:`gather_rows`); ``params["e"]`` and ``params["v"]``
    are not read."""
    rows = by_stratum(rows)
    text = stratum_text_loss(model, params, rows["text"], batch["text"], None)
    if "visual" in batch:
        vis = batch["visual"]
        mu, logvar = model.encode(params, features[vis["rows"]])
        z = reparameterise(mu, logvar, vis["eps"])
        text = text + stratum_text_loss(model, params, rows["visual"], vis, z)
    metrics = {"loss_text": text}
    loss = text
    if "vae" in batch:
        vae = batch["vae"]
        elbo, log_lik, kl = visual_elbo(model, params, features[vae["rows"]], vae["eps"])
        weight = jnp.full(vae["rows"].shape, visual_weight / vae_words, jnp.float32)  # lambda / draws, each
        loss = loss - jnp.sum(weight * elbo)
        metrics["visual_log_lik"] = log_lik.sum() / vae_words
        metrics["visual_kl"] = kl.sum() / vae_words
        metrics["loss_visual"] = -elbo.sum() / vae_words
    metrics["loss"] = loss
    return loss, metrics


def batch_loss(model: Pixie, params, batch: dict, features, vae_words: int = 1, visual_weight: float = 0.0):
    """The loss of one batch (or one device's share of it) and its metrics: J_text + lambda J_visual
    with lambda = ``visual_weight`` (:func:`visual_weight`).

    Every term is pre-weighted by its global normaliser, so shares add up (psum) to the
    whole batch's loss. ``features`` [V_x, D] holds the scaled visual features; ``vae_words``, the
    global batch's VAE draws, normalises the visual term and metrics. The negatives' shape gives G.
    """
    return loss_from_rows(model, params, gather_rows(params, batch), batch, features, vae_words, visual_weight)


def visual_weight(config, data, sampler_cfg) -> float:
    """lambda: ``per_word`` gives |V_x| / P (eq. (7) summed over words; P = expected kept tokens x (L + 1)
    pairs a pass), times ``config.visual_weight``; ``fixed`` gives ``config.visual_weight``."""
    if config.visual_weight_mode == "per_word":
        pairs = max(data.expected_kept(), 1.0) * (sampler_cfg.window + 1)
        return config.visual_weight * data.n_visual / pairs
    if config.visual_weight_mode == "fixed":
        return config.visual_weight
    raise InputError(f"visual_weight_mode must be 'per_word' or 'fixed', got {config.visual_weight_mode!r}")
