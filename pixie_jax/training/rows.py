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


class Bag(NamedTuple):
    """Rows summed per entry: ``ids`` int [M] rows of the table, ``segments`` int [M] the entry each adds to
    (0 .. E - 1 in the row-major order of ``shape``; E or more at a padding slot, which adds nothing and gets
    no gradient), ``shape`` the entries' shape (static, E = prod(shape)). Gathered, entry b is
    sum_{j: segments_j = b} T[ids_j] ([*shape, K]). M is a static bound on the rows of all the entries
    together, not on one entry's. A padding slot's id is best the table's size (out of range: read as zeros,
    skipped by a row-sparse update), so that no row is touched for it."""

    ids: jax.Array
    segments: jax.Array
    shape: tuple[int, ...]


def is_bag(x) -> bool:
    return isinstance(x, Bag)


def row_ids(leaf):
    """The rows an index leaf reads: a :class:`Bag`'s ``ids``, or the int array itself."""
    return leaf.ids if is_bag(leaf) else leaf


def bag_of_lists(entries, offsets, members, bound: int, pad_id: int) -> tuple[Bag, jax.Array]:
    """The :class:`Bag` of ``entries`` (int [*shape]) in a ragged table of lists: entry b reads
    ``members[offsets[x_b]:offsets[x_b + 1]]`` (compressed rows: ``offsets`` int [L + 1], ``members`` int
    [offsets[-1]]), all the entries' rows laid end to end in ``bound`` slots (static); the slots past their
    total hold ``pad_id``. Returns (the bag, the rows dropped because they did not fit: 0 when the total is
    within the bound)."""
    flat = jnp.ravel(entries)
    starts, lengths = offsets[flat], offsets[flat + 1] - offsets[flat]
    ends = jnp.cumsum(lengths)  # entry b's rows take slots ends_b - lengths_b .. ends_b - 1
    slot = jnp.arange(bound, dtype=ends.dtype)
    segment = jnp.searchsorted(ends, slot, side="right").astype(jnp.int32)  # E past the total
    within = segment < flat.shape[0]
    entry = jnp.minimum(segment, flat.shape[0] - 1)  # a padding slot's: any, masked below
    member = starts[entry] + slot - (ends - lengths)[entry]
    ids = jnp.where(within, members[jnp.where(within, member, 0)], pad_id)
    dropped = jnp.sum(lengths - rows_within_bound(lengths, bound))
    return Bag(ids.astype(jnp.int32), segment, tuple(entries.shape)), dropped


def rows_within_bound(lengths, bound: int):
    """Each entry's rows that a bag of ``bound`` slots keeps when entries of ``lengths`` (int [E]) rows are
    laid end to end (:func:`bag_of_lists`): all of them, then those that reach into the bound, then none."""
    ends = jnp.cumsum(lengths)
    return jnp.clip(bound - (ends - lengths), 0, lengths)


def _read_leaf(table, leaf):
    """``table[i]`` for an int array; a bag's rows ``table[ids]`` [M, K], zeros for out-of-range ids."""
    return table.at[leaf.ids].get(mode="fill", fill_value=0) if is_bag(leaf) else table[leaf]


def _sum_leaf(leaf, rows):
    """A bag's rows [M, K] summed per entry ([*shape, K]); any other leaf's rows unchanged."""
    if not is_bag(leaf):
        return rows
    entries = int(np.prod(leaf.shape))
    return jax.ops.segment_sum(rows, leaf.segments, num_segments=entries).reshape(*leaf.shape, rows.shape[-1])


def has_bags(index_tree: dict) -> bool:
    return any(is_bag(x) for x in jax.tree.leaves(index_tree, is_leaf=is_bag))


def combine(read_rows_tree: dict, index_tree: dict) -> dict:
    """The rows the loss sees: :func:`read`'s with each :class:`Bag`'s rows summed per entry."""
    if not has_bags(index_tree):
        return read_rows_tree
    return {t: jax.tree.map(_sum_leaf, index_tree[t], sub, is_leaf=is_bag) for t, sub in read_rows_tree.items()}


