"""Row tables sharded by rows over the devices (pixie_jax.training.sharding): the gathered rows and their
gradients are the replicated table's, training gives the parameters of one device with replicated
tables (dense Adam and sparse_sgd), and a sharded run resumes bit for bit after SIGKILL and on another
number of devices."""

import os
import subprocess
import sys

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from conftest import ROOT, tiny_config, topic_files, train_command, xla_flags
from jax.sharding import PartitionSpec as P
from test_train import kill_and_resume, quiet

from pixie_jax import experiment
from pixie_jax.training import sharding, step


def test_gathered_rows_and_their_gradient_are_the_replicated_tables():
    mesh = step.make_mesh(jax.devices()[:4])
    rng = np.random.default_rng(0)
    table = rng.normal(size=(37, 3)).astype(np.float32)  # 37 rows: padded to 40 on 4 devices
    placement = sharding.Placement(mesh, ("e",), {"e": 37})
    params = placement.put({"e": table, "w": np.ones(2, np.float32)})
    assert params["e"].shape == (40, 3) and params["e"].sharding.spec == P("data")
    assert placement.device_bytes(params) == 10 * 3 * 4 + 2 * 4  # a quarter of the table, all of w
    index = rng.integers(0, 37, size=(8, 5)).astype(np.int32)
    weights = rng.normal(size=(8, 5, 3)).astype(np.float32)

    def rows(p, i):
        return sharding.gather(p, {"e": i})["e"]

    gathered = jax.jit(
        jax.shard_map(rows, mesh=mesh, in_specs=(placement.param_specs(params), P("data")), out_specs=P("data"))
    )
    np.testing.assert_array_equal(np.asarray(gathered(params, index)), table[index])
    grad = jax.jit(jax.grad(lambda p: jnp.sum(gathered(p, index) * weights)))(params)["e"]
    expected = np.zeros_like(table)
    np.add.at(expected, index, weights)
    np.testing.assert_allclose(np.asarray(grad)[:37], expected, rtol=1e-5, atol=1e-6)
    assert not np.asarray(grad)[37:].any() and grad.sharding.spec == P("data")
    back = placement.get(params)
    np.testing.assert_array_equal(back["e"], table)  # the padding rows are dropped on the way back


def test_auto_shards_where_rows_move_less_than_the_tables_gradients_or_the_tables_fill_a_device():
    gib = 2**30
    assert sharding.decide("auto", 1, 100 * gib, gib, 10, 10**6, False) == (False, "shard_tables = auto: one device")
    shard, why = sharding.decide("auto", 8, gib, 64 * gib, 1_000, 6_000_000, False)
    assert shard and "gathers 1,000 rows, fewer than the tables' 6,000,000" in why
    shard, why = sharding.decide("auto", 8, gib // 10, 64 * gib, 1_000_000, 100_000, False)
    assert not shard and "more than the tables' 100,000" in why
    shard, why = sharding.decide("auto", 8, 10 * gib, 16 * gib, 1_000_000, 100_000, True)
    assert shard and "more than 25% of a device's 16.00 GiB free" in why
    assert sharding.decide("auto", 8, gib, None, 10, 10**6, True)[0] is False  # sparse: rows already
    assert sharding.decide("on", 1, 0, None, 10, 10, False)[0] and not sharding.decide("off", 8, 0, 1, 1, 9, False)[0]


@pytest.fixture(scope="module")
def pixie_setup(tmp_path_factory):
    return topic_files(tmp_path_factory.mktemp("sharded"))


@pytest.mark.parametrize("optimizer", ["adam", "sparse_sgd"])
def test_sharded_tables_on_four_devices_train_as_one_device(pixie_setup, tmp_path, optimizer):
    corpus, feats = pixie_setup
    rate = {"adam": 0.01, "sparse_sgd": 0.025}[optimizer]
    cfg = tiny_config(corpus, features=feats, epochs=0.3, **{"optimizer.name": optimizer})
    cfg.optimizer.learning_rate = rate
    one, _ = experiment.train(cfg, tmp_path / "one", log=quiet, devices=jax.devices()[:1])
    cfg.shard_tables = "on"
    lines = []
    four, _ = experiment.train(cfg, tmp_path / "four", log=lines.append, devices=jax.devices()[:4])
    said = "row tables e, v sharded by rows over 4 device(s) (shard_tables = on)"
    assert any(line.startswith(said) for line in lines)
    assert four["e"].shape == one["e"].shape  # the padding rows are not handed back
    for a, b in zip(jax.tree.leaves(one), jax.tree.leaves(four)):
        np.testing.assert_allclose(b, a, rtol=2e-4, atol=2e-6)
    assert np.abs(one["v"]).max() > 0.05  # v starts at zero: it learned


def test_a_sharded_run_resumes_on_two_and_on_eight_devices(pixie_setup, tmp_path):
    """Half a run sharded on 4 devices, resumed to its end on 2 (in this process) and on 8 (bin/train,
    8 host devices): each ends with the parameters of one device trained straight through."""
    corpus, feats = pixie_setup
    extra = {"optimizer.schedule": "constant", "shard_tables": "on", "resume_with_new_schedule": True}
    half = tiny_config(corpus, features=feats, epochs=0.2, **extra)
    full = tiny_config(corpus, features=feats, epochs=0.4, **extra)
    straight, _ = experiment.train(full, tmp_path / "straight", log=quiet, devices=jax.devices()[:1])
    for workdir in ("two", "eight"):
        experiment.train(half, tmp_path / workdir, log=quiet, devices=jax.devices()[:4])
    lines = []
    two, _ = experiment.train(full, tmp_path / "two", log=lines.append, devices=jax.devices()[:2])
    assert any("sharded by rows over 2 device(s)" in line for line in lines)
    assert any(line.startswith("resumed from") for line in lines)
    command = [
        sys.executable,
        str(ROOT / "bin" / "train"),
        "--config",
        str(ROOT / "configs" / "pixie.py"),
        f"--workdir={tmp_path / 'eight'}",
        *(f"--config.{k}={v}" for k, v in _flat(full).items()),
    ]
    out = subprocess.run(
        command, env=dict(os.environ, XLA_FLAGS=xla_flags(8)), capture_output=True, text=True, timeout=300
    )
    assert out.returncode == 0, out.stderr[-3000:]
    assert "sharded by rows over 8 device(s)" in out.stdout and "resumed from" in out.stdout + out.stderr
    with np.load(tmp_path / "eight" / "embeddings.npz") as z:
        eight = {k: z[k] for k in ("e", "v")}
    for kind in ("e", "v"):
        np.testing.assert_allclose(two[kind], straight[kind], rtol=2e-4, atol=2e-6)
        np.testing.assert_allclose(eight[kind], np.asarray(straight[kind]), rtol=2e-4, atol=2e-6)


def _flat(cfg) -> dict:
    """The settings a test changed, as --config overrides."""
    from pixie_jax.overrides import flat_keys, get_value, load_config

    base = load_config("pixie")
    return {k: get_value(cfg, k) for k in flat_keys(cfg) if get_value(base, k) != get_value(cfg, k)}


def test_a_sharded_run_resumes_after_sigkill_with_identical_parameters(corpus_file, tmp_path):
    kill_and_resume(
        lambda workdir: train_command(corpus_file, workdir, "--config.shard_tables=on", "--config.epochs=4"),
        tmp_path,
        ("e", "v"),
        devices=4,
    )
