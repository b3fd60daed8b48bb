"""Command-line entry points (the scripts in bin/ are thin wrappers around these)."""
from __future__ import annotations

import sys

from absl import app, flags
from ml_collections import config_flags


def _quiet():
    from absl import logging
    logging.set_verbosity(logging.WARNING)


def _train(argv):
    del argv
    _quiet()
    import os
    if os.environ.get("PIXIE_JAX_DISTRIBUTED"):
        import jax
        jax.distributed.initialize()
    from pixie_jax import experiment, train
    from pixie_jax.checkpoints import CheckpointError
    from pixie_jax.download import DownloadError
    try:
        experiment.run_and_write(flags.FLAGS.config, flags.FLAGS.workdir)
    except (train.TrainingError, CheckpointError, DownloadError, ValueError, OSError) as err:
        sys.exit(f"error: {err}")


def flat_keys(config, prefix="") -> list[str]:
    """Every leaf key of a ConfigDict, dotted: ['corpus', 'model.dim', ...]."""
    keys = []
    for key, value in config.items():
        if hasattr(value, "items"):
            keys += flat_keys(value, f"{prefix}{key}.")
        else:
            keys.append(prefix + key)
    return keys


def check_config_overrides(argv: list[str]) -> None:
    """Reject --config.KEY=VALUE for keys the config file lacks, listing the valid ones."""
    import runpy
    path = next((a.split("=", 1)[1] for a in argv if a.startswith("--config=")), None)
    if path is None and "--config" in argv[:-1]:
        path = argv[argv.index("--config") + 1]
    if path is None:
        return
    try:
        config = runpy.run_path(path.split(":")[0])["get_config"]()
    except (OSError, KeyError) as err:
        sys.exit(f"error: cannot load the config file {path}: {err}")
    valid = flat_keys(config)
    branches = {k.rsplit(".", i)[0] for k in valid for i in range(k.count(".") + 1)}
    for arg in argv:
        if arg.startswith("--config."):
            key = arg[len("--config."):].split("=", 1)[0]
            if key not in valid and key not in branches:
                sys.exit(f"error: {path} has no key {key!r}. Valid keys:\n  " + "\n  ".join(valid))


def train_main():
    check_config_overrides(sys.argv[1:])
    config_flags.DEFINE_config_file("config", None, "a config file, e.g. configs/pixie.py", lock_config=True)
    flags.DEFINE_string("workdir", "runs/default", "where checkpoints, metrics and embeddings go")
    flags.mark_flags_as_required(["config"])
    app.run(_train)


def extract_features_main(argv=None):
    import argparse
    parser = argparse.ArgumentParser(description="EfficientNet-Lite0 features (1280-d) of every image in a folder; "
                                                 "file names starting with a WordNet id (nXXXXXXXX_) give the class.")
    parser.add_argument("--images", required=True, help="folder of images (searched recursively)")
    parser.add_argument("--out", required=True, help="output .npz (features, wnids, names)")
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--check", help="reference npz with 'features': report the cosine per image")
    parser.add_argument("--no-progress", action="store_true")
    args = parser.parse_args(argv)
    from pixie_jax.visual import extract
    try:
        summary = extract.extract_folder(args.images, args.out, args.batch_size, progress=not args.no_progress)
    except (OSError, ValueError) as err:
        sys.exit(f"error: {err}")
    print(f"{summary['extracted']} of {summary['images']} images -> {summary['out']} "
          f"({summary['skipped']} unreadable, skipped)")
    if args.check:
        report = extract.compare_with_reference(args.out, args.check)
        print(report)


def _source_args(parser):
    parser.add_argument("--source", action="append", required=True, metavar="[NAME=]FILE",
                        help="image features npz: per image (features, wnids) or per class (mean, counts, wnids or "
                             "labels); repeat for several sources. NAME defaults to the folder of a features.npz")
    parser.add_argument("--overrides", action="append", default=[], metavar="NAME=FILE",
                        help="label<TAB>wnid table that fixes the WordNet sense of a source's labels")
    parser.add_argument("--map-labels", action="store_true",
                        help="give classes without a WordNet id the first noun sense of their label")
    parser.add_argument("--wordnet", help="WordNet 3.0 dict folder (default: NLTK's corpus, else /usr/share/wordnet)")


def _named_pairs(values, what):
    out = {}
    for v in values:
        name, sep, rest = v.partition("=")
        if not sep:
            raise ValueError(f"{what} must be NAME=VALUE, got {v!r}")
        out[name] = rest
    return out


