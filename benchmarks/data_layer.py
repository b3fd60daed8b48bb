"""Data-layer speed and memory: read + normalise + count + build the vocabulary + encode a corpus.

    taskset -c 0 python benchmarks/data_layer.py --corpus PATH_OR_text8

Target: a 10^8-byte corpus (text8, gutenberg8) in under 30 s on one core with under 2 GB of
peak host memory. Prints one JSON object as its last line.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from pixie_jax.data import corpus, vocab


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", required=True, help="a file, a folder, 'text8' or 'bundled'")
    parser.add_argument("--min-count", type=int, default=5)
    parser.add_argument("--max-vocab", type=int, default=50_000)
    args = parser.parse_args(argv)
    t0 = time.perf_counter()
    text = corpus.load_corpus(args.corpus)
    t1 = time.perf_counter()
    v = vocab.build_vocab(text, args.min_count, args.max_vocab)
    t2 = time.perf_counter()
    ids = vocab.encode(text, v)
    t3 = time.perf_counter()
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    result = {
        "corpus": args.corpus,
        "bytes": len(text),
        "tokens_in_vocab": int(len(ids)),
        "vocab": len(v),
        "read_normalise_s": round(t1 - t0, 2),
        "vocab_s": round(t2 - t1, 2),
        "encode_s": round(t3 - t2, 2),
        "total_s": round(t3 - t0, 2),
        "peak_rss_mb": round(peak_mb),
        "cores_allowed": len(os.sched_getaffinity(0)),
        "machine": f"{platform.machine()}, {os.cpu_count()} cores",
    }
    print(
        f"{args.corpus}: {len(text):,} characters, {len(ids):,} tokens in a vocabulary of {len(v):,}; "
        f"read+normalise {t1 - t0:.1f} s, vocabulary {t2 - t1:.1f} s, encode {t3 - t2:.1f} s; "
        f"peak memory {peak_mb:.0f} MB"
    )
    print(json.dumps(result))


if __name__ == "__main__":
    main()
