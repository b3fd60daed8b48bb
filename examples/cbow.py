"""CBOW with negative sampling, word2vec's other model, in one file: the mean of a centre's context rows
of e predicts the centre against N noise words by their rows of v,

    loss_w = -log sigmoid(h_w . v_w) - sum_n log sigmoid(-h_w . v_n),   h_w = mean of e_c over w's window,

averaged over the centres (each centre is one example). It draws from the skip-gram sampler's text
stratum (a centre's reduced window gives its contexts; a centre takes the negatives of its first context
slot) and tells the trainer what its step holds (:class:`pixie_jax.training.trainable.StepCounts`): one
example a centre, a pass of one example a kept token, the rows of e and v it gathers.

    bin/train --config examples/cbow_config.py --workdir runs/cbow
"""

import dataclasses
import functools
from typing import NamedTuple

import jax.numpy as jnp
import numpy as np

from pixie_jax.core.model import init_tables, sgns_pair_loss
from pixie_jax.errors import InputError
from pixie_jax.models.spec import ModelSpec
from pixie_jax.training import rows, sampling
from pixie_jax.training.trainable import Trainable, skipgram_counts


class Cbow(NamedTuple):
    vocab_size: int
    dim: int = 100

    def init(self, key) -> dict:
        """word2vec's initialisation: e ~ U(-0.5/K, 0.5/K), v = 0."""
        return init_tables(key, self.vocab_size, self.dim)


def context_means(stratum: dict, e_rows):
    """(h [B, K], the contexts each centre has [B]): the mean of each centre's valid context rows, from
    ``e_rows`` [R, S, K] gathered at the stratum's context slots. Packed rows (``enumerate_window``) hold
    centres 2r and 2r + 1 (``owner`` says whose a slot is); otherwise row b is centre b's."""
    valid = stratum["valid"]  # [R, S]
    if "owner" in stratum:
        owner = stratum["owner"].astype(valid.dtype)
        slots = jnp.stack([valid * (1 - owner), valid * owner], axis=1)  # [R, 2, S]
        sums = jnp.einsum("ros,rsk->rok", slots, e_rows).reshape((-1, e_rows.shape[-1]))
        counts = slots.sum(-1).reshape(-1)
    else:
        sums, counts = jnp.einsum("bs,bsk->bk", valid, e_rows), valid.sum(-1)
    return sums / jnp.maximum(counts, 1.0)[:, None], counts


def centre_negatives(stratum: dict):
    """Each centre's N negatives [B, N]: those of its first context slot (the second centre of a packed
    row owns the row's last slot)."""
    negatives = stratum["negatives"]  # [R, S, N]
    if "owner" in stratum:
        return jnp.stack([negatives[:, 0], negatives[:, -1]], axis=1).reshape((-1, negatives.shape[-1]))
    return negatives[:, 0]


def row_index(batch: dict) -> dict:
    """e: the context slots [R, S] of the text stratum; v: each centre, then its negatives [B, 1 + N]."""
    text = batch["text"]
    out = jnp.concatenate([text["words"][:, None], centre_negatives(text)], axis=1)
    return {"e": {"text": text["contexts"]}, "v": {"text": out}}


TABLES = rows.RowTables(("e", "v"), row_index)


def loss(pairs_per_centre: float, params, gathered, batch, features):
    """sum_w weight_w * loss_w over the centres with a context; the sampler's weight is per pair, so it is
    scaled by the pairs a centre has on average to weigh each centre once."""
    del params, features
    text = batch["text"]
    h, counts = context_means(text, gathered["e"]["text"])
    logits = jnp.einsum("bk,bmk->bm", h, gathered["v"]["text"])  # [B, 1 + N]: the centre, then its negatives
    per_centre = sgns_pair_loss(logits[:, 0], logits[:, 1:]) * (counts > 0)
    total = jnp.sum(text["weight"] * pairs_per_centre * per_centre)
    return total, {"loss": total, "loss_text": total}


def bind(config, model, data, sampler) -> Trainable:
    """What the trainer trains: the loss, the tables e and v, the text stratum, one example a centre."""
    if sampler.negative_group != 1 or sampler.visual_centres:
        raise InputError("cbow draws text centres only, each pair its own negatives: set sampler.negative_group=1")
    slots = sampler.context_slots(sampler.text_centres)
    counts = dataclasses.replace(
        skipgram_counts(sampler),
        examples=sampler.text_centres,  # one example a centre, one a kept token
        unit="centres",
        per_token=1,
        rows=slots + sampler.text_centres * (1 + sampler.negatives),  # e: the contexts; v: each centre, N negatives
    )
    return Trainable(
        model,
        functools.partial(loss, float(sampler.pairs_per_centre)),
        TABLES,
        sampling.batch_sampler(sampler),
        sampler,
        counts=counts,
    )


def arrays(model, params, data) -> dict:
    return {"e": np.asarray(params["e"]), "mask": np.zeros(model.vocab_size, np.float32)}


SPEC = ModelSpec(
    "cbow",
    lambda config, vocab_size: Cbow(vocab_size, config.model.dim),
    bind,
    arrays,
    kinds=("e",),
    scored_kinds=("e",),
    embedding="e",
)
