"""One table of this project beside gensim and beside the paper: the paper's ten similarity sets in both of
its coverage settings, and word2vec's analogies, for the paper's SGNS and PIXIE+, gensim's skip-gram at its
own defaults and at the paper's window, and our trained runs.

    python benchmarks/comparison.py --corpus gutenberg8.xz --epochs 3 \\
        --ours SGNS=runs/sgns:e PIXIE-s=runs/pixie:s --benchmarks bundled SEMSIM_VISSIM_DIR [--features bundled] \\
        [--gensim-windows 5 10] [--out comparison]

Each ``--ours NAME=RUNDIR:KIND`` is a finished ``bin/train`` run (its ``embeddings.npz``, scored on KIND;
its seconds are the sum of the chunks in ``metrics.jsonl``, compilation included). gensim is
``Word2Vec(sg=1)`` with word2vec's recipe but the window (5 negatives, threshold 1e-3), trained ``--epochs``
epochs on the run's token ids with all cores (benchmarks/time_to_quality.py's ``run_gensim``), or its
CBOW with ``--gensim-cbow``, or its FastText skip-gram with ``--gensim-fasttext BUCKETS`` (3- to 6-grams,
as examples/subword.py); ``--rare RANK`` adds a table of each set's rare pairs; its vectors are kept in
OUT/gensim_wW.npz (gensim_cbow_wW.npz, gensim_fasttext_wW.npz). "visual" is
the paper's second setting, pairs of two words of ``--features``. The paper's rows are its Table 2
(text8, its own training); analogies are not in the paper. Writes OUT/comparison.{md,json}.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks import common, paper_numbers
from benchmarks import time_to_quality as ttq
from pixie_jax import overrides
from pixie_jax.cli import command
from pixie_jax.data import embedding_files
from pixie_jax.data import training_data as data_lib
from pixie_jax.data.feature_files import load_word_features
from pixie_jax.errors import InputError
from pixie_jax.evaluate import analogy, bands, compare, similarity

PAPER_ROWS = {"paper SGNS (text8)": "SGNS", "paper PIXIE+ (text8)": "PIXIE+"}
GENSIM = ("sampler.negatives=5", "subsample=0.001")  # word2vec's recipe; the window is each row's


def run_seconds(run: Path) -> float:
    """A run's training seconds: the sum of its logged chunks (the first holds the compilation)."""
    lines = (run / "metrics.jsonl").read_text().splitlines()
    return sum(json.loads(line).get("seconds", 0.0) for line in lines if line.strip())


def our_spec(item: str) -> tuple[str, Path, str]:
    name, sep, rest = item.partition("=")
    run, colon, kind = rest.rpartition(":")
    if not sep or not colon or not (Path(run) / "embeddings.npz").is_file():
        raise InputError(f"--ours {item!r}: expected NAME=RUNDIR:KIND, RUNDIR holding a finished run's embeddings.npz")
    return name, Path(run), kind


def scored(label: str, path, kind: str, benches, visual: set, rare: int = 0) -> dict:
    """{benchmark: {setting: rho}} and the analogy accuracy (3CosAdd, %) of one file's ``kind``; with ``rare``,
    also each set's rho on its pairs whose rarer word ranks ``rare`` or beyond (a file's rows are in
    frequency order: :mod:`pixie_jax.evaluate.bands`)."""
    (emb,) = compare.load([f"{label}={path}"], [kind], visual)[0]
    scores = similarity.evaluate(emb.words, emb.vectors, emb.mask, benches, ("all", "visual"))
    out = {"sets": {}, "pairs": {}}
    for s in scores:
        out["sets"].setdefault(s.benchmark, {})[s.setting] = s.rho
        out["pairs"].setdefault(s.benchmark, {})[s.setting] = s.used
    if rare:
        for b in benches:
            score = list(bands.similarity_by_band(emb.words, emb.vectors, b, edges=(rare,)).values())[-1]
            out["sets"][b.name]["rare"], out["pairs"][b.name]["rare"] = score.rho, score.used
    out["analogy %"] = analogy.total(emb.words, emb.vectors, ttq.questions()).accuracy
    return out


def gensim_rows(args, benches, visual, out: Path, log) -> dict:
    base = common.checked_config(list(GENSIM), args.corpus, what="gensim")
    base.features, base.progress = "", False
    data = data_lib.prepare_data(base, log=lambda *a: None)
    rows = {}
    for window in args.gensim_windows:
        config = common.checked_config([*GENSIM, f"sampler.window={window}"], args.corpus, what="gensim")
        final = {}
        subwords = (3, 6, args.gensim_fasttext) if args.gensim_fasttext else None
        sg = 0 if args.gensim_cbow else 1
        history = ttq.run_gensim(data, config, args.epochs, [], log, final, sg=sg, subwords=subwords)
        kind = "FastText skip-gram" if subwords else "cbow" if args.gensim_cbow else "skip-gram"
        path = out / f"gensim_{'fasttext_' if subwords else 'cbow_' if args.gensim_cbow else ''}w{window}.npz"
        mask = [0.0] * len(data.vocab.words)
        embedding_files.save_embeddings(path, data.vocab.words, mask, e=final["vectors"])
        label = f"gensim {kind}, window {window}" + (" (its default)" if window == 5 else "")
        rows[label] = scored(label, path, "e", benches, visual, args.rare) | {"seconds": history[-1]["seconds"]}
        log(f"{label}: {history[-1]['seconds']:.1f} s")
    return rows


