"""Command-line entry points: parse the arguments (argparse), call a library function, print.

Installed, they are the console scripts ``pixie-train``, ``pixie-evaluate``, ``pixie-propagation``,
``pixie-retrieval``, ``pixie-extract-features``, ``pixie-build-visual-features``,
``pixie-check-visual-sources`` and ``pixie-cache``; the scripts in bin/ call the same functions from a
source checkout.
Expected failures (bad input, a file that cannot be read) print one line, ``error: ...``, and exit 1;
any other exception is a bug: its traceback is printed, then a line saying so (:func:`command`).
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import sys
import traceback
from pathlib import Path

from pixie_jax.errors import InputError, ProjectError

BUG = (
    "error: the traceback above is a bug in pixie-jax, not a mistake in your input or settings; please report "
    "it with the command and the traceback"
)


def _quiet():
    """Orbax logs through absl; keep only its warnings."""
    from absl import logging

    logging.set_verbosity(logging.WARNING)


def _expected(err: BaseException) -> bool:
    """The project's own errors, and an OSError that names its file (one the user can fix): one line."""
    return isinstance(err, ProjectError) or (isinstance(err, OSError) and bool(err.filename))


def _fail(err: BaseException):
    """One line, ``error: ...``, and exit 1: for the project's own errors (:class:`ProjectError`,
    :class:`InputError`) and files that cannot be read or written."""
    message = err.args[0] if isinstance(err, KeyError) and err.args else err
    if isinstance(err, OSError) and err.filename and err.strerror:
        message = f"{err.filename}: {err.strerror}"
    sys.exit(f"error: {message}")


def user_frame(err: BaseException):
    """The innermost frame of ``err``'s traceback (or of the exceptions it was raised from) in a user's own
    file (:data:`pixie_jax.errors.USER_FILES`), and whether it is the innermost frame of all; (None, False)
    where there is none."""
    from pixie_jax.errors import USER_FILES

    seen = set()
    while err is not None and id(err) not in seen:
        seen.add(id(err))
        frames = traceback.extract_tb(err.__traceback__)
        for i in range(len(frames) - 1, -1, -1):
            if str(Path(frames[i].filename).resolve()) in USER_FILES:
                return frames[i], i == len(frames) - 1
        err = err.__cause__ or err.__context__
    return None, False


def _unexpected(err: BaseException) -> str:
    """The line after an unexpected exception's traceback: from a user's own file, an OSError, or a bug."""
    frame, innermost = user_frame(err)
    if frame is not None:
        how = "was raised in" if innermost else "was raised while running"
        return (
            f"error: the exception above {how} your own file {frame.filename}, line {frame.lineno} (in "
            f"{frame.name}): {type(err).__name__}: {err}"
        )
    if isinstance(err, OSError):
        return f"error: {type(err).__name__}: {err} (the traceback above says where)"
    return BUG


def command(main):
    """A command-line entry point: the project's own errors and files it cannot read or write
    (:func:`_expected`) are one line; any other exception keeps its traceback, followed by one line that
    says where it came from (a user's own file, an OSError) or that it is a bug."""

    @functools.wraps(main)
    def run(argv=None):
        try:
            return main(argv)
        except Exception as err:
            if _expected(err):
                _fail(err)
            traceback.print_exc()
            sys.exit(_unexpected(err))

    return run


def config_parser(description: str, config_help: str, workdir: str) -> argparse.ArgumentParser:
    """A parser with ``--config FILE`` (required) and ``--workdir``; ``--config.KEY=VALUE`` items
    override the file's settings (:func:`parse_config`)."""
    parser = argparse.ArgumentParser(
        description=description,
        epilog="--config.KEY=VALUE (or --config.KEY VALUE) overrides a setting of "
        "the config file, e.g. --config.epochs=1",
    )
    parser.add_argument("--config", required=True, help=config_help)
    parser.add_argument("--workdir", default=workdir, help="default: %(default)s")
    return parser


def parse_config(parser: argparse.ArgumentParser, argv=None):
    """(args, config): the config file's ``get_config()`` with the command line's overrides applied; ``args.given``
    holds the keys the command line set."""
    from pixie_jax import overrides

    args, extra = parser.parse_known_args(argv)
    items, rest = [], iter(extra)
    for arg in rest:
        if not arg.startswith("--config."):
            parser.error(f"unrecognised argument {arg!r}; overrides look like --config.KEY=VALUE")
        key, sep, value = arg[len("--config.") :].partition("=")
        if not sep:
            value = next(rest, None)
            if value is None:
                parser.error(f"{arg} needs a value")
        items.append((key, value))
    try:
        config = overrides.load_config(args.config)
    except overrides.ConfigFileError as err:
        sys.exit(f"error: {err}")
    except OSError as err:
        sys.exit(f"error: cannot read the config file {args.config}: {err.strerror or err}")
    for key, value in items:
        try:
            overrides.set_value(config, key, overrides.typed(config, key, value))
        except KeyError:
            from pixie_jax.validation import REPLACED

            if key in REPLACED:
                sys.exit(f"error: --config.{key}: no longer read ({REPLACED[key]})")
            sys.exit(
                f"error: {args.config} has no key {key!r}. Valid keys:\n  " + "\n  ".join(overrides.flat_keys(config))
            )
        except (ValueError, TypeError) as err:
            sys.exit(f"error: --config.{key}={value}: {err}")
    args.given = tuple(key for key, _ in items)  # the settings given on the command line
    return args, config


