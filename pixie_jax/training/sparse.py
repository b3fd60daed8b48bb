"""Sparse row updates of the embedding tables e and v: a step changes only the rows it gathered.

A step's loss reads a table T [V, K] only through gathered rows T[i_1], ..., T[i_n] (a word may
appear several times). Its gradient is g_j = dL/dT[i_j] for each gathered row; the gradient
with respect to row r of the table is the sum of the g_j with i_j = r, and zero for the rows
no i_j names. Two optimizers use it without ever forming a dense [V, K] gradient:

``sgd``        word2vec's rule: T[r] <- T[r] - eta_t * s * sum_{j: i_j = r} g_j, with eta_t on a
               schedule (word2vec: linear decay from 0.025) and s a constant scale (the trainer
               passes the pairs per step, so eta applies to the gradient of the step's summed
               pair losses, as word2vec's rate does).
``lazy_adam``  Adam (Kingma & Ba) at the touched rows only, as TensorFlow's LazyAdam and
               PyTorch's SparseAdam: for each row r touched by the step, with G_r its summed gradient,
                   m_r <- b1 m_r + (1 - b1) G_r,   u_r <- b2 u_r + (1 - b2) G_r^2
                   T[r] <- T[r] - eta_t (m_r / (1 - b1^t)) / (sqrt(u_r / (1 - b2^t)) + eps)
               with t the number of steps so far. Untouched rows and their moments stay as they
               are; dense Adam would keep moving them with decaying moments. When a step touches
               every row the two are the same.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

import jax
import jax.numpy as jnp

from pixie_jax.training import rows as rows_lib

Schedule = Callable[[jax.Array], jax.Array]


class TableOptimizer(NamedTuple):
    """``init(tables) -> state``; ``update(tables, state, indices, row_grads, distinct=False) -> (tables, state)``.

    ``tables``: {name: [V, K]}; ``indices``: {name: [int [n_1], int [n_2], ...]}; ``row_grads``:
    {name: [[n_1, K], [n_2, K], ...]}: the gathered rows in parts (one per gather of the step). With
    ``distinct``, each table has one part of distinct rows (padded with V, out of range) and their
    summed gradients (:func:`pixie_jax.training.rows.distinct`).
    """

    init: Callable
    update: Callable


class SgdState(NamedTuple):
    count: jax.Array  # int32 []: steps taken


class LazyAdamState(NamedTuple):
    count: jax.Array  # int32 []
    mu: dict  # first moments, like the tables
    nu: dict  # second moments


def _as_schedule(rate) -> Schedule:
    return rate if callable(rate) else (lambda count: rate)


def _times(rate, multiples: dict, k: str):
    """``rate`` times table ``k``'s multiple (untouched where it has none)."""
    return rate * multiples[k] if k in multiples else rate


def sgd(learning_rate, scale: float = 1.0, multiples: dict | None = None) -> TableOptimizer:
    """word2vec's update on the gathered rows (duplicates add up in the scatter); ``multiples``: {table: a
    multiple of the rate}."""
    schedule, multiples = _as_schedule(learning_rate), multiples or {}

    def init(tables):
        del tables
        return SgdState(jnp.zeros([], jnp.int32))

    def update(tables, state, indices, row_grads, distinct: bool = False):
        new = {}
        for k, table in tables.items():
            step = _times(-schedule(state.count) * scale, multiples, k)
            for index, grads in zip(indices[k], row_grads[k]):
                table = table.at[index].add(step * grads.astype(table.dtype), mode="drop", unique_indices=distinct)
            new[k] = table
        return new, SgdState(state.count + 1)

    return TableOptimizer(init, update)


def summed_row_gradients(indices, grads, vocab_size: int):
    """The distinct rows named in ``indices`` (a list of int [n_i]) and their summed gradients
    (``grads``: a list of [n_i, K]): (rows [m], sums [m, K]), m = min(n, V) static with n = sum n_i; the
    slots past the number of distinct rows hold row V (out of range: gathers fill them, scatters with
    mode='drop' skip them) and zero sums (:func:`pixie_jax.training.rows.distinct_rows`)."""
    index, grads = jnp.concatenate(indices), jnp.concatenate(grads)
    rows, inverse = rows_lib.distinct_rows(index, vocab_size)
    return rows, jax.ops.segment_sum(grads, inverse, num_segments=rows.shape[0])


def lazy_adam(
    learning_rate, b1: float = 0.9, b2: float = 0.999, eps: float = 1e-8, multiples: dict | None = None, dense=()
) -> TableOptimizer:
    """Adam's moments and update at the rows a step touches (see the module's docstring); ``multiples``:
    {table: a multiple of the rate}; the tables in ``dense`` get dense Adam instead (every row's moments
    decay and every row moves each step, G_r = 0 for a row the step does not touch)."""
    schedule, multiples = _as_schedule(learning_rate), multiples or {}

    def init(tables):
        zeros = lambda: {k: jnp.zeros_like(t) for k, t in tables.items()}  # noqa: E731
        return LazyAdamState(jnp.zeros([], jnp.int32), zeros(), zeros())

    def adam(m, u, g, t, rate):
        """Adam's step on rows with moments m, u and summed gradient g: (the rows' change, new m, new u)."""
        m = b1 * m + (1 - b1) * g
        u = b2 * u + (1 - b2) * g * g
        return -rate * (m / (1 - b1**t)) / (jnp.sqrt(u / (1 - b2**t)) + eps), m, u

    def update(tables, state, indices, row_grads, distinct: bool = False):
        t = state.count + 1
        new_tables, mu, nu = {}, {}, {}
        for k, table in tables.items():
            rate = _times(schedule(state.count), multiples, k)
            grads = [g.astype(table.dtype) for g in row_grads[k]]
            if k in dense:  # the whole table, the gradient scattered (duplicates add up, zero elsewhere)
                g = jnp.zeros_like(table)
                for index, part in zip(indices[k], grads):
                    g = g.at[index].add(part, mode="drop")
                change, mu[k], nu[k] = adam(state.mu[k], state.nu[k], g, t, rate)
                new_tables[k] = table + change
                continue
            if distinct:  # one list of distinct rows, their gradients already summed
                (rows,), (g,) = indices[k], grads
            else:
                rows, g = summed_row_gradients(indices[k], grads, table.shape[0])
            m_r, u_r = (x.at[rows].get(mode="fill", fill_value=0) for x in (state.mu[k], state.nu[k]))
            change, m_r, u_r = adam(m_r, u_r, g, t, rate)
            new_tables[k] = table.at[rows].add(change, mode="drop")
            mu[k] = state.mu[k].at[rows].set(m_r, mode="drop")
            nu[k] = state.nu[k].at[rows].set(u_r, mode="drop")
        return new_tables, LazyAdamState(t, mu, nu)

    return TableOptimizer(init, update)


OPTIMIZERS = {"sparse_sgd": sgd, "lazy_adam": lazy_adam}