def _load_sources(args, wn):
    from pixie_jax.visual import word_features
    overrides = {k: word_features.read_overrides(v) for k, v in _named_pairs(args.overrides, "--overrides").items()}
    sources, mapping = [], {}
    for spec in args.source:
        name, _, path = spec.rpartition("=")
        cf = word_features.load_class_features(path, name or None)
        if cf.name in overrides or args.map_labels:
            cf, mapping[cf.name] = word_features.map_labels(cf, wn, overrides.get(cf.name), args.map_labels)
        sources.append(cf)
    unknown = set(overrides) - {s.name for s in sources}
    if unknown:
        raise ValueError(f"--overrides names unknown sources {sorted(unknown)}")
    return sources, mapping


def build_visual_features_main(argv=None):
    import argparse
    import json
    parser = argparse.ArgumentParser(
        description="Word-level visual features: image features keyed by WordNet id + a vocabulary -> npz "
                    "(words, features, provenance) and a coverage report.")
    _source_args(parser)
    parser.add_argument("--weight", action="append", default=[], metavar="NAME=W",
                        help="count each photo of source NAME W times (0 leaves it out)")
    vocab_group = parser.add_mutually_exclusive_group(required=True)
    vocab_group.add_argument("--vocab", help="a vocab.tsv (word<TAB>count), e.g. from a training run")
    vocab_group.add_argument("--corpus", help="build the vocabulary from this corpus ('bundled', 'text8', a path)")
    parser.add_argument("--min-count", type=int, default=5)
    parser.add_argument("--max-vocab", type=int, default=50_000)
    parser.add_argument("--backoff-min-images", type=int, default=0,
                        help="hypernym back-off for visual words with fewer photos (the paper: 1000); 0 = off")
    parser.add_argument("--backoff-levels", type=int, default=3)
    parser.add_argument("--float16", action="store_true", help="store features as float16 (half the size)")
    parser.add_argument("--out", required=True)
    args = parser.parse_args(argv)
    import numpy as np
    from pixie_jax import corpus, vocab
    from pixie_jax.visual import features, word_features, wordnet
    try:
        weights = {k: float(v) for k, v in _named_pairs(args.weight, "--weight").items()}
        if args.vocab:
            words = vocab.Vocab.load(args.vocab).words
        else:
            words = vocab.build_vocab(corpus.load_corpus(args.corpus), args.min_count, args.max_vocab).words
        wn = wordnet.load_wordnet(args.wordnet)
        sources, mapping = _load_sources(args, wn)
        wf, coverage = word_features.build_word_features(words, sources, wn, args.backoff_min_images,
                                                         args.backoff_levels, weights)
        wf.provenance["label_mapping"] = mapping
        features.save_word_features(args.out, wf, np.float16 if args.float16 else np.float32)
    except (OSError, ValueError, RuntimeError) as err:
        sys.exit(f"error: {err}")
    for name, stats in mapping.items():
        print(f"labels of {name}: {stats}")
    print(f"coverage: {coverage}")
    print(json.dumps(wf.provenance["coverage"]))
    print(f"wrote {args.out}")


def check_visual_sources_main(argv=None):
    import argparse
    parser = argparse.ArgumentParser(description="Quality checks of image sources: nearest-class accuracy within "
                                                 "each source, and agreement between sources on shared synsets.")
    _source_args(parser)
    parser.add_argument("--show", type=int, default=10, help="how many of the least agreeing synsets to list")
    args = parser.parse_args(argv)
    import numpy as np
    from pixie_jax.visual import quality, wordnet
    try:
        wn = wordnet.load_wordnet(args.wordnet) if (args.map_labels or args.overrides) else None
        sources, _ = _load_sources(args, wn)
    except (OSError, ValueError, RuntimeError) as err:
        sys.exit(f"error: {err}")
    for s in sources:
        acc = quality.nearest_class_accuracy(s)
        text = ("not measurable (no class with two or more photos)" if acc is None
                else f"{100 * acc[0]:.1f}% of {acc[1]:,} photos")
        print(f"{s.name}: {len(s.wnids)} classes; nearest-class accuracy (leave one out): {text}")
    agreement = quality.source_agreement(sources)
    if agreement:
        cos = np.array([a[0] for a in agreement])
        print(f"{len(agreement)} synsets shared by two sources: cosine of their means median {np.median(cos):.3f}, "
              f"min {cos.min():.3f}; the least agreeing:")
        for c, w, a, b in agreement[:args.show]:
            name = wn.synset_from_pos_and_offset("n", int(w[1:])).name() if wn else w
            print(f"  {c:.3f}  {w} {name}  {a} vs {b}")


