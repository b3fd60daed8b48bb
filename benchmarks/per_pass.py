"""What each recipe learns per pass, against gensim in the same run: every similarity set, the analogy
questions, similarity by word-frequency band, and the nearest-neighbour overlap with gensim per band.

    python benchmarks/per_pass.py [--corpus bundled] [--epochs 3] [--benchmarks bundled DIR ...]
        --recipe NAME KEY=VALUE ... [--recipe NAME2 ...] [--systems sgns pixie] [--features bundled]
        [--no-gensim] [--set KEY=VALUE ...] [--out per_pass]

Each recipe is our SGNS (configs/pixie.py without features, kind e) with its config overrides, trained
for E passes with its rate decaying over the E, and with ``--systems ... pixie`` also PIXIE (the same
config with --features, scored on s); gensim is Word2Vec(sg=1) with the config's settings for E epochs
on the same token ids (benchmarks/time_to_quality.py), once per --gensim-seeds. ``--set`` overrides
configs/pixie.py for gensim and every recipe alike (sampler.negatives=64: gensim draws 64 negatives too).
Seconds are training seconds (our compilation and all scoring excluded). Bands: the rarer word of a pair
among the 1k most frequent words, 1k-10k, beyond 10k (pixie_jax.evaluate.bands). Writes DIR/per_pass.{md,json}.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks import common
from benchmarks import time_to_quality as ttq
from pixie_jax import overrides
from pixie_jax.cli import command
from pixie_jax.data import training_data as data_lib
from pixie_jax.errors import InputError
from pixie_jax.evaluate import analogy, bands, fit, similarity

BAND_SETS = ("EN-SIMLEX-999", "EN-MEN-TR-3k", "EN-WS-353-ALL")
FIT_PAIRS = 200_000  # pairs of the sample the SGNS objective is scored on (pixie_jax.evaluate.fit)


def short(name: str) -> str:
    return name.removeprefix("EN-").removesuffix("-TR-3k").removesuffix("-999")


def score(words, vectors, benches, gensim_vectors=None) -> dict:
    """Every set's rho, the analogy totals, rho by band on BAND_SETS, and the overlap with gensim."""
    out = {b.name: similarity.score(b, words, vectors).rho for b in benches}
    for s in analogy.evaluate(words, vectors, ttq.questions(), methods=("add",)):
        if s.section in ("semantic", "syntactic", "total"):
            out[f"analogy {s.section} %"] = s.accuracy
    for b in benches:
        if b.name in BAND_SETS:
            for band, sc in bands.similarity_by_band(words, vectors, b).items():
                out[f"{short(b.name)} {band}"] = sc.rho
                out[f"{short(b.name)} {band} pairs"] = sc.used
    if gensim_vectors is not None:
        for band, value in bands.neighbour_overlap(words, vectors, gensim_vectors).items():
            out[f"NN overlap {band}"] = value
    return out


def text_setup(args, log=print):
    """(configs/pixie.py for ``args.corpus`` with ``args.features`` (none by default), its prepared data, the
    words, the benchmarks of ``args.benchmarks``)."""
    base = common.checked_config(getattr(args, "set", []), args.corpus)
    base.features, base.progress = getattr(args, "features", ""), False
    data = data_lib.prepare_data(base, log)
    return base, data, list(data.vocab.words), [b for src in args.benchmarks for b in similarity.load_benchmarks(src)]