def _distributed_args(parser):
    group = parser.add_argument_group(
        "several processes (jax.distributed; README, 'Several processes and hosts')",
        "start the same command in every process with its --process-id; under SLURM (or another cluster JAX "
        "detects) set PIXIE_JAX_DISTRIBUTED=1 instead",
    )
    group.add_argument("--coordinator", metavar="HOST:PORT", help="address of process 0")
    group.add_argument("--num-processes", type=int)
    group.add_argument("--process-id", type=int)
    group.add_argument(
        "--heartbeat-timeout",
        type=int,
        default=100,
        metavar="SECONDS",
        help="a process silent this long is taken as dead and the others stop (default: %(default)s)",
    )
    group.add_argument(
        "--startup-timeout",
        type=int,
        default=300,
        metavar="SECONDS",
        help="how long a process waits for all of them to join before it stops (default: %(default)s)",
    )


def check_distributed_args(args) -> None:
    """The multi-process arguments, checked before jax.distributed starts: --coordinator HOST:PORT that
    parses and whose host resolves, --num-processes >= 1, and --process-id in [0, --num-processes)."""
    import os
    import socket

    if not args.coordinator:
        if args.num_processes is not None or args.process_id is not None:
            if not os.environ.get("PIXIE_JAX_DISTRIBUTED"):
                raise InputError(
                    "--num-processes and --process-id need --coordinator HOST:PORT (the address of "
                    "process 0), or PIXIE_JAX_DISTRIBUTED=1 under a cluster JAX detects"
                )
        return
    host, sep, port = args.coordinator.rpartition(":")
    if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise InputError(
            f"--coordinator {args.coordinator!r}: expected HOST:PORT with a port 1-65535, e.g. localhost:12345"
        )
    try:
        socket.getaddrinfo(host.strip("[]"), int(port))
    except (OSError, UnicodeError) as err:
        raise InputError(
            f"--coordinator {args.coordinator!r}: the host {host!r} does not resolve "
            f"({getattr(err, 'strerror', None) or err})"
        ) from None
    if args.num_processes is None or args.process_id is None:
        missing = " and ".join(
            n for n, v in (("--num-processes", args.num_processes), ("--process-id", args.process_id)) if v is None
        )
        raise InputError(
            f"--coordinator needs {missing} too: every process gets the same --num-processes and its "
            f"own --process-id, 0 to N - 1"
        )
    if args.num_processes < 1:
        raise InputError(f"--num-processes must be >= 1, got {args.num_processes}")
    if not 0 <= args.process_id < args.num_processes:
        raise InputError(
            f"--process-id must be 0 to {args.num_processes - 1} (--num-processes "
            f"{args.num_processes}), got {args.process_id}"
        )
    for name in ("heartbeat_timeout", "startup_timeout"):
        if getattr(args, name) < 1:
            raise InputError(f"--{name.replace('_', '-')} must be >= 1 second, got {getattr(args, name)}")


def _start_distributed(args) -> None:
    """jax.distributed.initialize from the command line (or from the cluster's environment when
    $PIXIE_JAX_DISTRIBUTED is set); CPU devices of several processes talk through gloo."""
    import os

    if not (args.coordinator or os.environ.get("PIXIE_JAX_DISTRIBUTED")):
        return
    import threading

    import jax

    jax.config.update("jax_cpu_collectives_implementation", "gloo")
    where = f" at {args.coordinator}" if args.coordinator else ""
    print(
        f"process {args.process_id if args.process_id is not None else '?'}: waiting up to {args.startup_timeout} s "
        f"for {args.num_processes or 'all'} processes to join{where}",
        flush=True,
    )

    def give_up():  # jax's own timeout ends in a C++ abort and a stack trace
        sys.stderr.write(
            f"error: process {args.process_id if args.process_id is not None else '?'} waited "
            f"{args.startup_timeout} s for {args.num_processes or 'all'} processes to join{where}; start "
            f"every process (the same command with each --process-id), check that the address is "
            f"reachable from each, or raise --startup-timeout\n"
        )
        sys.stderr.flush()
        os._exit(1)

    timer = threading.Timer(args.startup_timeout, give_up)
    timer.daemon = True
    timer.start()
    jax.distributed.initialize(
        coordinator_address=args.coordinator,
        num_processes=args.num_processes,
        process_id=args.process_id,
        heartbeat_timeout_seconds=args.heartbeat_timeout,
        initialization_timeout=args.startup_timeout + 60,
    )
    timer.cancel()


