"""Row tables: parameters that a step reads only at the rows its batch names, such as word embedding
tables. The trainer gathers and updates them for any model, knowing none by name.

A model declares its tables with :class:`RowTables`: their parameter names, and ``index(batch)``,
which gives for each table a pytree of integer index arrays into it. The trainer gathers the rows
(:func:`gather`: ``T[i]`` for every index array ``i`` of table ``T``) and hands them to the model's
loss. It then updates the tables densely, through the gather, or at the gathered rows only
(:mod:`pixie_jax.training.sparse`), with the indices and row gradients flattened by :func:`flat_indices` and
:func:`flat_grads` in one order (the pytree's leaves').

Each row once a step (:func:`distinct`, :func:`gather_once`): the n entries a step gathers of a table
name at most m = min(V, n) distinct rows. The step reads those m rows once, hands every entry its row
from them (``read[inverse]``), and so receives their gradients summed per distinct row (the transpose
of that second gather) before anything reaches the table: the table's gradient, a row-sparse update
and a sharded exchange touch m rows, not n.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np


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


SETTINGS = ("auto", "on", "off")  # config.distinct_rows
CHOICES = (("distinct_rows", SETTINGS),)


def decide(setting: str, platform: str, sharded: bool, optimizer: str = "adam") -> tuple[bool, str]:
    """Whether a step reads each distinct row once (``config.distinct_rows``), and why. 'auto' does so with
    sharded tables, where it shrinks the rows exchanged, and with lazy Adam on an accelerator, which
    otherwise sums each row's entries itself (1.2x SGNS's step on an H200). Elsewhere it does not: the
    static bound m = min(V, n) reaches the whole table at a step's usual size, so the index work and the
    second gather cost more than the rows saved (dense Adam: SGNS 1.8x slower on an H200, PIXIE 16% on 2
    CPU cores; benchmarks/RESULTS.md, 'Each row once a step')."""
    if setting in ("on", "off"):
        return setting == "on", f"distinct_rows = {setting}"
    if sharded:
        return True, "distinct_rows = auto: the tables are sharded, so fewer rows are exchanged"
    if optimizer == "lazy_adam" and platform != "cpu":
        return True, f"distinct_rows = auto: lazy_adam on a {platform} device sums no row twice"
    return False, f"distinct_rows = auto: replicated tables, {optimizer} on a {platform} device"


def distinct_rows(index, size: int):
    """(rows [m], inverse [n]) of a flat int ``index`` [n] into a table of ``size`` rows, m = min(size, n)
    static: the distinct rows ascending, then ``size`` (out of range: a gather with mode='fill' reads zeros
    there, a scatter with mode='drop' skips it), and each entry's slot, so that ``rows[inverse] == index``.

    Where 4 n >= size, through a mask over the table's rows (O(size + n), no sort); below that, through a
    sort of the n entries (O(n log n), nothing in proportion to the table)."""
    n = index.shape[0]
    m = min(size, n)
    if 4 * n >= size:
        touched = jnp.zeros((size,), bool).at[index].set(True)
        (rows,) = jnp.nonzero(touched, size=m, fill_value=size)
        slot = jnp.cumsum(touched, dtype=jnp.int32) - 1  # a touched row's place among the touched
        return rows.astype(index.dtype), slot[index]
    order = jnp.argsort(index)
    ordered = index[order]
    first = jnp.concatenate([jnp.ones((1,), bool), ordered[1:] != ordered[:-1]])
    segment = jnp.cumsum(first, dtype=jnp.int32) - 1
    rows = jnp.full((m,), size, index.dtype).at[segment].set(ordered)
    return rows, jnp.zeros((n,), jnp.int32).at[order].set(segment, unique_indices=True)


class Distinct(NamedTuple):
    """The distinct rows of each table a batch reads (:func:`distinct`): ``rows`` {table: int [m]} and
    ``inverse`` {table: int [n]}, n the table's entries in :func:`flat_indices` order."""

    rows: dict
    inverse: dict


def distinct(index_tree: dict, sizes: dict) -> Distinct:
    """:func:`distinct_rows` of all the entries of each table of ``index_tree`` ({table: pytree of int
    arrays}) into a table of ``sizes[table]`` rows."""
    pairs = {t: distinct_rows(jnp.concatenate(parts), sizes[t]) for t, parts in flat_indices(index_tree).items()}
    return Distinct({t: r for t, (r, _) in pairs.items()}, {t: i for t, (_, i) in pairs.items()})


def read_rows(params: dict, rows: dict) -> dict:
    """``{table: params[table][rows[table]]}`` for distinct, ascending ``rows``; zeros at the padding slots."""
    return {
        t: params[t].at[r].get(mode="fill", fill_value=0, unique_indices=True, indices_are_sorted=True)
        for t, r in rows.items()
    }


def expand(read: dict, inverse: dict, index_tree: dict) -> dict:
    """``index_tree`` with each index array ``i`` of table t replaced by its rows, taken from the distinct rows
    ``read[t]`` [m, K] through ``inverse[t]``: what :func:`gather` gives, each row read once."""
    out = {}
    for table, sub in index_tree.items():
        leaves, treedef = jax.tree.flatten(sub)
        every = read[table][inverse[table]]
        ends = np.cumsum([leaf.size for leaf in leaves])[:-1]
        parts = jnp.split(every, ends) if len(leaves) > 1 else [every]
        out[table] = jax.tree.unflatten(
            treedef, [p.reshape(*leaf.shape, every.shape[-1]) for p, leaf in zip(parts, leaves)]
        )
    return out


def gather_once(params: dict, index_tree: dict) -> dict:
    """:func:`gather`, each distinct row of a table read once (:func:`distinct`); under autodiff the
    entries' gradients are summed per distinct row, then m rows scattered into the table."""
    found = distinct(index_tree, {t: params[t].shape[0] for t in index_tree})
    return expand(read_rows(params, found.rows), found.inverse, index_tree)
