"""PIXIE-concat, eq. (11), beside its labelled extensions, on one trained PIXIE's embeddings.

The extensions: a weighted visual block, s in place of e, mu filled in from e for words without
photos; PIXIE+ and SGNS for reference.

    python benchmarks/concat_variants.py --pixie runs/pixie/embeddings.npz --sgns runs/sgns/embeddings.npz \
        --benchmarks bundled SEMSIM_VISSIM_DIR

Prints the similarity table (Spearman rho, coverage) in both settings.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from pixie_jax.data import embedding_files
from pixie_jax.evaluate import concat_variants, similarity


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pixie", required=True, help="a PIXIE embeddings.npz")
    parser.add_argument("--sgns", help="an SGNS embeddings.npz, scored on the same pairs (PIXIE's visual words)")
    parser.add_argument("--benchmarks", nargs="+", default=["bundled"])
    args = parser.parse_args(argv)
    benches = [b for source in args.benchmarks for b in similarity.load_benchmarks(source)]
    arrays = embedding_files.load_embeddings(args.pixie)
    words, mask = arrays["words"], arrays["mask"]
    named = {"PIXIE+ s": arrays["s"], **concat_variants.variants(arrays)}
    results = {name: similarity.evaluate(words, vecs, mask, benches) for name, vecs in named.items()}
    if args.sgns:
        sgns = embedding_files.load_embeddings(args.sgns)
        visual = {w for w, m in zip(words, mask) if m > 0}
        sgns_mask = [float(w in visual) for w in sgns["words"]]
        results = {"SGNS e": similarity.evaluate(sgns["words"], sgns["e"], sgns_mask, benches)} | results
    print(similarity.format_table(results))


if __name__ == "__main__":
    main()
