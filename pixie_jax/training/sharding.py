"""Row tables sharded by rows over the devices: each device holds a slice of every row table (e, v)
and of its optimizer state, and a step moves only the rows its batch gathers.

A table T [V, K] is padded to V' = D ceil(V / D) rows (the padding rows are never read) and device d
holds rows d V'/D .. (d + 1) V'/D - 1 (PartitionSpec('data') on the rows). Inside the step's shard_map:

    gather   every device's indices i (all_gather); device d reads those it owns, T_d[i - d V'/D],
             zero for the others, and a reduce-scatter (psum_scatter) hands each device the rows of
             its own indices: the sum over owners, T[i]
    grads    autodiff transposes both: the row gradients travel back (all_gather) and are
             scatter-added into their owner's shard, whose gradient is then complete on its device;
             only the other parameters' gradients are summed over the devices (psum)
    update   a dense optimizer runs elementwise on each shard (its moments sharded the same way); a
             row-sparse one sees every device's indices and row gradients (all_gather) and applies
             those of the rows its shard owns

So a step moves about 2 (D - 1)/D x R x K x 4 bytes a device for the R rows it gathers, whatever V;
replicated tables with a dense optimizer all-reduce their gradients, 2 (D - 1)/D x V x K x 4 bytes a
table. :class:`Placement` puts a state on the devices either way and brings it back unpadded, so a
checkpoint holds the plain tables and resumes on any number of devices, sharded or not.
"""

from __future__ import annotations

import dataclasses

import jax
import jax.numpy as jnp
import numpy as np
from jax.experimental import multihost_utils
from jax.sharding import NamedSharding
from jax.sharding import PartitionSpec as P

from pixie_jax.training import rows as rows_lib

AXIS = "data"
SETTINGS = ("auto", "on", "off")  # config.shard_tables
CHOICES = (("shard_tables", SETTINGS),)
AUTO_MEMORY_SHARE = 0.25  # auto shards tables whose replicated state would fill more of a device than this


def read(shards: dict, index_tree: dict, axis: str = AXIS) -> dict:
    """:func:`pixie_jax.training.rows.read` for tables sharded by rows over ``axis`` (inside a shard_map):
    ``index_tree`` ({table: pytree of index leaves}, this device's share of the batch) with each leaf
    replaced by the rows it reads, each row fetched from the device that owns it."""
    return {
        table: jax.tree.map(
            lambda i, s=shards[table]: _gather_rows(s, rows_lib.row_ids(i), axis), sub, is_leaf=rows_lib.is_bag
        )
        for table, sub in index_tree.items()
    }


def gather(shards: dict, index_tree: dict, axis: str = AXIS) -> dict:
    """:func:`pixie_jax.training.rows.gather` for tables sharded by rows over ``axis``: :func:`read`, each
    :class:`pixie_jax.training.rows.Bag` summed per entry."""
    return rows_lib.combine(read(shards, index_tree, axis), index_tree)


def read_rows(shards: dict, rows: dict, axis: str = AXIS) -> dict:
    """{table: T[rows[table]]} for tables sharded by rows over ``axis`` (inside a shard_map): this device's
    distinct rows (:func:`pixie_jax.training.rows.distinct`, padded with V', which no device owns: zeros),
    each fetched from its owner."""
    return {t: _gather_rows(shards[t], r, axis) for t, r in rows.items()}


def gather_once(shards: dict, index_tree: dict, axis: str = AXIS) -> dict:
    """:func:`gather`, each distinct row of this device's share read once: the exchange moves this device's
    m = min(V', n) distinct rows, not its n entries."""
    found = rows_lib.distinct(index_tree, {t: shards[t].shape[0] * jax.lax.axis_size(axis) for t in index_tree})
    read_every = rows_lib.expand(read_rows(shards, found.rows, axis), found.inverse, index_tree)
    return rows_lib.combine(read_every, index_tree)


def _everyones_as_local(index, size: int, axis):
    """Every device's ``index`` (flat, all_gather'd) as rows of this device's shard of ``size`` rows, and
    whether this device owns each."""
    local = jax.lax.all_gather(jnp.ravel(index), axis, tiled=True) - jax.lax.axis_index(axis) * size
    return local, (local >= 0) & (local < size)


def _gather_rows(shard, index, axis):
    local, owned = _everyones_as_local(index, shard.shape[0], axis)
    rows = jnp.where(owned[:, None], shard[jnp.where(owned, local, 0)], 0)
    mine = jax.lax.psum_scatter(rows, axis, scatter_dimension=0, tiled=True)
    return mine.reshape(*index.shape, shard.shape[-1])


def owned_indices(indices: dict, shards: dict, axis: str = AXIS) -> dict:
    """Every device's flat indices ({table: [int [n_i], ...]}, all_gather'd) as rows of this device's
    shard of each table; the rows another device owns become the shard's size (out of range: a
    scatter drops them)."""

    def local(i, size):
        rows, owned = _everyones_as_local(i, size, axis)
        return jnp.where(owned, rows, size)

    return {t: [local(i, shards[t].shape[0]) for i in parts] for t, parts in indices.items()}


def everyones(row_grads: dict, axis: str = AXIS) -> dict:
    """Every device's row gradients ({table: [[n_i, K], ...]}, all_gather'd in :func:`owned_indices`' order)."""
    return {t: [jax.lax.all_gather(g, axis, tiled=True) for g in parts] for t, parts in row_grads.items()}


