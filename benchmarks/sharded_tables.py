"""Row tables replicated against sharded by rows: per-device bytes of the state, and bytes a step moves.

    python benchmarks/sharded_tables.py [--devices 8] [--memory-vocab 100000] [--vocabs 50000 1000000 3000000]
        [--dim 300] [--centres 16384] [--negatives 5] [--rows once every] [--skip-memory]

memory    SGNS with dense Adam at --memory-vocab x --dim on 4 and on 8 devices: the bytes of the tables
          and their optimizer state held by one device, read from the live arrays, replicated and
          sharded.
traffic   one step at each of --vocabs x --dim on --devices devices with --centres text centres,
          compiled but never run (abstract arrays: nothing of the tables is allocated), each distinct
          row once (config.distinct_rows) and every entry on its own: every
          collective of the compiled program with the bytes of its result, and the bytes a device
          sends in a ring (all-reduce 2 (D - 1)/D S, all-gather (D - 1)/D S, reduce-scatter (D - 1) S,
          all-to-all (D - 1)/D S, for a result of S bytes).

On a CPU the devices are host devices (XLA_FLAGS=--xla_force_host_platform_device_count, set here to
--devices unless XLA_FLAGS is set). The last line printed is one JSON object.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import re
import sys
from pathlib import Path

if __name__ == "__main__" and "XLA_FLAGS" not in os.environ:
    count = next((a.split("=")[1] for a in sys.argv if a.startswith("--devices=")), None)
    if count is None and "--devices" in sys.argv:
        count = sys.argv[sys.argv.index("--devices") + 1]
    os.environ["XLA_FLAGS"] = f"--xla_force_host_platform_device_count={count or 8}"

import jax
import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks import common
from benchmarks.synthetic import synthetic_data
from pixie_jax import experiment, overrides
from pixie_jax.prng import stream_keys
from pixie_jax.training import optimizers, sampling, sharding, step

COLLECTIVES = ("all-reduce", "all-gather", "reduce-scatter", "all-to-all", "collective-permute")
_OP = re.compile(r"=\s*(\(.*?\)|\S+)\s+(" + "|".join(COLLECTIVES) + r")(?:-start)?\(")
_SHAPE = re.compile(r"(f32|s32|u32|bf16|f16|pred|s64|u64|f64)\[([\d,]*)\]")
_BYTES = {"f32": 4, "s32": 4, "u32": 4, "bf16": 2, "f16": 2, "pred": 1, "s64": 8, "u64": 8, "f64": 8}


def sgns_config(vocab_size: int, dim: int, centres: int, negatives: int, shard: str):
    config = overrides.load_config("sgns")
    config.model.dim, config.sampler.negatives = dim, negatives
    config.sampler.text_centres, config.sampler.visual_centres = centres, 0
    config.steps_per_call, config.epochs, config.shard_tables = 1, 1.0, shard
    config.progress = False
    return config


def collective_bytes(hlo: str, devices: int) -> dict:
    """{op: [count, result bytes, bytes a device sends in a ring]} of the collectives in ``hlo``."""
    out = {}
    for shapes, op in _OP.findall(hlo):
        size = sum(_BYTES[t] * math.prod(int(d) for d in dims.split(",") if d) for t, dims in _SHAPE.findall(shapes))
        ring = {
            "all-reduce": 2 * (devices - 1) / devices * size,
            "reduce-scatter": (devices - 1) * size,
        }.get(op, (devices - 1) / devices * size)
        count, total, sent = out.get(op, (0, 0, 0.0))
        out[op] = (count + 1, total + size, sent + ring)
    return {op: [c, t, round(s)] for op, (c, t, s) in out.items()}


def traffic(vocab_size: int, dim: int, centres: int, negatives: int, devices, shard: str, distinct=True) -> dict:
    """The collectives of one compiled step (abstract state: no table is allocated)."""
    data = synthetic_data(vocab_size, max(2 * centres, 200_000), 0)
    config = sgns_config(vocab_size, dim, centres, negatives, shard)
    trainable = experiment.trainable(config, data)
    mesh = step.make_mesh(devices)
    optimizer = optimizers.build_optimizer(config, 1000, trainable.tables.names)

    def init(key):
        params = trainable.model.init(key)
        return step.TrainState(params, step.init_optimizer(optimizer, params, trainable.tables.names))

    keys = stream_keys(0)
    shapes = jax.eval_shape(init, keys.init)
    rows = {t: shapes.params[t].shape[0] for t in trainable.tables.names}
    placement = sharding.Placement(mesh, tuple(rows), rows) if shard == "on" else sharding.Placement(mesh)
    abstract = jax.tree.map(
        lambda s, sh: jax.ShapeDtypeStruct(s.shape, s.dtype, sharding=sh), shapes, placement.shardings(shapes)
    )
    run_tables = jax.device_put(
        sampling.WordArrays(data.keep_prob, data.noise.prob, data.noise.alias, data.vis_index),
        jax.sharding.NamedSharding(mesh, jax.sharding.PartitionSpec()),
    )
    ids = jax.device_put(data.ids, run_tables.keep_prob.sharding)
    epoch = step.subsample_epoch(keys.subsample, ids, run_tables.keep_prob, run_tables.vis_index, shuffle=True)
    chunk = step.make_train_chunk(trainable, optimizer, mesh, 1, placement, distinct)
    features = jax.device_put(trainable.features, run_tables.keep_prob.sharding)
    compiled = chunk.lower(abstract, keys.sample, np.int32(0), epoch, run_tables, features).compile()
    ops = collective_bytes(compiled.as_text(), mesh.devices.size)
    return {
        "gathered_rows": trainable.step_counts.rows,
        "pairs_per_step": trainable.sampler.pairs_per_step,
        "collectives": ops,
        "sent_per_device_mb": round(sum(v[2] for v in ops.values()) / 2**20, 1),
    }


def memory(vocab_size: int, dim: int, devices, shard: str) -> dict:
    """Bytes of the training state on the mesh's first device, from the live arrays."""
    data = synthetic_data(vocab_size, 200_000, 0)
    run = experiment.setup(sgns_config(vocab_size, dim, 2048, 5, shard), data, devices)
    return {
        "state_mb_per_device": round(run.placement.device_bytes(run.state) / 2**20, 1),
        "state_mb": round(sum(x.nbytes for x in jax.tree.leaves(run.state)) / 2**20, 1),
    }


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--devices", type=int, default=8)
    parser.add_argument("--memory-vocab", type=int, default=100_000)
    parser.add_argument("--vocabs", type=int, nargs="+", default=[50_000, 1_000_000, 3_000_000])
    parser.add_argument("--dim", type=int, default=300)
    parser.add_argument("--centres", type=int, default=16384)
    parser.add_argument("--negatives", type=int, default=5)
    common.add_rows_option(parser, ["once", "every"])
    parser.add_argument("--skip-memory", action="store_true", help="the traffic part only")
    args = parser.parse_args(argv)
    if len(jax.devices()) < args.devices:
        raise SystemExit(f"{len(jax.devices())} devices, --devices {args.devices} asked")
    if any(v % args.devices for v in args.vocabs):  # the abstract tables are not padded
        raise SystemExit(f"--vocabs must be multiples of --devices ({args.devices}), got {args.vocabs}")
    print(f"machine: {common.machine()}")
    result = {"machine": common.machine(), "memory": {}, "traffic": {}}
    for d in [] if args.skip_memory else sorted({4, args.devices}):
        for shard in ("off", "on"):
            r = memory(args.memory_vocab, args.dim, jax.devices()[:d], shard)
            result["memory"][f"{d} devices, shard {shard}"] = r
            print(f"memory V={args.memory_vocab:,} K={args.dim}, {d} devices, shard_tables={shard}: {r}", flush=True)
    for v in args.vocabs:
        for shard in ("off", "on"):
            for rows in args.rows:
                devices = jax.devices()[: args.devices]
                r = traffic(v, args.dim, args.centres, args.negatives, devices, shard, rows == "once")
                result["traffic"][f"V={v}, shard {shard}, rows {rows}"] = r
                print(
                    f"traffic V={v:,} K={args.dim}, {args.devices} devices, shard_tables={shard}, rows {rows}: {r}",
                    flush=True,
                )
    print(json.dumps(result))


if __name__ == "__main__":
    main()
