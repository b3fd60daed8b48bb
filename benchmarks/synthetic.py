"""Throughput at any size on a synthetic corpus, with the device's bound from the compiled step's cost.

    python benchmarks/synthetic.py [--vocab 50000] [--dim 100] [--negatives 5 64] [--groups 1 64]
        [--centres 16384] [--optimizer sparse_sgd] [--tokens 20000000] [--chunks 5] [--shard-tables auto]
        [--rows once every] [--contexts-drawn] [--bandwidth GB/s --peak TFLOP/s]

The corpus is ``--tokens`` ids drawn from a Zipf law (exponent 1) over ``--vocab`` words, so the
noise table and the row reuse are realistic; no file is read. The model is SGNS (``--features 0``)
or PIXIE with ``--features D`` random features for every 20th word. The sampler is today's (a pass's
tokens once in a random order, every context of the reduced window), or with ``--contexts-drawn`` the
former one (centres drawn with replacement, C = 8 contexts drawn each). Each setting (negatives N,
group G, rows: each distinct row once a step, or every entry on its own) is measured on the same
corpus, in one process. Timing: whole jitted chunks of
``--steps-per-call`` steps after a compile call, block_until_ready. The bound: XLA's cost analysis of
one compiled step (flops, bytes accessed) per pair, divided by the device's peak and bandwidth
(known for H100/H200/A100, else ``--bandwidth``/``--peak``). Prints one JSON line last: pairs/s, the
bound, peak resident memory of this process.
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import time
from pathlib import Path

import jax
import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks import common
from pixie_jax import experiment, overrides
from pixie_jax.data import feature_files as features_lib
from pixie_jax.data import training_data as data_lib
from pixie_jax.data import vocab as vocab_lib

# (memory bandwidth GB/s, float32 non-tensor-core peak TFLOP/s) from the vendors' data sheets
DEVICES = {"H100": (3350.0, 67.0), "H200": (4800.0, 67.0), "A100": (2039.0, 19.5)}


def synthetic_data(vocab_size: int, tokens: int, features: int, seed: int = 0) -> data_lib.TrainingData:
    rng = np.random.default_rng(seed)
    p = 1.0 / np.arange(1, vocab_size + 1)
    ids = rng.choice(vocab_size, size=tokens, p=p / p.sum()).astype(np.int32)
    counts = np.maximum(np.bincount(ids, minlength=vocab_size), 1).astype(np.int64)
    vocab = vocab_lib.Vocab(tuple(f"w{i}" for i in range(vocab_size)), counts)
    vis_index = np.full(vocab_size, -1, np.int32)
    raw = np.zeros((0, max(features, 1)), np.float32)
    scaling = None
    if features:
        rows = np.arange(0, vocab_size, 20)
        vis_index[rows] = np.arange(len(rows))
        raw = rng.normal(size=(len(rows), features)).astype(np.float32)
        scaling = features_lib.MinMaxScaling.fit(raw)
    return data_lib.TrainingData(
        vocab,
        ids,
        vocab_lib.keep_probabilities(counts, 1e-3),
        vocab_lib.alias_table(vocab_lib.noise_distribution(counts, 0.75)),
        vis_index,
        scaling.apply(raw) if features else raw,
        scaling,
        raw,
    )


def device_bound(compiled, pairs: int, bandwidth: float | None, peak: float | None) -> dict:
    cost = compiled.cost_analysis()
    cost = cost[0] if isinstance(cost, (list, tuple)) else cost
    flops, moved = float(cost.get("flops", 0.0)), float(cost.get("bytes accessed", 0.0))
    kind = jax.devices()[0].device_kind
    known = next((v for k, v in DEVICES.items() if k in kind), None)
    bandwidth = bandwidth or (known[0] if known else None)
    peak = peak or (known[1] if known else None)
    out = {"flops_per_pair": flops / pairs, "bytes_per_pair": moved / pairs}
    if bandwidth and peak:
        seconds = max(moved / (bandwidth * 1e9), flops / (peak * 1e12))
        out |= {
            "bound_pairs_per_s": pairs / seconds if seconds else None,
            "bound_by": "memory" if moved / (bandwidth * 1e9) >= flops / (peak * 1e12) else "compute",
        }
    return out


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--vocab", type=int, default=50_000)
    parser.add_argument("--dim", type=int, default=100)
    parser.add_argument("--negatives", type=int, nargs="+", default=[64])
    parser.add_argument("--groups", type=int, nargs="+", default=[1], help="negative_group settings (G)")
    parser.add_argument("--centres", type=int, default=16384, help="text centres per step")
    parser.add_argument("--features", type=int, default=0, help="0: SGNS; D: PIXIE with D-d features")
    parser.add_argument("--optimizer", default="sparse_sgd")
    parser.add_argument("--learning-rate", type=float, default=0.025)
    parser.add_argument("--tokens", type=int, default=20_000_000)
    parser.add_argument("--steps-per-call", type=int, default=10)
    parser.add_argument("--chunks", type=int, default=5)
    parser.add_argument("--shard-tables", default="auto", choices=("auto", "on", "off"), help="config.shard_tables")
    common.add_rows_option(parser, ["every"])
    parser.add_argument("--contexts-drawn", action="store_true", help="the former sampler: C = 8 contexts drawn")
    parser.add_argument("--bandwidth", type=float, help="GB/s, for devices not in the table")
    parser.add_argument("--peak", type=float, help="TFLOP/s, for devices not in the table")
    args = parser.parse_args(argv)

    t0 = time.perf_counter()
    data = synthetic_data(args.vocab, args.tokens, args.features)
    result = {
        "device": jax.devices()[0].device_kind,
        "devices": len(jax.devices()),
        "vocab": args.vocab,
        "dim": args.dim,
        "sampler": "contexts drawn" if args.contexts_drawn else "each token once, every context",
        "features": args.features,
        "optimizer": args.optimizer,
        "shard_tables": args.shard_tables,
        "data_seconds": round(time.perf_counter() - t0, 1),
        "settings": {},
    }
    for negatives in args.negatives:
        for group in args.groups:
            for rows in args.rows:
                key = f"N{negatives}_G{group}_{rows}"
                result["settings"][key] = measure(args, data, negatives, group, rows)
                print(f"{key}: {result['settings'][key]}", flush=True)
    result["peak_rss_gb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20
    print(json.dumps(result))


def measure(args, data, negatives: int, group: int, rows: str) -> dict:
    """pairs/s of whole chunks after a compile call, and the compiled chunk's cost per pair."""
    config = overrides.load_config("pixie")
    config.model.dim, config.model.features = args.dim, max(args.features, 1)
    config.sampler.negatives, config.sampler.negative_group = negatives, group
    config.sampler.enumerate_window = config.sampler.shuffle = not args.contexts_drawn
    config.distinct_rows = common.ROWS[rows]
    config.sampler.text_centres = args.centres
    config.sampler.visual_centres = args.centres // 8 if args.features else 0
    config.sampler.visual_words = 256 if args.features else 0
    config.optimizer.name, config.optimizer.learning_rate = args.optimizer, args.learning_rate
    config.steps_per_call, config.epochs, config.shard_tables = args.steps_per_call, 1.0, args.shard_tables
    run = experiment.setup(config, data)
    epoch = run.epoch_data(0)
    pairs = args.steps_per_call * run.counts.examples
    compiled = run.chunk.lower(run.state, run.keys.sample, np.int32(0), epoch, run.words, run.features).compile()
    state, _ = compiled(run.state, run.keys.sample, np.int32(0), epoch, run.words, run.features)
    jax.block_until_ready(state)
    t0 = time.perf_counter()
    for i in range(args.chunks):
        state, metrics = compiled(
            state, run.keys.sample, np.int32((i + 1) * args.steps_per_call), epoch, run.words, run.features
        )
    jax.block_until_ready(state)
    seconds = time.perf_counter() - t0
    out = {
        "tables_sharded": run.placement.sharded,
        "state_mb_per_device": round(run.placement.device_bytes(state) / 2**20, 1),
        "pairs_per_step": run.counts.examples,
        "pairs_per_s": args.chunks * pairs / seconds,
        "loss": float(np.mean(jax.device_get(metrics["loss"]))),
    }
    del run, state, compiled
    # the cost of one step, compiled alone (a loop's cost analysis need not count its trips)
    config.steps_per_call = 1
    one = experiment.setup(config, data)
    step = one.chunk.lower(one.state, one.keys.sample, np.int32(0), epoch, one.words, one.features).compile()
    return out | device_bound(step, one.counts.examples, args.bandwidth, args.peak)


if __name__ == "__main__":
    main()
