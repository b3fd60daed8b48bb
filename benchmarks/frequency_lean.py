"""How each system's cosines lean with word frequency, beside its rho on each similarity set.

    python benchmarks/frequency_lean.py NAME=FILE ... [--kind e] [--benchmarks bundled DIR ...] [--commoner RANK]

FILE: an embeddings file with rows in frequency order (a run's embeddings.npz, or gensim's as
benchmarks/comparison.py writes it). For each set and file: rho(human, cosine) on the pairs in the
vocabulary, and the lean rho(cosine, rank of the pair's rarer word) (pixie_jax.evaluate.bands.frequency_lean;
positive where rarer pairs get higher cosines); the first row is the human scores' own lean, measured on the
first file's vocabulary. With --commoner RANK, a second table gives each set's rho on the pairs whose more
frequent word ranks below RANK and on those whose two words both rank RANK or beyond. The last line printed
is one JSON object.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from pixie_jax.cli import command
from pixie_jax.evaluate import bands, compare, similarity


@command
def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("files", nargs="+", metavar="NAME=FILE")
    parser.add_argument("--kind", default="e", help="the embedding kind to score (default e)")
    parser.add_argument("--benchmarks", nargs="+", default=["bundled"], help="'bundled' and/or folders of sets")
    parser.add_argument("--commoner", type=int, default=0, metavar="RANK", help="rho split by the commoner word's rank")
    args = parser.parse_args(argv)
    embeddings, _ = compare.load(args.files, [args.kind])
    benches = [b for source in args.benchmarks for b in similarity.load_benchmarks(source)]
    rows = {"human lean": {}}
    for emb in embeddings:
        rows[emb.label] = {}
        for b in benches:
            lean = bands.frequency_lean(emb.words, emb.vectors, b)
            rows["human lean"].setdefault(b.name, lean["human"])
            rho = similarity.score(b, emb.words, emb.vectors).rho
            rows[emb.label][b.name] = {"rho": rho, "lean": lean["cosine"], "pairs": lean["pairs"]}
            if args.commoner:
                split = bands.similarity_by_band(emb.words, emb.vectors, b, edges=(args.commoner,), word="commoner")
                rows[emb.label][b.name]["by commoner word"] = {k: (v.rho, v.used) for k, v in split.items()}
    names = [b.name for b in benches]
    print("| embeddings | " + " | ".join(f"{n}: rho / lean" for n in names) + " |")
    print("|---" * (len(names) + 1) + "|")
    print("| human scores | " + " | ".join(f"lean {rows['human lean'][n]:+.3f}" for n in names) + " |")
    for name, sets in list(rows.items())[1:]:
        print(f"| {name} | " + " | ".join(f"{sets[n]['rho']:.3f} / {sets[n]['lean']:+.3f}" for n in names) + " |")
    if args.commoner:
        edge = f"{args.commoner:,}"
        print(f"\nrho on the pairs whose commoner word ranks below {edge} / {edge} or beyond (pairs)")
        print("| embeddings | " + " | ".join(names) + " |")
        print("|---" * (len(names) + 1) + "|")
        for name, sets in list(rows.items())[1:]:
            cells = []
            for n in names:
                (low, n_low), (high, n_high) = sets[n]["by commoner word"].values()
                cells.append(f"{low:.3f} ({n_low}) / {high:.3f} ({n_high})")
            print(f"| {name} | " + " | ".join(cells) + " |")
    print(json.dumps(rows))


if __name__ == "__main__":
    main()