def cell(value) -> str:
    """A rho to three places; '-' where there is none (the paper's '-', or fewer than 3 pairs)."""
    return "-" if value is None or value != value else f"{value:.3f}"


def table(rows: dict, names: list[str]) -> str:
    head = [paper_numbers.paper_benchmark(n) or n for n in names]
    lines = [
        "| system | " + " | ".join(head) + " | analogy % | seconds |",
        "|---" * (len(names) + 3) + "|",
    ]
    for label, row in rows.items():
        cells = [
            f"{cell(row['sets'].get(n, {}).get('all'))} / {cell(row['sets'].get(n, {}).get('visual'))}" for n in names
        ]
        analogies, seconds = row.get("analogy %"), row.get("seconds")
        cells.append("-" if analogies is None else f"{analogies:.1f}")
        cells.append("-" if seconds is None else f"{seconds:.0f}")
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def rare_table(rows: dict, names: list[str], rank: int) -> str:
    """Rho on each set's pairs whose rarer word ranks ``rank`` or beyond, with their number."""
    measured = {label: row for label, row in rows.items() if "pairs" in row}
    first = next(iter(measured.values()), {"pairs": {}})
    head = [f"{paper_numbers.paper_benchmark(n) or n} ({first['pairs'].get(n, {}).get('rare', 0)})" for n in names]
    lines = [
        f"\n\nRare pairs (the rarer word at rank {rank:,} or beyond; the pairs in brackets):\n",
        "| system | " + " | ".join(head) + " |",
        "|---" * (len(names) + 1) + "|",
    ]
    for label, row in measured.items():
        lines.append(f"| {label} | " + " | ".join(cell(row["sets"].get(n, {}).get("rare")) for n in names) + " |")
    return "\n".join(lines)


def paper_rows(names: list[str]) -> dict:
    rows = {}
    for label, model in PAPER_ROWS.items():
        sets = {}
        for name in names:
            paper = paper_numbers.TABLE2[model].get(paper_numbers.paper_benchmark(name) or "", {})
            sets[name] = {"all": paper.get("all"), "visual": paper.get("visual")}
        rows[label] = {"sets": sets}
    return rows


@command
def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--corpus", default="bundled")
    parser.add_argument("--epochs", type=int, default=3, help="gensim's epochs (ours are the runs' own)")
    parser.add_argument("--ours", nargs="+", default=[], metavar="NAME=RUNDIR:KIND")
    parser.add_argument("--benchmarks", nargs="+", default=["bundled"])
    parser.add_argument("--features", default="bundled", help="the visual words of the visual setting")
    parser.add_argument("--gensim-windows", nargs="*", type=int, default=[5, 10])
    parser.add_argument("--gensim-cbow", action="store_true", help="gensim's CBOW (sg=0) instead of its skip-gram")
    parser.add_argument(
        "--gensim-fasttext",
        type=int,
        default=0,
        metavar="BUCKETS",
        help="gensim's FastText skip-gram (3-6-grams hashed into BUCKETS rows) instead of its Word2Vec",
    )
    parser.add_argument(
        "--rare",
        type=int,
        default=0,
        metavar="RANK",
        help="also a table of rho on each set's pairs whose rarer word ranks at or beyond RANK by frequency",
    )
    parser.add_argument("--out", default="comparison")
    args = parser.parse_args(argv)
    ours = [our_spec(item) for item in args.ours]
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    benches = [b for source in args.benchmarks for b in similarity.load_benchmarks(source)]
    names = [b.name for b in benches]
    order = {name: i for i, name in enumerate(paper_numbers.BENCHMARKS)}
    names.sort(key=lambda n: order.get(paper_numbers.paper_benchmark(n), len(order)))
    visual = set(load_word_features(args.features).words)
    rows = paper_rows(names) | gensim_rows(args, benches, visual, out, print)
    for name, run, kind in ours:
        rows[name] = scored(name, run / "embeddings.npz", kind, benches, visual, args.rare) | {
            "seconds": run_seconds(run)
        }
    config = overrides.load_config("pixie")
    text = (
        f"Command: `python benchmarks/comparison.py {' '.join(sys.argv[1:] if argv is None else argv)}`  \n"
        f"Corpus {args.corpus}; machine: {common.machine()}; gensim {args.epochs} epochs, "
        f"{' '.join(GENSIM)}, dimension {config.model.dim}. Cells: rho on all pairs in the vocabulary / "
        "on pairs of two visual words; seconds: training (gensim: its epochs; ours: the run's chunks).\n\n"
        + table(rows, names)
        + (rare_table(rows, names, args.rare) if args.rare else "")
    )
    (out / "comparison.md").write_text(text + "\n")
    (out / "comparison.json").write_text(json.dumps({"command": sys.argv, "rows": rows}, indent=1) + "\n")
    print(text)


if __name__ == "__main__":
    main()