@dataclasses.dataclass(frozen=True)
class Placement:
    """Where a training state lives on ``mesh``: the row tables ``tables`` (with their optimizer state)
    sharded by rows, everything else replicated; no table named, everything replicated.

    ``rows`` gives each sharded table's V. A leaf of a state is a table's when a dict key on its path
    names the table and its first dimension is V (on the host) or V' (on the devices)."""

    mesh: jax.sharding.Mesh
    tables: tuple[str, ...] = ()
    rows: dict = dataclasses.field(default_factory=dict)

    @property
    def sharded(self) -> bool:
        return bool(self.tables)

    def padded(self, table: str) -> int:
        """V' = D ceil(V / D): the table's rows on the devices."""
        d = self.mesh.devices.size
        return -(-self.rows[table] // d) * d

    def _table_of(self, path, leaf) -> str | None:
        shape = getattr(leaf, "shape", ())
        for key in path:
            name = getattr(key, "key", None)
            if name in self.tables and len(shape) >= 1 and shape[0] in (self.rows[name], self.padded(name)):
                return name
        return None

    def specs(self, tree):
        """PartitionSpec of each leaf of ``tree``: rows over the devices for a table's, none otherwise."""
        return jax.tree_util.tree_map_with_path(lambda p, x: P(AXIS) if self._table_of(p, x) else P(), tree)

    def shardings(self, tree):
        return jax.tree.map(lambda s: NamedSharding(self.mesh, s), self.specs(tree))

    def param_specs(self, params: dict) -> dict:
        """The specs of a parameter dict as a shard_map prefix: one per top-level entry."""
        return {k: P(AXIS) if k in self.tables else P() for k in params}

    def put(self, tree):
        """``tree`` (host arrays, tables unpadded) on the devices: the tables padded and sharded."""

        def pad(path, x):
            table = self._table_of(path, x)
            if table is None or x.shape[0] == self.padded(table):
                return x
            x = np.asarray(x)
            return np.concatenate([x, np.zeros((self.padded(table) - x.shape[0], *x.shape[1:]), x.dtype)])

        padded = jax.tree_util.tree_map_with_path(pad, tree) if self.sharded else tree
        return jax.device_put(padded, self.shardings(padded))

    def get(self, tree):
        """``tree`` on the host (numpy), the tables without their padding rows; in a multi-process run
        every process gets the whole of each table."""
        if not self.sharded:  # replicated: every process holds every array whole
            return jax.device_get(tree)

        def fetch(path, x):
            if not isinstance(x, jax.Array) or x.is_fully_addressable or x.is_fully_replicated:
                x = np.asarray(jax.device_get(x))
            else:
                x = np.asarray(multihost_utils.process_allgather(x, tiled=True))
            table = self._table_of(path, x)
            return x[: self.rows[table]] if table is not None else x

        return jax.tree_util.tree_map_with_path(fetch, tree)

    def host_shapes(self, tree):
        """jax.ShapeDtypeStruct of each leaf as :meth:`get` would give it (a checkpoint's layout)."""

        def shape(path, x):
            table = self._table_of(path, x)
            dims = (self.rows[table], *x.shape[1:]) if table is not None else x.shape
            return jax.ShapeDtypeStruct(dims, x.dtype)

        return jax.tree_util.tree_map_with_path(shape, tree)

    def table_bytes(self, tree) -> int:
        """Bytes of the tables' leaves of ``tree`` (a table and its optimizer state), all rows."""
        leaves = jax.tree_util.tree_leaves_with_path(tree)
        return sum(int(np.prod(x.shape)) * x.dtype.itemsize for p, x in leaves if self._table_of(p, x))

    def device_bytes(self, tree) -> int:
        """Bytes of ``tree``'s arrays held on the first device of the mesh (from the live arrays)."""
        first = self.mesh.devices.flat[0]
        return sum(s.data.nbytes for x in jax.tree.leaves(tree) for s in x.addressable_shards if s.device == first)


def decide(
    setting: str, devices: int, table_bytes: int, free_bytes: int | None, gathered: int, table_rows: int, sparse: bool
) -> tuple[bool, str]:
    """Whether to shard the row tables, and why, for ``config.shard_tables`` = ``setting``.

    'auto' shards on more than one device when the tables with their optimizer state
    (``table_bytes``) would fill more than :data:`AUTO_MEMORY_SHARE` of a device's free memory
    (``free_bytes``, None where unknown), or, with a dense optimizer, when a step gathers fewer rows
    (``gathered``) than the tables hold (``table_rows``): then exchanging the gathered rows moves
    fewer bytes than all-reducing the tables' gradients."""
    if setting == "on":
        return True, "shard_tables = on"
    if setting == "off":
        return False, "shard_tables = off"
    if devices < 2:
        return False, "shard_tables = auto: one device"
    if free_bytes is not None and table_bytes > AUTO_MEMORY_SHARE * free_bytes:
        return True, (
            f"shard_tables = auto: the tables and their optimizer state take {table_bytes / 2**30:.2f} GiB, more "
            f"than {AUTO_MEMORY_SHARE:.0%} of a device's {free_bytes / 2**30:.2f} GiB free"
        )
    if not sparse and gathered < table_rows:
        return True, (
            f"shard_tables = auto: a step gathers {gathered:,} rows, fewer than the tables' {table_rows:,}, so "
            f"exchanging rows moves less than all-reducing the tables' gradients"
        )
    why = (
        "the row-sparse optimizer already moves only gathered rows"
        if sparse
        else (f"a step gathers {gathered:,} rows, more than the tables' {table_rows:,}")
    )
    return False, f"shard_tables = auto: {why}, and the tables fit"