def evaluate_main(argv=None):
    import argparse
    import json
    from pathlib import Path
    parser = argparse.ArgumentParser(
        description="Word similarity (Spearman's rho of cosines) in the paper's two settings: all pairs in the "
                    "vocabulary, and pairs whose two words have visual features.")
    parser.add_argument("--embeddings", nargs="+", required=True,
                        help="embeddings.npz files (or word2vec text files); NAME=FILE names a model")
    parser.add_argument("--benchmarks", nargs="+", default=["bundled"],
                        help="folders or files of word1<TAB>word2<TAB>score lines ('bundled': the shipped set)")
    parser.add_argument("--kind", nargs="+", help="kinds to score: e, s, t, mu, x, v or concatenations "
                                                  "like e+x (default: e, s, t where present)")
    parser.add_argument("--combine", nargs="+", metavar="LABEL=SPEC", default=[],
                        help="concatenations across the --embeddings files, each part L2-normalised, e.g. "
                             "CNN+SGNS=sgns:e+cnn:x (NAME:KIND parts; NAME from --embeddings NAME=FILE)")
    parser.add_argument("--features", help="a feature file whose words are the visual words (default: each "
                                           "embeddings file's own mask)")
    parser.add_argument("--json", help="write the scores here")
    parser.add_argument("--neighbours", nargs="+", metavar="WORD", help="print the 10 nearest neighbours of these "
                                                                         "words in each model and kind (Table 5)")
    parser.add_argument("--pairs", nargs="+", metavar="A,B", help="print the cosine of these word pairs (Table 4)")
    parser.add_argument("--concreteness", help="Brysbaert et al. (2014) ratings file, to show each query's rating")
    parser.add_argument("--report", metavar="DIR", help="write DIR/report.md with bar charts and word maps")
    args = parser.parse_args(argv)
    import numpy as np
    from pixie_jax import io
    from pixie_jax.evaluate import kinds as kinds_lib, neighbours, similarity
    from pixie_jax.visual.features import load_word_features
    try:
        benches = [b for source in args.benchmarks for b in similarity.load_benchmarks(source)]
        visual = set(load_word_features(args.features).words) if args.features else None
        results, rows, qualitative, loaded = {}, [], [], {}

        def add(name, kind, words, vectors, mask, settings):
            scores = similarity.evaluate(words, vectors, mask, benches, settings)
            results[f"{name}:{kind}"] = scores
            rows.extend(dict(model=name, kind=kind, **s.__dict__, coverage=s.coverage) for s in scores)
            qualitative.append((f"{name}:{kind}", words, vectors, mask))

        for spec in args.embeddings:
            name, _, path = spec.rpartition("=")
            name = name or Path(path).parent.name or Path(path).stem
            arrays = io.load_embeddings(path)
            if visual is not None:
                arrays["mask"] = np.array([w in visual for w in arrays["words"]], np.float32)
            loaded[name] = arrays
            chosen = args.kind or [k for k in ("e", "s", "t") if k in kinds_lib.available(arrays)]
            for kind in chosen:
                add(name, kind, arrays["words"], kinds_lib.vectors(arrays, kind), np.asarray(arrays["mask"]),
                    kinds_lib.settings_for(kind))
        for item in args.combine:
            label, sep, spec = item.partition("=")
            if not sep:
                raise ValueError(f"--combine {item!r}: expected LABEL=NAME:KIND+NAME:KIND")
            words, vectors, mask = kinds_lib.combine(loaded, spec)
            add(label, spec, words, vectors, mask, kinds_lib.settings_for("+".join(
                p.partition(":")[2] for p in spec.split("+"))))
        print(similarity.format_table(results))
        ratings = neighbours.load_concreteness(args.concreteness) if args.concreteness else {}
        for query in args.neighbours or []:
            print(f"\n{query} (concreteness {ratings.get(query, 'n/a')})")
            for model, words, vecs, mask in qualitative:
                visual = "visual" if mask[list(words).index(query)] > 0 else "not visual"
                near = ", ".join(w for w, _ in neighbours.nearest(words, vecs, query, 10))
                print(f"  {model} ({visual}): {near}")
        if args.pairs:
            pairs = [tuple(p.split(",", 1)) for p in args.pairs]
            print("\npair cosines: " + ", ".join(m for m, *_ in qualitative))
            for pair in pairs:
                cells = []
                for _, words, vecs, _ in qualitative:
                    try:
                        cells.append(f"{neighbours.pair_cosines(words, vecs, [pair])[0]:.2f}")
                    except neighbours.QueryError:
                        cells.append("-")  # a word outside this model's vocabulary
                print(f"  {pair[0]},{pair[1]}: " + "  ".join(cells))
        if args.report:
            from pixie_jax.evaluate import report
            print(f"wrote {report.write_report(args.report, results, qualitative)}")
    except (OSError, ValueError, KeyError) as err:
        sys.exit(f"error: {err}")
    if args.json:
        from pixie_jax.files import atomic_write
        with atomic_write(args.json, "w") as f:
            json.dump(rows, f, indent=1)
        print(f"wrote {args.json}")


