"""A research variant in one file: SGNS with one tied table, a word's row serving as centre and as
context: f(w, c) = u_w . u_c, the loss eq. (2) otherwise.

    bin/train --config examples/tied_sgns_config.py --workdir runs/tied

The model declares its one row table ``u`` and the rows a batch reads of it (the centres, and each
context with its negatives); the trainer gathers and updates them as it does PIXIE's e and v, with
dense Adam or a row-sparse optimizer alike.
"""

import functools
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from pixie_jax.models import objective
from pixie_jax.models.spec import ModelSpec
from pixie_jax.training import rows, sampling
from pixie_jax.training.trainable import Trainable


class TiedSgns(NamedTuple):
    vocab_size: int
    dim: int = 100

    def init(self, key) -> dict:
        """u ~ U(-0.5/K, 0.5/K): the table is also the context table, so it cannot start at zero."""
        return {"u": jax.random.uniform(key, (self.vocab_size, self.dim), jnp.float32, -0.5 / self.dim, 0.5 / self.dim)}

    def combine(self, params, e, z):
        """What a centre is scored with: its row (z = 0, no visual part)."""
        return e + z


def row_index(batch: dict) -> dict:
    """The rows of ``u`` a batch reads: PIXIE's e rows (the centres) and v rows (contexts, negatives)."""
    pixie_rows = objective.row_index_tree(batch)
    return {"u": {"centre": pixie_rows["e"], "context": pixie_rows["v"]}}


TABLES = rows.RowTables(("u",), row_index)


def loss(model, params, gathered, batch, features):
    """Eq. (2) negated, summed over the batch's pairs with their sampling weights."""
    del features
    u = gathered["u"]
    by_stratum = {name: {"e": u["centre"][name], **u["context"][name]} for name in u["centre"]}
    text = sum(objective.stratum_text_loss(model, params, by_stratum[s], batch[s], None) for s in by_stratum)
    return text, {"loss": text, "loss_text": text}


def bind(config, model, data, sampler) -> Trainable:
    """What the trainer trains: the loss bound to the model, the table u, the skip-gram batch."""
    return Trainable(model, functools.partial(loss, model), TABLES, sampling.batch_sampler(sampler), sampler)


def arrays(model, params, data) -> dict:
    return {"e": np.asarray(params["u"]), "mask": np.zeros(model.vocab_size, np.float32)}


SPEC = ModelSpec(
    "tied_sgns",
    lambda config, vocab_size: TiedSgns(vocab_size, config.model.dim),
    bind,
    arrays,
    kinds=("e",),
    scored_kinds=("e",),
    embedding="e",
)
