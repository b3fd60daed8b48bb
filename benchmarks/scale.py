"""A corpus larger than memory: time and peak memory of building its token cache, loading it, training.

Token ids built by streaming into the cache (first run), read from the cache (second run), then a few
chunks of PIXIE training on it; time and peak resident memory of each, each phase in its own process.

    for i in $(seq 10); do xz -dc gutenberg8.xz; echo; done > g10.txt   # 10^9 bytes
    python benchmarks/scale.py --corpus g10.txt --cache g10-cache

Targets (issue: beyond one machine and one small corpus): peak resident memory under 2 GB, the second
run ready to train in under 10 s. Prints a Markdown table and, as its last line, one JSON object.
"""

from __future__ import annotations

import argparse
import json
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def phase(args) -> dict:
    """One phase in this process: 'build' or 'load' the token ids, or 'train' a few chunks."""
    from pixie_jax import experiment, overrides
    from pixie_jax.data import training_data as data_lib
    from pixie_jax.training import loop as train

    config = overrides.load_config("pixie")
    config.corpus, config.cache_dir, config.progress, config.benchmarks = args.corpus, args.cache, False, ""
    t0 = time.perf_counter()
    data = data_lib.prepare_data(config, log=lambda *a: None)
    out = {
        "phase": args.phase,
        "tokens": len(data.ids),
        "words": len(data.vocab),
        "ready_s": round(time.perf_counter() - t0, 1),
    }
    if args.phase == "train":
        config = experiment.sized_batch(config, data)  # the whole run's batch, for a few of its chunks
        sampler = experiment.sampler(config, data)
        per_epoch = train.steps_per_epoch(data, sampler)
        config.epochs = args.chunks * config.steps_per_call / per_epoch
        shutil.rmtree(Path(args.cache) / "run", ignore_errors=True)  # a fresh run, not a resume
        t1 = time.perf_counter()
        experiment.train(config, Path(args.cache) / "run", data=data, log=lambda *a: None)
        out.update(
            steps=args.chunks * config.steps_per_call,
            segments=-(-len(data.ids) // config.segment_tokens),
            segment_tokens=config.segment_tokens,
            train_s=round(time.perf_counter() - t1, 1),
        )
    out["peak_rss_gb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20, 2)
    return out


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", required=True)
    parser.add_argument("--cache", required=True, help="a folder for the token cache (corpora/) and the run (run/)")
    parser.add_argument("--chunks", type=int, default=3, help="chunks of steps_per_call steps to train")
    parser.add_argument(
        "--phases",
        default="build,load,train",
        help="which phases to run (build empties the token cache in --cache first)",
    )
    parser.add_argument("--phase", choices=("build", "load", "train"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.phase:
        print(json.dumps(phase(args)))
        return
    phases = args.phases.split(",")
    if "build" in phases:  # an empty token cache (only the folders this script writes are removed)
        shutil.rmtree(Path(args.cache) / "corpora", ignore_errors=True)
    rows = []
    for name in phases:
        done = subprocess.run(
            [
                sys.executable,
                __file__,
                "--corpus",
                args.corpus,
                "--cache",
                args.cache,
                "--chunks",
                str(args.chunks),
                "--phase",
                name,
            ],
            capture_output=True,
            text=True,
        )
        if done.returncode:
            sys.exit(f"phase {name} failed:\n{done.stderr[-3000:]}")
        rows.append(json.loads(done.stdout.strip().splitlines()[-1]))
    from pixie_jax.data import corpus

    size = sum(f.stat().st_size for f in corpus.corpus_files(args.corpus))
    print(
        f"corpus {args.corpus}: {size:,} bytes, {rows[0]['tokens']:,} tokens, {rows[0]['words']:,} words; "
        f"configs/pixie.py (segments of {rows[-1].get('segment_tokens', '-')} tokens)\n"
    )
    print("| phase | ready to train (s) | training (s) | peak resident memory (GB) |\n|---|---|---|---|")
    for r in rows:
        print(f"| {r['phase']} | {r['ready_s']} | {r.get('train_s', '')} | {r['peak_rss_gb']} |")
    print(json.dumps({"bytes": size, "phases": rows}))


if __name__ == "__main__":
    main()
