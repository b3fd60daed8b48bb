"""One jitted, data-parallel chunk of training steps, for any loss on gathered table rows.

Layout of one call of the chunk function (everything stays on the device):

    for step in start .. start + S - 1 (lax.scan):
        key   = fold_in(root, step)
        batch = trainable.sample(key, epoch data, words, step)      # global batch, sharded on 'data'
        grads = psum over devices of grad(loss)(share)              # shard_map
        params, opt_state = optimizer update (dense optax, or row-sparse for the row tables)

With the row tables sharded by rows (:mod:`pixie_jax.training.sharding`), the gather fetches rows from
their owners and a table's gradient stays on its shard; only the other gradients are summed.

With ``distinct`` (``config.distinct_rows``; 'auto' on accelerators and with sharded tables) each
distinct row a device's share names is read once (:func:`pixie_jax.training.rows.gather_once`): its
entries' gradients are summed per distinct row before the table's gradient, the row-sparse update or
the sharded exchange sees them. Without it, every entry is gathered and scattered on its own (the
former step; equal up to the order of float sums).

The model comes as a :class:`pixie_jax.training.trainable.Trainable`: its row tables, its sampler and its loss;
the chunk knows no model, no table and no model setting.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import NamedTuple

import jax
import jax.numpy as jnp
import optax
from jax.sharding import AxisType, NamedSharding
from jax.sharding import PartitionSpec as P

from pixie_jax.training import rows as rows_lib
from pixie_jax.training import sampling
from pixie_jax.training import sharding as sharding_lib
from pixie_jax.training.trainable import Trainable


class TrainState(NamedTuple):
    """The parameters and the optimizer state: an optax state over all parameters (dense table
    optimizers), or {'tables': a :mod:`pixie_jax.training.sparse` state, 'networks': an optax state}."""

    params: dict
    opt_state: optax.OptState | dict


def make_mesh(devices=None):
    devices = devices if devices is not None else jax.devices()
    return jax.make_mesh((len(devices),), ("data",), axis_types=(AxisType.Auto,), devices=devices)


def _sharded(placement) -> bool:
    """Whether ``placement`` (a :class:`pixie_jax.training.sharding.Placement`, or None) shards the tables."""
    return placement is not None and placement.sharded


def _reader(placement):
    """rows.read, or with sharded tables sharding's: each index leaf's rows, bags not yet summed."""
    return sharding_lib.read if _sharded(placement) else rows_lib.read


def _gatherer(placement, distinct: bool = False):
    """rows.gather (each distinct row once: rows.gather_once), or with sharded tables sharding's."""
    if _sharded(placement):
        return sharding_lib.gather_once if distinct else sharding_lib.gather
    return rows_lib.gather_once if distinct else rows_lib.gather


def _param_specs(placement):
    """shard_map's in_spec of the parameters: replicated, or per entry (sharded tables)."""
    return placement.param_specs if _sharded(placement) else lambda params: P()


def make_grad_fn(trainable: Trainable, mesh, placement=None, distinct: bool = False):
    """shard_map'd (grads, metrics) of the trainable's loss over all parameters, summed over the devices'
    shares; with tables sharded by ``placement`` (:mod:`pixie_jax.training.sharding`), a table's gradient
    is its shard's, complete on its device, and only the others are summed. ``distinct``: each row once."""
    loss, tables, specs = trainable.loss, trainable.tables, _param_specs(placement)
    gather = _gatherer(placement, distinct)

    def local(params, batch, features):
        grads, metrics = jax.grad(lambda p: loss(p, gather(p, tables.index(batch)), batch, features), has_aux=True)(
            params
        )
        if not _sharded(placement):
            return jax.lax.psum((grads, metrics), "data")
        table_grads, others = rows_lib.split(grads, placement.tables)
        return table_grads | jax.lax.psum(others, "data"), jax.lax.psum(metrics, "data")

    def fn(params, batch, features):
        return jax.shard_map(
            local,
            mesh=mesh,
            in_specs=(specs(params), P("data"), P()),
            out_specs=(specs(params), P()),
            check_vma=False,
        )(params, batch, features)

    return fn


def make_row_grad_fn(trainable: Trainable, mesh, placement=None, distinct: bool = False):
    """shard_map'd (network grads, row indices, row grads, metrics): the flat indices of the rows of each
    row table and the loss's gradient with respect to them ({table: [int [n_i], ...]}, {table: [[n_i, K],
    ...]}, :func:`pixie_jax.training.rows.flat_indices` order, each device's left sharded like the batch),
    and, summed over the devices, the gradient with respect to the other parameters. With ``distinct``,
    one part a table: each device's distinct rows (padded with the table's rows, out of range) and their
    summed gradients; without it, one row per batch entry."""
    loss, tables, specs = trainable.loss, trainable.tables, _param_specs(placement)
    sharded = _sharded(placement)

    def local(params, batch, features):
        table_params, networks = rows_lib.split(params, tables.names)
        index = tables.index(batch)
        grad = functools.partial(jax.grad, argnums=(0, 1), has_aux=True)
        if distinct:
            scale = jax.lax.axis_size("data") if sharded else 1
            found = rows_lib.distinct(index, {t: table_params[t].shape[0] * scale for t in index})
            read = (sharding_lib.read_rows if sharded else rows_lib.read_rows)(table_params, found.rows)
            seen = lambda r: rows_lib.combine(rows_lib.expand(r, found.inverse, index), index)  # noqa: E731
            (g_net, g_read), metrics = grad(lambda n, r: loss(n, seen(r), batch, features))(networks, read)
            indices, g_rows = {t: [r] for t, r in found.rows.items()}, {t: [g] for t, g in g_read.items()}
        else:
            rows = _reader(placement)(table_params, index)  # a bag's rows apart: their gradients are its rows'
            seen = functools.partial(rows_lib.combine, index_tree=index)
            (g_net, g_rows), metrics = grad(lambda n, r: loss(n, seen(r), batch, features))(networks, rows)
            indices, g_rows = rows_lib.flat_indices(index), rows_lib.flat_grads(g_rows)
        return jax.lax.psum(g_net, "data"), indices, g_rows, jax.lax.psum(metrics, "data")

    def fn(params, batch, features):
        return jax.shard_map(
            local,
            mesh=mesh,
            in_specs=(specs(params), P("data"), P()),
            out_specs=(P(), P("data"), P("data"), P()),
            check_vma=False,
        )(params, batch, features)

    return fn


