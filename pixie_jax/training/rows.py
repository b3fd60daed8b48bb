"""Row tables: parameters that a step reads only at the rows its batch names, such as word embedding
tables. The trainer gathers and updates them for any model, knowing none by name.

A model declares its tables with :class:`RowTables`: their parameter names, and ``index(batch)``,
which gives for each table a pytree of integer index arrays into it. The trainer gathers the rows
(:func:`gather`: ``T[i]`` for every index array ``i`` of table ``T``) and hands them to the model's
loss. It then updates the tables densely, through the gather, or at the gathered rows only
(:mod:`pixie_jax.training.sparse`), with the indices and row gradients flattened by :func:`flat_indices` and
:func:`flat_grads` in one order (the pytree's leaves').
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

import jax
import jax.numpy as jnp


class RowTables(NamedTuple):
    """A model's row tables: ``names`` of the parameters, and ``index(batch) -> {name: pytree of int
    arrays}``, the rows of each table a batch reads (a table a batch does not read may be left out)."""

    names: tuple[str, ...]
    index: Callable[[dict], dict]


NO_TABLES = RowTables((), lambda batch: {})  # a model without row tables (the VAE)


def split(params: dict, names) -> tuple[dict, dict]:
    """(the row tables ``names``, every other parameter)."""
    return {k: p for k, p in params.items() if k in names}, {k: p for k, p in params.items() if k not in names}


def gather(params: dict, index_tree: dict) -> dict:
    """``index_tree`` ({table: pytree of int arrays}) with each array ``i`` replaced by ``params[table][i]``."""
    return {table: jax.tree.map(lambda i, t=table: params[t][i], sub) for table, sub in index_tree.items()}


def flat_indices(index_tree: dict) -> dict:
    """The index arrays of each table, flattened, in the pytree's leaf order: {table: [int [n_1], ...]}."""
    return {table: [jnp.ravel(i) for i in jax.tree.leaves(sub)] for table, sub in index_tree.items()}


def flat_grads(row_grads: dict) -> dict:
    """The gradients of :func:`gather`'s rows in :func:`flat_indices` order: {table: [[n_1, K], ...]}."""
    return {table: [g.reshape(-1, g.shape[-1]) for g in jax.tree.leaves(sub)] for table, sub in row_grads.items()}
