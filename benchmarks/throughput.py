"""Training throughput: PIXIE and SGNS steps against gensim's skip-gram, same corpus, same machine.

    python benchmarks/throughput.py [--corpus bundled] [--negatives 5] [--groups 1 8] [--rows once every]
        [--gensim-epochs 1]

pairs/s is measured over whole jitted chunks after compilation (block_until_ready). tokens/s
converts it to raw corpus tokens per second: one pass over T tokens is E[kept] x (L + 1) pairs,
so tokens/s = pairs/s x T / (E[kept] (L + 1)). gensim (sg=1, same window, negatives, dimension,
subsampling threshold, min_count, all cores) is timed on the same token stream; its tokens/s is
T x epochs / training seconds. The last line printed is one JSON object.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import jax
import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks import common
from pixie_jax import experiment


def measure(config, data, chunks: int) -> dict:
    run = experiment.setup(config, data)
    epoch = run.epoch_data(0)
    state, metrics = run.run_chunk(0, epoch)  # compile + warm up
    jax.block_until_ready(state)
    run.state = state
    t0 = time.perf_counter()
    for i in range(chunks):
        run.state, metrics = run.run_chunk((i + 1) * config.steps_per_call, epoch)
    jax.block_until_ready(run.state)
    seconds = time.perf_counter() - t0
    pairs = chunks * config.steps_per_call * run.counts.examples
    pairs_per_s = pairs / seconds
    tokens_per_s = pairs_per_s * len(data.ids) / (data.expected_kept() * (run.trainable.sampler.window + 1))
    return {
        "pairs_per_s": pairs_per_s,
        "tokens_per_s": tokens_per_s,
        "seconds": seconds,
        "loss": float(np.mean(jax.device_get(metrics["loss"]))),
    }


def gensim_rate(data, config, epochs: int) -> float:
    """Raw tokens per second of gensim's vocabulary building and ``epochs`` passes of training."""
    sentences = common.gensim_sentences(data)
    t0 = time.perf_counter()
    model = common.gensim_skipgram(config)
    model.build_vocab(sentences)
    model.train(sentences, total_examples=len(sentences), epochs=epochs)
    return len(data.ids) * epochs / (time.perf_counter() - t0)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", default="bundled")
    parser.add_argument("--features", default="bundled")
    parser.add_argument("--negatives", type=int, default=5)
    parser.add_argument(
        "--groups",
        type=int,
        nargs="+",
        default=[1],
        help="negative_group settings (G > 1: a multiple of 2 (L + 1) = 22 slots a row of two "
        "centres, or of C = 8 with --contexts-drawn)",
    )
    parser.add_argument(
        "--contexts-drawn",
        action="store_true",
        help="C = 8 contexts drawn a centre (the former sampler) instead of the whole reduced window",
    )
    parser.add_argument("--text-centres", type=int, default=2048)
    parser.add_argument("--visual-centres", type=int, default=256)
    parser.add_argument("--chunks", type=int, default=5)
    parser.add_argument("--steps-per-call", type=int, default=20)
    parser.add_argument(
        "--optimizers",
        nargs="+",
        default=["adam", "sparse_sgd"],
        help="table optimizers (optimizer.name): dense adam, sparse_sgd, lazy_adam",
    )
    common.add_rows_option(parser, ["every"])
    parser.add_argument("--gensim-epochs", type=int, default=1)
    parser.add_argument("--no-gensim", action="store_true")
    args = parser.parse_args(argv)

    base, data, sgns_data = common.prepare(args)
    base.sampler.negatives, base.steps_per_call = args.negatives, args.steps_per_call
    base.sampler.enumerate_window = not args.contexts_drawn
    print(f"machine: {common.machine()}")
    print(
        f"corpus {args.corpus}: {len(data.ids):,} tokens, {len(data.vocab):,} words, {data.n_visual:,} visual; "
        f"N={args.negatives}, L={base.sampler.window}, K={base.model.dim}, C={base.sampler.contexts_per_centre}"
    )
    results = {}
    gensim = None if args.no_gensim else gensim_rate(data, base, args.gensim_epochs)
    if gensim:
        print(f"gensim sg=1 {gensim:>40,.0f} tokens/s ({os.cpu_count()} workers)")
    for model, d in (("pixie", data), ("sgns", sgns_data)):
        for opt in args.optimizers:
            for g in args.groups:
                for rows in args.rows:
                    cfg = base.copy_and_resolve_references()
                    cfg.sampler.negative_group, cfg.optimizer.name = g, opt
                    cfg.distinct_rows = common.ROWS[rows]
                    r = measure(cfg, d, args.chunks)
                    if gensim:
                        r["vs_gensim"] = r["tokens_per_s"] / gensim
                    suffix = "" if args.rows == ["every"] else f"_{rows}"
                    results[f"{model}_{opt}_G{g}{suffix}"] = r
                    print(
                        f"{model:5s} {opt:10s} G={g:<4d} rows {rows:5s} {r['pairs_per_s']:>12,.0f} pairs/s "
                        f"{r['tokens_per_s']:>10,.0f} tokens/s" + (f" {r['vs_gensim']:.2f}x gensim" if gensim else "")
                    )
    fastest = max((k for k in results if k.startswith("pixie")), key=lambda k: results[k]["tokens_per_s"])
    best = results[fastest]
    summary = {
        "setting": fastest,
        "pairs_per_s": best["pairs_per_s"],
        "tokens_per_s": best["tokens_per_s"],
        "gensim_tokens_per_s": gensim,
        "ratio": best["tokens_per_s"] / gensim if gensim else None,
        "negatives": args.negatives,
        "corpus": args.corpus,
        "all": {k: {m: round(v, 3) for m, v in r.items()} for k, r in results.items()},
    }
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