def sharded_table_update(tables_opt, mesh, placement):
    """``tables_opt.update`` (:class:`pixie_jax.training.sparse.TableOptimizer`) on tables and optimizer state
    sharded by ``placement``: each device applies every device's row gradients to the rows it owns."""

    def local(tables, state, indices, row_grads):
        return tables_opt.update(
            tables, state, sharding_lib.owned_indices(indices, tables), sharding_lib.everyones(row_grads)
        )

    def update(tables, state, indices, row_grads):
        specs = (P("data"), placement.specs(state))
        return jax.shard_map(
            local, mesh=mesh, in_specs=(*specs, P("data"), P("data")), out_specs=specs, check_vma=False
        )(tables, state, indices, row_grads)

    return update


def make_update(trainable: Trainable, optimizer, mesh, placement=None, distinct: bool = False):
    """(state, batch, features) -> (state, metrics): one optimizer step on one batch.

    ``optimizer`` is an optax transformation over all parameters (dense), or a pair
    (:class:`pixie_jax.training.sparse.TableOptimizer` for the row tables, optax transformation for the rest).
    ``placement`` (:class:`pixie_jax.training.sharding.Placement`), where it shards the tables, says how.
    ``distinct``: each row once a step (the module says how).
    """
    if isinstance(optimizer, optax.GradientTransformation):
        grad_fn = make_grad_fn(trainable, mesh, placement, distinct)

        def dense(state, batch, features):
            grads, metrics = grad_fn(state.params, batch, features)
            updates, opt_state = optimizer.update(grads, state.opt_state, state.params)
            return TrainState(optax.apply_updates(state.params, updates), opt_state), metrics

        return dense

    tables_opt, networks_opt = optimizer
    tables = trainable.tables
    row_grad_fn = make_row_grad_fn(trainable, mesh, placement, distinct)
    if _sharded(placement):
        table_update = sharded_table_update(tables_opt, mesh, placement)
    else:  # one device's distinct rows are distinct; several devices' may repeat a row
        table_update = functools.partial(tables_opt.update, distinct=distinct and mesh.devices.size == 1)

    def rows(state, batch, features):
        g_net, indices, g_rows, metrics = row_grad_fn(state.params, batch, features)
        table_params, networks = rows_lib.split(state.params, tables.names)
        net_state = state.opt_state["networks"]
        if trainable.networks_learn:  # without a gradient, skip their update
            updates, net_state = networks_opt.update(g_net, net_state, networks)
            networks = optax.apply_updates(networks, updates)
        table_params, table_state = table_update(table_params, state.opt_state["tables"], indices, g_rows)
        return TrainState(table_params | networks, {"tables": table_state, "networks": net_state}), metrics

    return rows


def init_optimizer(optimizer, params: dict, table_names=()):
    """The initial optimizer state for :func:`make_update`'s ``optimizer`` (``table_names``: the row
    tables a row-sparse optimizer updates)."""
    if isinstance(optimizer, optax.GradientTransformation):
        return optimizer.init(params)
    tables, networks = rows_lib.split(params, table_names)
    return {"tables": optimizer[0].init(tables), "networks": optimizer[1].init(networks)}


Chunk = Callable[..., tuple[TrainState, dict]]


def make_train_chunk(
    trainable: Trainable, optimizer, mesh, steps: int, placement=None, distinct: bool = False
) -> Chunk:
    """jit(chunk)(state, root_key, start, epoch, words, features) -> (state, metrics [steps]); ``words``
    are the sampler's (:class:`pixie_jax.training.sampling.WordArrays`), the batch of step s ``trainable.sample``'s from
    ``fold_in(root_key, s)``; the state laid out as ``placement`` says (replicated where None); ``distinct``:
    each row once a step."""
    update = make_update(trainable, optimizer, mesh, placement, distinct)
    batch_sharding = NamedSharding(mesh, P("data"))

    def body(state, step, root_key, epoch, words, features):
        batch = trainable.sample(jax.random.fold_in(root_key, step), epoch, words, step)
        batch = jax.lax.with_sharding_constraint(batch, batch_sharding)
        state, metrics = update(state, batch, features)
        if _sharded(placement):  # each shard's update stays on its device
            state = jax.lax.with_sharding_constraint(state, placement.shardings(state))
        return state, metrics

    @functools.partial(jax.jit, donate_argnums=(0,))
    def chunk(state, root_key, start, epoch, words, features):
        f = functools.partial(body, root_key=root_key, epoch=epoch, words=words, features=features)
        return jax.lax.scan(f, state, start + jnp.arange(steps))

    return chunk


subsample_epoch = jax.jit(sampling.subsample, static_argnames="shuffle")


def replicate(mesh, tree):
    """``tree`` on every device of ``mesh``, unsharded."""
    return jax.device_put(tree, NamedSharding(mesh, P()))
