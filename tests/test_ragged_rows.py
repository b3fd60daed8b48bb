"""Ragged rows (rows.Bag): entries naming a variable number of table rows, laid end to end within a static
bound and summed per entry; their values and gradients against padded lists, each row once, sharded."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from jax.sharding import PartitionSpec as P

from pixie_jax.training import rows, sharding, step

LISTS = [[0, 5, 6], [1], [2, 5, 7, 8], [3, 6]]  # entry word w reads these rows of a table of 10


def compressed(lists):
    offsets = np.concatenate([[0], np.cumsum([len(x) for x in lists])]).astype(np.int32)
    return jnp.asarray(offsets), jnp.asarray(np.concatenate(lists).astype(np.int32))


def padded_sums(table, entries, lists):
    """The reference: each entry's list padded to the longest, a mask, summed."""
    longest = max(len(x) for x in lists)
    index = np.array([lists[w] + [0] * (longest - len(lists[w])) for w in np.ravel(entries)])
    mask = np.array([[1.0] * len(lists[w]) + [0.0] * (longest - len(lists[w])) for w in np.ravel(entries)])
    sums = jnp.einsum("bl,blk->bk", mask, table[index])
    return sums.reshape(*np.shape(entries), table.shape[1])


def test_a_bag_lays_the_lists_end_to_end_and_sums_each_entry():
    offsets, members = compressed(LISTS)
    entries = jnp.array([[2, 0], [1, 2]])  # 4 + 3 + 1 + 4 = 12 rows
    bag, dropped = rows.bag_of_lists(entries, offsets, members, bound=14, pad_id=10)
    np.testing.assert_array_equal(bag.ids, [2, 5, 7, 8, 0, 5, 6, 1, 2, 5, 7, 8, 10, 10])
    np.testing.assert_array_equal(bag.segments, [0, 0, 0, 0, 1, 1, 1, 2, 3, 3, 3, 3, 4, 4])
    assert bag.shape == (2, 2) and int(dropped) == 0
    table = jax.random.normal(jax.random.key(0), (10, 3))
    got = rows.gather({"t": table}, {"t": {"part": bag}})["t"]["part"]
    np.testing.assert_allclose(got, padded_sums(table, entries, LISTS), rtol=1e-6)


def test_rows_past_the_bound_are_dropped_and_counted():
    offsets, members = compressed(LISTS)
    bag, dropped = rows.bag_of_lists(jnp.array([2, 0, 1]), offsets, members, bound=6, pad_id=10)
    assert int(dropped) == 2  # 4 + 3 + 1 rows in 6 slots: the first entry whole, two of the second's, none of the third
    np.testing.assert_array_equal(bag.ids, [2, 5, 7, 8, 0, 5])
    np.testing.assert_array_equal(bag.segments, [0, 0, 0, 0, 1, 1])
    table = jax.random.normal(jax.random.key(1), (10, 3))
    got = rows.gather({"t": table}, {"t": bag})["t"]
    np.testing.assert_allclose(got[1], table[0] + table[5], rtol=1e-6)
    np.testing.assert_array_equal(got[2], 0.0)


def test_gradients_reach_each_row_of_a_bag_as_through_padded_lists_and_each_row_once():
    offsets, members = compressed(LISTS)
    entries = jnp.array([2, 0, 2, 3, 1])
    bag, _ = rows.bag_of_lists(entries, offsets, members, bound=20, pad_id=10)
    table = jax.random.normal(jax.random.key(2), (10, 3))
    weights = jax.random.normal(jax.random.key(3), (5, 3))
    tree = {"t": {"bag": bag, "plain": jnp.array([4, 4, 9])}}

    def total(gather):
        return lambda t: (
            jnp.sum(gather({"t": t}, tree)["t"]["bag"] * weights) + jnp.sum(gather({"t": t}, tree)["t"]["plain"])
        )

    reference = jax.grad(lambda t: jnp.sum(padded_sums(t, entries, LISTS) * weights) + jnp.sum(t[jnp.array([4, 4, 9])]))
    expected = reference(table)
    np.testing.assert_allclose(jax.grad(total(rows.gather))(table), expected, rtol=1e-6)
    np.testing.assert_allclose(jax.grad(total(rows.gather_once))(table), expected, rtol=1e-6)
    flat = rows.flat_indices(tree)["t"]
    assert [int(x.shape[0]) for x in flat] == [20, 3] and int(flat[0][-1]) == 10  # the padding: out of range


def test_a_bag_of_rows_on_sharded_tables_gathers_what_one_device_does():
    assert len(jax.devices()) >= 4, "conftest asks XLA for 4 host devices"
    offsets, members = compressed(LISTS)
    mesh = step.make_mesh(jax.devices()[:4])
    placement = sharding.Placement(mesh, ("t",), {"t": 10})  # 10 rows padded to 12, 3 a device
    table = np.asarray(jax.random.normal(jax.random.key(4), (10, 3)))
    params = placement.put({"t": table})
    entries = jnp.array([2, 0, 1, 3, 2, 2, 0, 1])
    weights = jax.random.normal(jax.random.key(5), (8, 3))

    def local(p, entries):
        bag, _ = rows.bag_of_lists(entries, offsets, members, bound=8, pad_id=10)
        return sharding.gather(p, {"t": bag})["t"]

    specs = (placement.param_specs(params), P("data"))
    gathered = jax.jit(jax.shard_map(local, mesh=mesh, in_specs=specs, out_specs=P("data"), check_vma=False))
    np.testing.assert_allclose(gathered(params, entries), padded_sums(table, entries, LISTS), rtol=1e-6)
    grad = jax.jit(jax.grad(lambda p: jnp.sum(gathered(p, entries) * weights)))(params)["t"]
    expected = jax.grad(lambda t: jnp.sum(padded_sums(t, entries, LISTS) * weights))(jnp.asarray(table))
    np.testing.assert_allclose(np.asarray(grad)[:10], expected, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("bound", [3, 12])
def test_a_bag_reads_its_rows_apart_and_plain_rows_pass_through_untouched(bound):
    offsets, members = compressed(LISTS)
    bag, _ = rows.bag_of_lists(jnp.array([1, 3]), offsets, members, bound=bound, pad_id=10)
    table = jnp.arange(30.0).reshape(10, 3)
    tree = {"t": {"a": jnp.array([1, 2]), "b": bag}}
    read = rows.read({"t": table}, tree)
    assert read["t"]["b"].shape == (bound, 3)  # the bag's rows, one a slot, before the sums
    np.testing.assert_array_equal(rows.combine(read, tree)["t"]["b"], [table[1], table[3] + table[6]])
    plain = {"t": {"a": jnp.array([1, 2])}}
    read_plain = rows.read({"t": table}, plain)
    assert rows.combine(read_plain, plain) is read_plain  # no bag: nothing added to a step
