"""Which words are visual, by rule: the closure rule against the paper's at several hyponym depths.

On a corpus's vocabulary and the given photo sources: one coverage report per rule, and a table.

    python benchmarks/visual_rule.py --corpus gutenberg8.xz --source imagenet_sample_images.npz

Prints a Markdown table and, as its last line, one JSON object.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from pixie_jax.data import tokens
from pixie_jax.visual import word_features as WF
from pixie_jax.visual import wordnet


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", required=True)
    parser.add_argument("--source", action="append", required=True, help="image features npz (repeat)")
    parser.add_argument("--depths", default="0,1,2,3,4,-1", help="paper rule depths to compare (-1: all)")
    parser.add_argument("--max-vocab", type=int, default=50_000)
    args = parser.parse_args(argv)
    words = tokens.tokenise(args.corpus, 5, args.max_vocab, log=lambda *a: None).vocab.words
    wn = wordnet.load_wordnet()
    sources = [WF.load_class_features(p) for p in args.source]
    imagenet = WF.load_synset_list()
    rules = [("closure", WF.ClosureRule())]
    rules += [
        (f"paper, depth {d if d >= 0 else 'all'}", WF.PaperRule(imagenet, None if d < 0 else d))
        for d in map(int, args.depths.split(","))
    ]
    rows = []
    for name, rule in rules:
        t0 = time.perf_counter()
        _, cov = WF.build_word_features(words, sources, wn, rule)
        print(f"## {name} ({time.perf_counter() - t0:.0f} s)\n{cov}\n", flush=True)
        rows.append(
            {
                "rule": name,
                "visual_by_rule": cov.visual_by_rule,
                "visual": cov.visual_words,
                "topped_up": cov.backed_off,
                **cov.through,
                "photos_median": cov.photos_per_word_median,
                "photos_mean": round(cov.photos_per_word_mean, 1),
                "most_abstract": cov.most_abstract[:8],
            }
        )
    print(f"{len(words):,} words; sources: {', '.join(args.source)}\n")
    print(
        "| rule | noun synset in ImageNet | visual (photos here) | with their own synset's photos | with only "
        "photos from below | topped up from hypernyms | photos per word, median / mean | "
        "most abstract (WordNet depth) |"
    )
    print("|---|---|---|---|---|---|---|---|")
    for r in rows:
        print(
            f"| {r['rule']} | {r['visual_by_rule'] if r['visual_by_rule'] is not None else '-'} | {r['visual']:,} "
            f"| {r['own']:,} | {r['hyponym']:,} | {r['topped_up']:,} | {r['photos_median']:g} / {r['photos_mean']} "
            f"| {', '.join(r['most_abstract'][:5])} |"
        )
    print(json.dumps(rows))


if __name__ == "__main__":
    main()
