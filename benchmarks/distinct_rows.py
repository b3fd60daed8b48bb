"""Distinct against gathered table rows a step: what config.distinct_rows saves, per corpus and batch.

    python benchmarks/distinct_rows.py [--corpora bundled gutenberg8.xz zipf:50000 zipf:1000000]
        [--centres 2048 16384] [--negatives 5 64] [--steps 20]

For each corpus (a path or name bin/train takes, or zipf:V, a synthetic corpus of 20M tokens drawn from
a Zipf law over V words), each batch of --centres text centres (SGNS: no visual centres) and each
number of negatives: the rows a step gathers of e and of v (one per entry) against the distinct rows
among them, over --steps steps of the default sampler (the pass's tokens in a random order, every
context of the reduced window), mean and max. The static bound a step sizes its buffers with is
min(V, gathered). The last line printed is one JSON object.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import jax
import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks import common
from benchmarks.synthetic import synthetic_data
from pixie_jax import experiment, overrides
from pixie_jax.data import training_data


def corpus_data(name: str, config):
    """The training data of ``name`` (text only): zipf:V synthetic, else prepared as bin/train would."""
    if name.startswith("zipf:"):
        return synthetic_data(int(name.split(":")[1]), 20_000_000, 0)
    config.corpus, config.features = name, ""
    return training_data.prepare_data(config, log=lambda *_: None)


def count(config, data, steps: int) -> dict:
    """Gathered and distinct rows of each table over ``steps`` steps of the sampler."""
    run = experiment.setup(config, data)
    epoch = run.epoch_data(0)
    sample = jax.jit(run.trainable.sample)
    out = {}
    for s in range(steps):
        batch = sample(jax.random.fold_in(run.keys.sample, s), epoch, run.words, s)
        for table, sub in run.trainable.tables.index(batch).items():
            index = np.concatenate([np.ravel(np.asarray(i)) for i in jax.tree.leaves(sub)])
            out.setdefault(table, []).append((index.size, np.unique(index).size))
    vocab = len(data.vocab)
    return {
        t: {
            "gathered": int(np.mean([g for g, _ in v])),
            "distinct_mean": round(float(np.mean([d for _, d in v])), 1),
            "distinct_max": int(max(d for _, d in v)),
            "bound": min(vocab, int(np.mean([g for g, _ in v]))),
        }
        for t, v in out.items()
    }


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpora", nargs="+", default=["bundled", "zipf:50000", "zipf:1000000"])
    parser.add_argument("--centres", type=int, nargs="+", default=[2048, 16384])
    parser.add_argument("--negatives", type=int, nargs="+", default=[5, 64])
    parser.add_argument("--steps", type=int, default=20)
    args = parser.parse_args(argv)
    print(f"machine: {common.machine()}")
    result = {"machine": common.machine(), "runs": {}}
    for name in args.corpora:
        config = overrides.load_config("sgns")
        data = corpus_data(name, config)
        for centres in args.centres:
            for negatives in args.negatives:
                cfg = config.copy_and_resolve_references()
                cfg.sampler.text_centres, cfg.sampler.visual_centres = centres, 0
                cfg.sampler.negatives, cfg.steps_per_call, cfg.progress = negatives, 1, False
                r = count(cfg, data, args.steps)
                key = f"{name} V={len(data.vocab)} centres={centres} N={negatives}"
                result["runs"][key] = r
                line = "; ".join(
                    f"{t}: {v['distinct_mean']:,.0f} distinct (max {v['distinct_max']:,}) of {v['gathered']:,} "
                    f"gathered, {v['gathered'] / v['distinct_mean']:.1f}x"
                    for t, v in r.items()
                )
                print(f"{key}: {line}", flush=True)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