def _interrupted(workdir) -> str:
    """What an interruption outside the training loop leaves: the newest checkpoint, if any. Reads the
    folder itself (no import: it runs in a signal handler, perhaps while jax is being imported)."""
    folder = Path(workdir) / "checkpoints" if workdir else None
    steps = sorted(int(p.name) for p in folder.iterdir() if p.name.isdigit()) if folder and folder.is_dir() else []
    if steps:
        return f"interrupted; the checkpoint of step {steps[-1]:,} in {folder} is kept: run the same command to resume"
    return "interrupted before any checkpoint was written; run the same command to start again"


@contextlib.contextmanager
def interrupts_stop_at_once():
    """Within the block, Ctrl-C outside the training loop (starting up, reading the data, compiling,
    writing the outputs) ends the process at once with one line (:func:`_interrupted`) and exit status
    1; the training loop defers it to the end of a chunk of steps (:class:`pixie_jax.training.loop.DeferredInterrupts`).
    Exiting from the handler, not raising, is what makes it reliable: a KeyboardInterrupt raised while
    jax starts up can land in a garbage collector's callback, which swallows it. Yields a dict whose
    'workdir' the caller sets once it is known."""
    import os
    import signal
    import threading

    where = {"workdir": None}

    def handler(signum, frame):
        sys.stdout.flush()
        sys.stderr.write(_interrupted(where["workdir"]) + "\n")
        sys.stderr.flush()
        os._exit(1)

    if (
        threading.current_thread() is not threading.main_thread() or signal.getsignal(signal.SIGINT) is signal.SIG_IGN
    ):  # e.g. started with nohup: Ctrl-C stays ignored
        yield where
        return
    previous = signal.signal(signal.SIGINT, handler)
    try:
        yield where
    finally:
        signal.signal(signal.SIGINT, previous)


@command
def train_main(argv=None):
    with interrupts_stop_at_once() as where:
        parser = config_parser(
            "Train PIXIE or a baseline (config.model.name) and write its embeddings.",
            "a config file, e.g. configs/pixie.py",
            "runs/default",
        )
        _distributed_args(parser)
        args, config = parse_config(parser, argv)
        where["workdir"] = args.workdir
        check_distributed_args(args)
        import os

        if (args.coordinator or os.environ.get("PIXIE_JAX_DISTRIBUTED")) and not os.environ.get("PIXIE_JAX_SUPERVISED"):
            from pixie_jax import supervise  # the process runs as a child, so that losing another ends in one line

            sys.exit(
                supervise.supervise(
                    sys.argv[1:] if argv is None else list(argv),
                    "?" if args.process_id is None else str(args.process_id),
                    args.workdir,
                )
            )
        _quiet()
        _start_distributed(args)
        from pixie_jax import experiment

        try:
            experiment.run_and_write(config, args.workdir, given=args.given)
        except KeyboardInterrupt as err:
            # what was trained is written and closed: end now, so that a second Ctrl-C cannot land in the
            # interpreter's shutdown (where it kills the process with SIGINT)
            sys.stdout.flush()
            sys.stderr.write(f"{err.args[0] if err.args else _interrupted(args.workdir)}\n")
            sys.stderr.flush()
            os._exit(1)


@command
def cache_main(argv=None):
    parser = argparse.ArgumentParser(
        description="List the token cache (a corpus's vocabulary and token ids, one entry per corpus and "
        "vocabulary settings, about 4 bytes a token) and remove what no run can use any more."
    )
    parser.add_argument("--cache-dir", help="default: $PIXIE_JAX_CACHE, else ~/.cache/pixie-jax")
    action = parser.add_mutually_exclusive_group()
    action.add_argument(
        "--remove-stale",
        action="store_true",
        help="remove the entries whose corpus changed or is gone, of another version, or half built",
    )
    action.add_argument("--clear", action="store_true", help="remove every entry (the next run rebuilds its own)")
    args = parser.parse_args(argv)
    from pixie_jax.data import download, tokens

    root = download.cache_dir(args.cache_dir, create=False) / "corpora"
    if not root.parent.is_dir():
        print(f"{root.parent}: no such folder, so no cache there yet (a run makes it)")
        return
    entries = tokens.cache_entries(args.cache_dir)
    if args.clear or args.remove_stale:
        gone = [e for e in entries if args.clear or e.stale]
        freed = tokens.remove_entries(gone)
        print(f"removed {len(gone)} of {len(entries)} entries from {root}, {freed / 1e6:,.1f} MB")
        return
    print(f"{root}: {len(entries)} entries, {sum(e.bytes for e in entries) / 1e6:,.1f} MB")
    for e in entries:
        print(
            f"  {e.folder.name}  {e.bytes / 1e6:10,.1f} MB  {e.source or '?'}"
            + (f"  (stale: {e.stale})" if e.stale else "")
        )
    if any(e.stale for e in entries):
        print("remove the stale ones with --remove-stale")


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
    from pixie_jax.visual import features, word_features, wordnet

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
    from pixie_jax.evaluate import analogy, compare, neighbours, similarity
    from pixie_jax.visual.features import load_word_features

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
    _quiet()
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
    _quiet()
    from pixie_jax.data import embedding_files
    from pixie_jax.evaluate import retrieval

    retrieval.run(
        config, args.workdir, embedding_files.named_paths(args.embeddings), args.data, args.kind, args.wordnet
    )