def table(results: dict, columns) -> str:
    lines = ["| recipe | seconds | " + " | ".join(map(short, columns)) + " |", "|" + "---|" * (2 + len(columns))]
    for name, r in results.items():
        cells = [f"{r[c]:.1f}" if c.endswith("%") else f"{r[c]:.3f}" for c in columns]
        lines.append(f"| {name} | {r['seconds']:.0f} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def check_args(args) -> None:
    """Every argument checked before anything trains: an :class:`InputError` (one line) for the first bad one."""
    if not args.epochs > 0 or (not args.no_gensim and int(args.epochs) < 1):
        raise InputError(
            f"--epochs must be > 0 (and at least 1, gensim's whole epochs, unless --no-gensim), got {args.epochs:g}"
        )
    if "pixie" in args.systems and not args.features:
        raise InputError("--systems pixie needs --features (a feature file, or 'bundled')")
    if not args.recipe:
        raise InputError("give at least one --recipe NAME [KEY=VALUE ...] (e.g. --recipe default)")
    common.checked_config(args.set, args.corpus)
    for name, *items in args.recipe:
        common.checked_config(args.set + items, args.corpus, what=f"--recipe {name}")
    for source in args.benchmarks:
        similarity.load_benchmarks(source)


@command
def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", default="bundled")
    parser.add_argument("--epochs", type=float, default=3.0)
    parser.add_argument("--benchmarks", nargs="+", default=["bundled"])
    parser.add_argument(
        "--recipe",
        nargs="+",
        action="append",
        default=[],
        metavar="NAME KEY=VALUE",
        help="a name, then config overrides of configs/pixie.py (repeat for each recipe)",
    )
    parser.add_argument(
        "--systems",
        nargs="+",
        choices=("sgns", "pixie"),
        default=["sgns"],
        help="each recipe as our SGNS (kind e) and/or PIXIE (with --features, kind s)",
    )
    parser.add_argument("--features", default="", help="the features of PIXIE's runs (e.g. bundled)")
    parser.add_argument("--no-gensim", action="store_true")
    parser.add_argument(
        "--gensim-seeds",
        type=int,
        nargs="+",
        default=[0],
        help="gensim runs; the first is the reference of the overlap, the others show how much two "
        "gensim runs of other seeds share",
    )
    parser.add_argument(
        "--set",
        nargs="+",
        default=[],
        metavar="KEY=VALUE",
        help="overrides of configs/pixie.py for gensim and every recipe (e.g. sampler.negatives=64)",
    )
    parser.add_argument("--out", default="per_pass")
    args = parser.parse_args(argv)
    check_args(args)
    log = lambda *a: print(*a, flush=True)  # noqa: E731
    base, data, words, benches = text_setup(args, log)
    sample = fit.objective_sample(
        data.ids,
        data.keep_prob,
        data.vocab.counts,
        base.sampler.window,
        base.sampler.negatives,
        FIT_PAIRS,
        base.noise_power,
    )
    results, reference = {}, None
    for seed in [] if args.no_gensim else args.gensim_seeds:
        final, config = {}, base.copy_and_resolve_references()
        config.seed = seed
        rows = ttq.run_gensim(data, config, int(args.epochs), [], log, final)
        reference = final["vectors"] if reference is None else reference
        name = f"gensim, {int(args.epochs)} epoch{'s' if int(args.epochs) != 1 else ''}, seed {seed}"
        results[name] = (
            {"seconds": rows[-1]["seconds"]}
            | score(words, final["vectors"], benches, reference)
            | objective(final["tables"], sample)
        )
        log(f"{name}: {results[name]}")
        write(args, argv, data, words, benches, results)
    for (recipe, *items), system in ((r, s) for r in args.recipe for s in args.systems):
        config = overrides.apply_overrides(base.copy_and_resolve_references(), items)
        final, name = {}, recipe if system == "sgns" else f"{recipe}, PIXIE-s"
        rows = ttq.run_ours(system, config, data, args.epochs, [], log, final=final)
        fitted = objective(final["tables"], sample) if system == "sgns" else {}  # PIXIE's logits are fused
        results[name] = (
            {"seconds": rows[-1]["seconds"], "overrides": " ".join(items)}
            | score(words, final["vectors"], benches, reference)
            | fitted
        )
        log(f"{name}: {results[name]}")
        write(args, argv, data, words, benches, results)
    print(write(args, argv, data, words, benches, results))


def objective(tables, sample) -> dict:
    """The SGNS objective of the tables (e, v) on the sample, by the centre's band: 'loss <1k', ..."""
    return {f"loss {band}": r["total"] for band, r in fit.fit_by_band(*tables, sample).items()}


def write(args, argv, data, words, benches, results: dict) -> str:
    """OUT/per_pass.{md,json} of the systems trained so far (a stopped run keeps them); returns the text."""
    columns = [b.name for b in benches] + ["analogy total %"]
    band_columns = [
        k
        for k in next(iter(results.values()))
        if any(k.startswith(short(b) + " ") for b in BAND_SETS) and not k.endswith("pairs")
    ]
    overlap = [k for k in next(iter(results.values())) if k.startswith("NN overlap")]
    losses = next(([k for k in r if k.startswith("loss ")] for r in results.values() if "loss all" in r), [])
    first = next(iter(results.values()))
    pairs = ", ".join(f"{k[: -len(' pairs')]} {first[k]}" for k in first if k.endswith(" pairs"))
    command = "python benchmarks/per_pass.py " + " ".join(argv if argv is not None else sys.argv[1:])
    text = "\n\n".join(
        [
            f"Command: `{command}`  \nCorpus {args.corpus} ({len(data.ids):,} tokens, {len(words):,} words), "
            f"{args.epochs:g} passes; machine: {common.machine()}.",
            "Every set, all pairs in the vocabulary (Spearman rho), and analogies (3CosAdd, % correct):",
            table(results, columns),
            f"By frequency band of the pair's rarer word (pairs per band: {pairs}) and nearest-neighbour overlap with "
            "gensim (k = 10, 500 words a band):",
            table(results, band_columns + overlap),
            f"The SGNS objective of the tables e, v (mean loss of a pair and its negatives, lower is a closer fit; one "
            f"seeded sample of {FIT_PAIRS:,} pairs of word2vec's distribution, pixie_jax.evaluate.fit), all pairs "
            "and by "
            "the band of the pair's centre word (SGNS rows only):",
            table({n: r for n, r in results.items() if "loss all" in r}, losses),
            "Recipes: " + "; ".join(f"{n}: `{r.get('overrides', '')}`" for n, r in results.items() if "overrides" in r),
        ]
    )
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "per_pass.md").write_text(text + "\n")
    (out / "per_pass.json").write_text(
        json.dumps({"command": command, "machine": common.machine(), "results": results}, indent=1, default=float)
    )
    return text


if __name__ == "__main__":
    main()
