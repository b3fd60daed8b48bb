"""``bin/extract-features``, ``bin/build-visual-features`` and ``bin/check-visual-sources``: CNN
features of photos, word features by the paper's rule, and checks of image sources."""

from __future__ import annotations

from pixie_jax.cli.running import command
from pixie_jax.errors import InputError


@command
def extract_features_main(argv=None):
    import argparse

    parser = argparse.ArgumentParser(
        description="EfficientNet-Lite0 features (1280-d) of every image in a folder; "
        "file names starting with a WordNet id (nXXXXXXXX_) give the class."
    )
    parser.add_argument("--images", required=True, help="folder of images (searched recursively)")
    parser.add_argument("--out", required=True, help="output .npz (features, wnids, names)")
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--check", help="reference npz with 'features': report the cosine per image")
    parser.add_argument("--no-progress", action="store_true")
    args = parser.parse_args(argv)
    from pixie_jax.visual import extract

    summary = extract.extract_folder(args.images, args.out, args.batch_size, progress=not args.no_progress)
    print(
        f"{summary['extracted']} of {summary['images']} images -> {summary['out']} "
        f"({summary['skipped']} unreadable, skipped)"
    )
    if args.check:
        report = extract.compare_with_reference(args.out, args.check)
        print(report)


def _source_args(parser):
    parser.add_argument(
        "--source",
        action="append",
        required=True,
        metavar="[NAME=]FILE",
        help="image features npz: per image (features, wnids) or per class (mean, counts, wnids or "
        "labels); repeat for several sources. NAME defaults to the folder of a features.npz",
    )
    parser.add_argument(
        "--overrides",
        action="append",
        default=[],
        metavar="NAME=FILE",
        help="label<TAB>wnid table that fixes the WordNet sense of a source's labels",
    )
    parser.add_argument(
        "--map-labels",
        action="store_true",
        help="give classes without a WordNet id the first noun sense of their label",
    )
    parser.add_argument("--wordnet", help="WordNet 3.0 dict folder (default: NLTK's corpus, else /usr/share/wordnet)")


def _load_sources(args, wn):
    from pixie_jax.data import embedding_files
    from pixie_jax.visual import word_features

    named = embedding_files.named_values(args.overrides, "--overrides")
    overrides = {k: word_features.read_overrides(v) for k, v in named.items()}
    sources, mapping = [], {}
    for spec in args.source:
        name, _, path = spec.rpartition("=")
        cf = word_features.load_class_features(path, name or None)
        if cf.name in overrides or args.map_labels:
            cf, mapping[cf.name] = word_features.map_labels(cf, wn, overrides.get(cf.name), args.map_labels)
        sources.append(cf)
    unknown = set(overrides) - {s.name for s in sources}
    if unknown:
        raise InputError(f"--overrides names unknown sources {sorted(unknown)}")
    return sources, mapping


