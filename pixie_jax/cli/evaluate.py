"""``bin/evaluate``, ``bin/propagation`` and ``bin/retrieval``: word similarity and analogies of
embedding files, visual propagation (Table 3), image/caption retrieval (section 4.3)."""

from __future__ import annotations

import argparse

from pixie_jax.cli.arguments import config_parser, parse_config
from pixie_jax.cli.running import command, quiet


@command
def evaluate_main(argv=None):
    parser = argparse.ArgumentParser(
        description="Word similarity (Spearman's rho of cosines) in the paper's two settings: all pairs in the "
        "vocabulary, and pairs whose two words have visual features; word analogies and vector "
        "arithmetic (--analogies, --query)."
    )
    parser.add_argument(
        "--embeddings",
        nargs="+",
        required=True,
        help="embeddings.npz files, word2vec text or binary files, or models saved by gensim (read through "
        "gensim, which unpickles them: name only files you trust); NAME=FILE names a model",
    )
    parser.add_argument(
        "--benchmarks",
        nargs="+",
        default=["bundled"],
        help="folders or files of word1<TAB>word2<TAB>score lines ('bundled': the shipped set)",
    )
    parser.add_argument(
        "--kind",
        nargs="+",
        help="kinds to score: e, s, t, mu, x, v or concatenations like e+x (default: e, s, t where present)",
    )
    parser.add_argument(
        "--combine",
        nargs="+",
        metavar="LABEL=SPEC",
        default=[],
        help="concatenations across the --embeddings files, each part L2-normalised, e.g. "
        "CNN+SGNS=sgns:e+cnn:x (NAME:KIND parts; NAME from --embeddings NAME=FILE)",
    )
    parser.add_argument(
        "--features", help="a feature file whose words are the visual words (default: each embeddings file's own mask)"
    )
    parser.add_argument("--json", help="write the scores here")
    parser.add_argument(
        "--neighbours",
        nargs="+",
        metavar="WORD",
        help="print the 10 nearest neighbours of these words in each model and kind (Table 5)",
    )
    parser.add_argument("--pairs", nargs="+", metavar="A,B", help="print the cosine of these word pairs (Table 4)")
    parser.add_argument("--concreteness", help="Brysbaert et al. (2014) ratings file, to show each query's rating")
    parser.add_argument(
        "--analogies",
        nargs="+",
        metavar="FILE",
        default=[],
        help="score word analogies (3CosAdd and 3CosMul) in these question files: 'bundled' is "
        "word2vec's questions-words.txt; the format is ': section' lines, then 'a b c d' lines",
    )
    parser.add_argument(
        "--analogy-vocab",
        type=int,
        default=30_000,
        metavar="N",
        help="answers among the N most frequent words, and questions only with all four words "
        "there (word2vec's and gensim's convention; 0 = every word; default %(default)s)",
    )
    parser.add_argument(
        "--query",
        nargs="+",
        metavar="EXPR",
        default=[],
        help="vector arithmetic, e.g. 'king - man + woman': print the 10 best answers by 3CosAdd "
        "and 3CosMul in each model and kind (the query's words excluded; all words searched)",
    )
    parser.add_argument("--report", metavar="DIR", help="write DIR/report.md with bar charts and word maps")
    args = parser.parse_args(argv)
    if args.analogy_vocab < 0:
        parser.error(f"--analogy-vocab must be >= 0 (0 = every word), got {args.analogy_vocab}")
    from pixie_jax.data.feature_files import load_word_features
    from pixie_jax.evaluate import analogy, compare, neighbours, similarity

    benches = [b for source in args.benchmarks for b in similarity.load_benchmarks(source)]
    question_sets = [analogy.load_analogies(source) for source in args.analogies]
    for expression in args.query:
        analogy.parse_query(expression)
    visual = set(load_word_features(args.features).words) if args.features else None
    embeddings, loaded = compare.load(args.embeddings, args.kind, visual, log=print)
    embeddings += compare.combined(loaded, args.combine)
    results, rows = compare.score(embeddings, benches)
    print(similarity.format_table(results))
    answers = {}
    if question_sets:
        restrict = args.analogy_vocab or None
        answers, analogy_rows = compare.score_analogies(embeddings, question_sets, restrict)
        rows += analogy_rows
        print(
            "\n" + analogy.format_table(answers, restrict)
            if answers
            else "\nno analogies scored: every kind chosen is visual only (x, mu)"
        )
    for expression in args.query:
        print("\n" + "\n".join(compare.query_lines(embeddings, expression)))
    ratings = neighbours.load_concreteness(args.concreteness) if args.concreteness else {}
    for query in args.neighbours or []:
        print("\n" + "\n".join(compare.neighbour_lines(embeddings, query, ratings)))
    if args.pairs:
        print("\n" + "\n".join(compare.pair_lines(embeddings, [tuple(p.split(",", 1)) for p in args.pairs])))
    if args.report:
        from pixie_jax.evaluate import report

        qualitative = [(e.label, e.words, e.vectors, e.mask) for e in embeddings]
        written = report.write_report(args.report, results, qualitative, answers, args.analogy_vocab or None)
        print(f"wrote {written}")
    if args.json:
        import json

        from pixie_jax.files import atomic_write

        with atomic_write(args.json, "w") as f:
            json.dump(rows, f, indent=1)
        print(f"wrote {args.json}")


@command
def propagation_main(argv=None):
    from pixie_jax.propagation import PAPER_FRACTION

    parser = config_parser(
        "Visual propagation (Table 3): train with and without the features of held-out visual "
        "words and score the pairs of two held-out words.",
        "a PIXIE config file, e.g. configs/pixie.py",
        "runs/propagation",
    )
    parser.add_argument(
        "--fraction",
        type=float,
        default=PAPER_FRACTION,
        help="fraction of the visual words whose features are held out (default: the paper's 2000 / 9713)",
    )
    parser.add_argument("--subset_seed", "--subset-seed", type=int, default=0, help="seed of the held-out subset")
    args, config = parse_config(parser, argv)
    quiet()
    from pixie_jax import propagation

    propagation.run(config, args.workdir, args.fraction, args.subset_seed)


@command
def retrieval_main(argv=None):
    parser = config_parser(
        "Image/caption retrieval (section 4.3) with frozen word embeddings.", "configs/retrieval.py", "runs/retrieval"
    )
    parser.add_argument(
        "--embeddings",
        required=True,
        type=lambda s: [x for x in s.split(",") if x],
        help="comma-separated [NAME=]FILE of embeddings to compare",
    )
    parser.add_argument(
        "--data",
        required=True,
        help="imagenet-gloss:FEATURES.npz (photos named by wnid; captions = WordNet glosses) "
        "or precomputed:FOLDER ({split}_ims.npy + {split}_caps.txt)",
    )
    parser.add_argument("--kind", default="", help="embedding kind (default: t where present, else e)")
    parser.add_argument("--wordnet", default="", help="WordNet 3.0 dict folder for the glosses")
    args, config = parse_config(parser, argv)
    quiet()
    from pixie_jax.data import embedding_files
    from pixie_jax.evaluate import retrieval

    retrieval.run(
        config, args.workdir, embedding_files.named_paths(args.embeddings), args.data, args.kind, args.wordnet
    )