def split(params: dict, names) -> tuple[dict, dict]:
    """(the row tables ``names``, every other parameter)."""
    return {k: p for k, p in params.items() if k in names}, {k: p for k, p in params.items() if k not in names}


def read(params: dict, index_tree: dict) -> dict:
    """``index_tree`` ({table: pytree of index leaves}) with each int array ``i`` replaced by
    ``params[table][i]`` and each :class:`Bag` by its rows [M, K], not yet summed."""
    return {
        table: jax.tree.map(lambda i, t=table: _read_leaf(params[t], i), sub, is_leaf=is_bag)
        for table, sub in index_tree.items()
    }


def gather(params: dict, index_tree: dict) -> dict:
    """The rows a loss sees: ``params[table][i]`` for each int array ``i`` of ``index_tree`` ({table: pytree
    of index leaves}), each :class:`Bag`'s rows summed per entry (:func:`read`, :func:`combine`)."""
    return combine(read(params, index_tree), index_tree)


def flat_indices(index_tree: dict) -> dict:
    """The rows each table's index leaves read (:func:`row_ids`), flattened, in the pytree's leaf order:
    {table: [int [n_1], ...]}."""
    leaves = {table: jax.tree.leaves(sub, is_leaf=is_bag) for table, sub in index_tree.items()}
    return {table: [jnp.ravel(row_ids(i)) for i in parts] for table, parts in leaves.items()}


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
    there, a scatter with mode='drop' skips it), and each entry's slot, so that ``rows[inverse] == index``;
    entries of ``size`` (padding) share the slot after the distinct rows (slot m, out of range, when all
    ``size`` rows are touched).

    Where 4 n >= size, through a mask over the table's rows (O(size + n), no sort); below that, through a
    sort of the n entries (O(n log n), nothing in proportion to the table)."""
    n = index.shape[0]
    m = min(size, n)
    if 4 * n >= size:
        touched = jnp.zeros((size,), bool).at[index].set(True, mode="drop")
        (rows,) = jnp.nonzero(touched, size=m, fill_value=size)
        slot = jnp.cumsum(touched, dtype=jnp.int32) - 1  # a touched row's place among the touched
        # an entry out of range takes the slot after the touched rows, as the sort gives it (row size there,
        # or past the m slots when every row is touched): never a touched row's slot
        inside = (index >= 0) & (index < size)
        return rows.astype(index.dtype), jnp.where(inside, slot[jnp.where(inside, index, 0)], slot[-1] + 1)
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


def expand(distinct_read: dict, inverse: dict, index_tree: dict) -> dict:
    """``index_tree`` with each index leaf of table t replaced by its rows (as :func:`read` gives them), taken
    from the distinct rows ``distinct_read[t]`` [m, K] through ``inverse[t]``: each row read once."""
    out = {}
    for table, sub in index_tree.items():
        leaves, treedef = jax.tree.flatten(sub, is_leaf=is_bag)
        ids = [row_ids(leaf) for leaf in leaves]
        every = distinct_read[table][inverse[table]]
        ends = np.cumsum([i.size for i in ids])[:-1]
        parts = jnp.split(every, ends) if len(leaves) > 1 else [every]
        out[table] = jax.tree.unflatten(treedef, [p.reshape(*i.shape, every.shape[-1]) for p, i in zip(parts, ids)])
    return out


def gather_once(params: dict, index_tree: dict) -> dict:
    """:func:`gather`, each distinct row of a table read once (:func:`distinct`); under autodiff the
    entries' gradients are summed per distinct row, then m rows scattered into the table."""
    found = distinct(index_tree, {t: params[t].shape[0] for t in index_tree})
    return combine(expand(read_rows(params, found.rows), found.inverse, index_tree), index_tree)