@command
def build_visual_features_main(argv=None):
    import argparse
    import json

    parser = argparse.ArgumentParser(
        description="Word-level visual features: image features keyed by WordNet id + a vocabulary -> npz "
        "(words, features, provenance) and a coverage report."
    )
    _source_args(parser)
    parser.add_argument(
        "--weight",
        action="append",
        default=[],
        metavar="NAME=W",
        help="count each photo of source NAME W times (0 leaves it out)",
    )
    vocab_group = parser.add_mutually_exclusive_group(required=True)
    vocab_group.add_argument("--vocab", help="a vocab.tsv (word<TAB>count), e.g. from a training run")
    vocab_group.add_argument("--corpus", help="build the vocabulary from this corpus ('bundled', 'text8', a path)")
    parser.add_argument("--min-count", type=int, default=5)
    parser.add_argument("--max-vocab", type=int, default=50_000)
    parser.add_argument(
        "--rule",
        choices=("paper", "closure"),
        default="paper",
        help="paper: a noun synset in ImageNet's list, its photos and those below it to --depth, "
        "topped up from hypernyms to --max-images; closure: every class at or below the "
        "word's synsets (the project's earlier rule). Default: %(default)s",
    )
    parser.add_argument(
        "--imagenet-synsets", help="file of ImageNet synset ids (default: the full ImageNet's 21,843, shipped)"
    )
    parser.add_argument(
        "--depth",
        type=int,
        help="paper rule: hyponym levels whose photos count as a synset's; -1 = all (default: "
        "word_features.PaperRule's, chosen by measurement, benchmarks/RESULTS.md)",
    )
    parser.add_argument("--max-images", type=int, default=1000, help="paper rule: photos per word (the paper's 1000)")
    parser.add_argument("--topup-levels", type=int, default=1, help="paper rule: hypernym levels to top up from")
    parser.add_argument("--seed", type=int, default=0, help="paper rule: seed of the photo sampling")
    parser.add_argument(
        "--backoff-min-images",
        type=int,
        default=0,
        help="closure rule: hypernym back-off for visual words with fewer photos; 0 = off",
    )
    parser.add_argument("--backoff-levels", type=int, default=3, help="closure rule: levels of the back-off")
    parser.add_argument("--float16", action="store_true", help="store features as float16 (half the size)")
    parser.add_argument("--out", required=True)
    args = parser.parse_args(argv)
    import numpy as np

    from pixie_jax.data import embedding_files, tokens, vocab
    from pixie_jax.data import feature_files as features
    from pixie_jax.visual import word_features, wordnet

    weights = {k: float(v) for k, v in embedding_files.named_values(args.weight, "--weight").items()}
    if args.vocab:
        words = vocab.Vocab.load(args.vocab).words
    else:
        words = tokens.tokenise(args.corpus, args.min_count, args.max_vocab, log=lambda *_: None).vocab.words
    wn = wordnet.load_wordnet(args.wordnet)
    sources, mapping = _load_sources(args, wn)
    if args.rule == "paper":
        depth = {} if args.depth is None else {"depth": None if args.depth < 0 else args.depth}
        rule = word_features.PaperRule(
            word_features.load_synset_list(args.imagenet_synsets),
            max_images=args.max_images,
            topup_levels=args.topup_levels,
            seed=args.seed,
            **depth,
        )
    else:
        rule = word_features.ClosureRule(args.backoff_min_images, args.backoff_levels)
    wf, coverage = word_features.build_word_features(words, sources, wn, rule, weights)
    wf.provenance["label_mapping"] = mapping
    features.save_word_features(args.out, wf, np.float16 if args.float16 else np.float32)
    for name, stats in mapping.items():
        print(f"labels of {name}: {stats}")
    print(f"coverage: {coverage}")
    print(json.dumps(wf.provenance["coverage"]))
    print(f"wrote {args.out}")


@command
def check_visual_sources_main(argv=None):
    import argparse

    parser = argparse.ArgumentParser(
        description="Quality checks of image sources: nearest-class accuracy within "
        "each source, and agreement between sources on shared synsets."
    )
    _source_args(parser)
    parser.add_argument("--show", type=int, default=10, help="how many of the least agreeing synsets to list")
    args = parser.parse_args(argv)
    import numpy as np

    from pixie_jax.visual import quality, wordnet

    wn = wordnet.load_wordnet(args.wordnet) if (args.map_labels or args.overrides) else None
    sources, _ = _load_sources(args, wn)
    for s in sources:
        acc = quality.nearest_class_accuracy(s)
        text = (
            "not measurable (no class with two or more photos)"
            if acc is None
            else f"{100 * acc[0]:.1f}% of {acc[1]:,} photos"
        )
        print(f"{s.name}: {len(s.wnids)} classes; nearest-class accuracy (leave one out): {text}")
    agreement = quality.source_agreement(sources)
    if agreement:
        cos = np.array([a[0] for a in agreement])
        print(
            f"{len(agreement)} synsets shared by two sources: cosine of their means median {np.median(cos):.3f}, "
            f"min {cos.min():.3f}; the least agreeing:"
        )
        for c, w, a, b in agreement[: args.show]:
            name = wordnet.synset_of(wn, w).name() if wn else w
            print(f"  {c:.3f}  {w} {name}  {a} vs {b}")