def _propagation(argv):
    del argv
    _quiet()
    from pixie_jax.evaluate import propagation
    try:
        propagation.run(flags.FLAGS.config, flags.FLAGS.workdir, flags.FLAGS.fraction, flags.FLAGS.subset_seed)
    except (ValueError, OSError, RuntimeError) as err:
        sys.exit(f"error: {err}")


def propagation_main():
    check_config_overrides(sys.argv[1:])
    config_flags.DEFINE_config_file("config", None, "a PIXIE config file, e.g. configs/pixie.py", lock_config=True)
    flags.DEFINE_string("workdir", "runs/propagation", "the two runs go to WORKDIR/with and WORKDIR/without")
    flags.DEFINE_float("fraction", 2000 / 9713, "fraction of the visual words whose features are held out")
    flags.DEFINE_integer("subset_seed", 0, "seed of the held-out subset")
    flags.mark_flags_as_required(["config"])
    app.run(_propagation)


def _retrieval(argv):
    del argv
    _quiet()
    import json
    from pathlib import Path
    import numpy as np
    from flax import serialization
    from pixie_jax import io
    from pixie_jax.evaluate import kinds as kinds_lib, retrieval
    from pixie_jax.files import atomic_write
    f = flags.FLAGS
    cfg_dict = f.config
    cfg = retrieval.RetrievalConfig(**{k: cfg_dict[k] for k in retrieval.RetrievalConfig.__dataclass_fields__})
    kind, _, where = f.data.partition(":")
    try:
        if kind == "imagenet-gloss":
            from pixie_jax.visual import wordnet
            wn = wordnet.load_wordnet(f.wordnet or None)
            fold_splits = [retrieval.imagenet_gloss_splits(where, wn, fold=k) for k in range(cfg_dict.folds)]
        elif kind == "precomputed":
            fold_splits = [{s: retrieval.load_precomputed(where, s) for s in ("train", "dev", "test")}]
        else:
            raise ValueError(f"--data must be imagenet-gloss:FEATURES.npz or precomputed:FOLDER, got {f.data!r}")
        workdir = Path(f.workdir)
        table_rows, report = [], {}
        for spec in f.embeddings:
            name, _, path = spec.rpartition("=")
            name = name or Path(path).parent.name
            arrays = io.load_embeddings(path)
            k = f.kind or ("t" if "t" in kinds_lib.available(arrays) else "e")
            runs = []
            for fold, splits in enumerate(fold_splits):
                params, results, losses = retrieval.train_and_evaluate(arrays["words"], kinds_lib.vectors(arrays, k),
                                                                       splits, cfg)
                runs.append(results["test"])
                with atomic_write(workdir / name / f"model_fold{fold}.msgpack", "wb") as out:
                    out.write(serialization.to_bytes(params))
            metrics = list(runs[0])
            mean = {m: float(np.mean([r[m] for r in runs])) for m in metrics}
            spread = {m: float(np.std([r[m] for r in runs])) for m in metrics}
            report[f"{name}:{k}"] = {"mean": mean, "std": spread, "folds": runs}
            table_rows.append((f"{name}:{k}", mean, spread))
    except (OSError, ValueError, RuntimeError, KeyError) as err:
        sys.exit(f"error: {err}")
    metrics = list(table_rows[0][1])
    print("model".ljust(24) + "".join(m.ljust(14) for m in metrics))
    for name, mean, spread in table_rows:
        cells = [f"{mean[m]:.1f}" + (f"+-{spread[m]:.1f}" if len(fold_splits) > 1 else "") for m in metrics]
        print(name.ljust(24) + "".join(c.ljust(14) for c in cells))
    with atomic_write(workdir / "retrieval.json", "w") as out:
        json.dump(report, out, indent=1)
    print(f"wrote {workdir / 'retrieval.json'}")


def retrieval_main():
    check_config_overrides(sys.argv[1:])
    config_flags.DEFINE_config_file("config", None, "configs/retrieval.py", lock_config=True)
    flags.DEFINE_list("embeddings", None, "comma-separated [NAME=]FILE of embeddings to compare")
    flags.DEFINE_string("data", None, "imagenet-gloss:FEATURES.npz (photos named by wnid; captions = WordNet glosses) "
                                      "or precomputed:FOLDER ({split}_ims.npy + {split}_caps.txt)")
    flags.DEFINE_string("kind", "", "embedding kind (default: t where present, else e)")
    flags.DEFINE_string("workdir", "runs/retrieval", "models and retrieval.json go here")
    flags.DEFINE_string("wordnet", "", "WordNet 3.0 dict folder for the glosses")
    flags.mark_flags_as_required(["config", "embeddings", "data"])
    app.run(_retrieval)
