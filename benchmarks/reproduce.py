"""Reproduce the paper's Tables 2 and 3: train every model on one corpus and feature set, score them
alike, and write a markdown table beside the paper's numbers.

    python benchmarks/reproduce.py --corpus gutenberg8.xz --out runs/reproduce

Models (docs/baselines.md), all from configs/pixie.py's settings with --set overrides:
SGNS, PIXIE, V-SGNS and the VAE are trained; CNN is the features; CNN+SGNS, VAE+SGNS and
IV-SGNS (linear, nonlinear) are built from those. For Table 3 a subset of the visual words
(the paper's 2,000 of 9,713, as a fraction) is held out, and PIXIE, V-SGNS and IV-SGNS are
trained again without those words' features: (*) rows. Every benchmark is scored in the
paper's two settings (all pairs in the vocabulary; pairs of two visual words) and, for Table
3, on pairs of two held-out words. With several --seeds the tables give mean +- standard
deviation over seeds (the held-out subset stays the same). `--tables 2` skips Table 3's runs (two of the
six trainings per seed). Table 2's all-pairs table has one more column, not in the paper: the analogy
accuracy (3CosAdd, % correct on word2vec's questions-words.txt or --analogies FILE, answers among the
30,000 most frequent words) of each row with a text part. Writes OUT/results.json and OUT/TABLES.md.
By default every model has configs/pixie.py's CPU recipe for one pass, the batch sized to the run
(one pass of gutenberg8: 4,096 + 512 centres a step); `--paper` gives every model configs/paper.py's
settings (N = 64, 50k words, 16,384 + 2,048 centres, Adam 1e-2 decaying with b2 0.99, 5 passes), the
GPU recipe of benchmarks/gpu.sh.
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

import paper_numbers

from pixie_jax import experiment, overrides, propagation
from pixie_jax.data import training_data as data_lib
from pixie_jax.evaluate import analogy, similarity
from pixie_jax.evaluate import kinds as kinds_lib
from pixie_jax.files import atomic_write
from pixie_jax.models import ivsgns
from pixie_jax.prng import stream_keys

# Table 2 rows: the paper's name -> the kind spec over the merged arrays of one seed
TABLE2_ROWS = {
    "CNN": "x",
    "VAE": "vae.mu",
    "SGNS": "sgns.e",
    "CNN+SGNS": "sgns.e+x",
    "VAE+SGNS": "sgns.e+vae.mu",
    "V-SGNS": "vsgns.e",
    "IV-SGNS(LINEAR)": "sgns.e+iv_linear.fx",
    "IV-SGNS(NONLINEAR)": "sgns.e+iv_nonlinear.fx",
    "PIXIE+": "pixie.s",
    "PIXIE-concat": "pixie.t",
    "PIXIE-concat, parts L2-normalised": "pixie.e+pixie.mu",  # not in the paper: eq. (11) with l2(e), l2(mu)
}
TABLE3_ROWS = {
    "SGNS": "sgns.e",
    "V-SGNS": "vsgns.e",
    "IV-SGNS(LINEAR)": "sgns.e+iv_linear.fx",
    "PIXIE-concat": "pixie.t",
    "V-SGNS(*)": "vsgns_star.e",
    "IV-SGNS(*)": "sgns.e+iv_star.fx",
    "PIXIE-concat(*)": "pixie_star.t",
    "PIXIE-concat, parts L2-normalised": "pixie.e+pixie.mu",
    "PIXIE-concat, parts L2-normalised(*)": "pixie_star.e+pixie_star.mu",
}


def load_config(name: str, args):
    c = overrides.load_config(name)
    c.corpus, c.features, c.epochs, c.benchmarks, c.progress = (
        args.corpus,
        args.features,
        args.epochs,
        "",
        args.progress,
    )
    # a key of one model's section (vsgns.*, vae.*, ivsgns.*) only applies to that model
    return overrides.apply_overrides(c, args.set, only_present=True)


MODEL_CONFIGS = ("pixie", "sgns", "vsgns", "vae", "ivsgns")


def check_overrides(args) -> None:
    """Every --set key must name a key of at least one model's config."""
    valid = {k for name in MODEL_CONFIGS for k in overrides.flat_keys(overrides.load_config(name))}
    for item in args.set:
        key = item.partition("=")[0]
        if key not in valid:
            sys.exit(f"error: --set {item}: no config has the key {key!r}")


def train_seed(args, seed: int, data, data_star, out: Path, log) -> tuple[dict, dict, dict]:
    """Every model of one seed: the merged arrays {'sgns.e': ..., 'x': ...}, each run's seconds and each
    trained run's batch as its log line says it (without Table 3's (*) models when ``data_star`` is None)."""
    merged, seconds, batches = {}, {}, {}

    def keep_batch(name, line):
        if line.startswith("the batch"):  # pixie_jax.experiment.sized_batch's line: which batch, how many steps
            batches[name] = line.partition(" (sampler.")[0]
            log(f"[seed {seed}] {name}: {batches[name]}")

    def run(name, config_name, run_data):
        cfg = load_config(config_name, args)
        cfg.seed = seed
        t0 = time.time()
        log(f"[seed {seed}] {name} ...")
        result = experiment.run(
            cfg, out / f"seed{seed}" / name, data=run_data, log=lambda line, *a: keep_batch(name, str(line))
        )
        seconds[name] = time.time() - t0
        log(f"[seed {seed}] {name}: {seconds[name]:.0f} s")
        for kind, array in result.arrays.items():
            merged[f"{name}.{kind}"] = array

    run("sgns", "sgns", data_lib.text_only(load_config("sgns", args), data))
    run("pixie", "pixie", data)
    run("vsgns", "vsgns", data)
    run("vae", "vae", data)
    if data_star is not None:
        run("pixie_star", "pixie", data_star)
        run("vsgns_star", "vsgns", data_star)
    merged["x"], merged["mask"] = merged["pixie.x"], merged["pixie.mask"]
    t0 = time.time()
    maps = [("iv_linear", "linear", merged["mask"]), ("iv_nonlinear", "nonlinear", merged["mask"])]
    if data_star is not None:
        maps.append(("iv_star", "linear", merged["pixie_star.mask"]))
    for name, map_kind, mask in maps:
        c = load_config("ivsgns", args)
        c.seed, c.ivsgns.map = seed, map_kind
        merged[f"{name}.fx"] = ivsgns.imagined_features(c, merged["sgns.e"], mask, merged["x"], stream_keys(seed).fit)
    seconds["ivsgns"] = time.time() - t0
    return merged, seconds, batches


def analogy_total(words, vectors, questions) -> analogy.SectionScore | None:
    """3CosAdd over every question (None when no question's four words are in the vocabulary)."""
    try:
        return analogy.total(words, vectors, questions)
    except analogy.AnalogyError:
        return None


def score_seed(merged: dict, words, held_mask, benches, questions=None) -> dict:
    """{table: {row: {benchmark: {setting: Score}}}}, and {'analogy': {row: SectionScore}} for Table 2's rows
    scored on all pairs; no Table 3 rows when ``held_mask`` is None."""
    named = merged | {"words": words}
    out = {"table2": {}, "table3": {}, "analogy": {}}
    for row, spec in TABLE2_ROWS.items():
        vecs = kinds_lib.vectors(named, spec)
        settings = ("visual",) if row in ("CNN", "VAE", "CNN+SGNS", "VAE+SGNS") else ("all", "visual")
        if questions is not None and "all" in settings:
            out["analogy"][row] = analogy_total(words, vecs, questions)
        scores = similarity.evaluate(words, vecs, merged["mask"], benches, settings)
        out["table2"][row] = {s.benchmark: {} for s in scores}
        for s in scores:
            out["table2"][row][s.benchmark][s.setting] = s
    for row, spec in (TABLE3_ROWS if held_mask is not None else {}).items():
        scores = similarity.evaluate(words, kinds_lib.vectors(named, spec), held_mask, benches, ("visual",))
        out["table3"][row] = {s.benchmark: {"held-out": s} for s in scores}
    return out


def _stat(values, digits=2):
    values = [v for v in values if v is not None and np.isfinite(v)]
    if not values:
        return "-"
    if len(values) == 1:
        return f"{values[0]:.{digits}f}"
    return f"{np.mean(values):.{digits}f}±{np.std(values, ddof=1):.{digits}f}"


def _paper(value):
    return "-" if value is None else f"{value:.2f}"


PAIR_COUNTS_NOTE = (
    "Pair counts differ from the paper's for three sets: the paper scored 5,494 of SemSim's and VisSim's "
    "7,576 lines (its subset is not published; here every distinct pair is scored, 7,534: a repeated pair's "
    "ratings are averaged and a word paired with itself is dropped), and counts 150 pairs for WS-353 REL, "
    "whose published file has 252. SemSim and VisSim are not shipped (no licence stated): pass their folder "
    "to --benchmarks.\n"
)


def markdown(per_seed: list[dict], benches, setup: dict) -> str:
    names = [(b.name, paper_numbers.paper_benchmark(b.name)) for b in benches]
    first = per_seed[0]

    def table(key, setting, paper_rows, paper_cell, analogies=False):
        analogies = analogies and any(first["analogy"].values())
        head = (
            "| model | "
            + " | ".join(f"{n}" + (f" ({p})" if p and p != n else "") for n, p in names)
            + (" | analogy, 3CosAdd % (not in the paper)" if analogies else "")
            + " |"
        )
        lines = [head, "|" + "---|" * (len(names) + 1 + analogies)]
        used = ["pairs used"]
        for b, _ in names:
            sc = next((r[b][setting] for r in first[key].values() if setting in r[b]), None)
            used.append(f"{sc.used}/{sc.total}" if sc else "-")
        if analogies:
            sc = next(s for s in first["analogy"].values() if s)
            used.append(f"{sc.answered}/{sc.questions} questions")
        lines.append("| " + " | ".join(used) + " |")
        for row in first[key]:
            cells = [row]
            for b, p in names:
                ours = _stat([s[key][row][b][setting].rho if setting in s[key][row][b] else None for s in per_seed])
                paper = paper_cell(paper_rows[row].get(p)) if p and row in paper_rows else "n/a"
                cells.append(f"{ours} ({paper})")
            if analogies:
                found = [s["analogy"].get(row) for s in per_seed]
                cells.append(_stat([sc.accuracy if sc else None for sc in found], digits=1))
            lines.append("| " + " | ".join(cells) + " |")
        return "\n".join(lines)

    seeds = (
        "mean±sd over seeds " + ", ".join(map(str, setup["seeds"]))
        if len(per_seed) > 1
        else f"seed {setup['seeds'][0]}"
    )
    batches = "; ".join(f"{name}, {line}" for name, line in setup.get("batches", {}).get(setup["seeds"][0], {}).items())
    t2_paper = lambda setting: lambda cell: _paper(cell[setting]) if cell else "n/a"  # noqa: E731
    parts = [
        f"# The paper's {'Tables 2 and 3' if first['table3'] else 'Table 2'}, reproduced\n",
        f"Each cell: our Spearman rho ({seeds}) "
        "and, in brackets, the paper's number for the same model and benchmark (n/a: the paper has no such "
        "benchmark file here, or no such row). `pairs used`: benchmark pairs scored, of the pairs in the file.\n",
        PAIR_COUNTS_NOTE,
        f"Command: `{setup['command']}`  \n"
        f"Corpus {setup['corpus']} ({setup['tokens']:,} tokens, vocabulary {setup['vocab']:,}), features "
        f"{setup['features']} ({setup['visual']:,} visual words)"
        + (
            f"; held out for Table 3: {setup['held_out']:,} visual words (subset seed {setup['subset_seed']})"
            if setup["held_out"]
            else ""
        )
        + f". Machine: {setup['machine']}. "
        f"Wall time {setup['minutes']:.1f} min."
        + (f" Batches (seed {setup['seeds'][0]}): {batches}." if batches else "")
        + "\n",
        "## Table 2, all pairs in the vocabulary (the paper's 100% columns)\n",
        table("table2", "all", paper_numbers.TABLE2, t2_paper("all"), analogies=True),
        "\n## Table 2, pairs of two visual words\n",
        "The paper's visual coverage: "
        + ", ".join(f"{b} {c}%" for b, c in paper_numbers.VISUAL_COVERAGE.items())
        + ".\n",
        table("table2", "visual", paper_numbers.TABLE2, t2_paper("visual")),
    ]
    if first["table3"]:
        parts += [
            "\n## Table 3, pairs of two held-out visual words (visual propagation)\n",
            "(*): trained (or, for IV-SGNS, its map fitted) without the held-out words' features.\n",
            table("table3", "held-out", paper_numbers.TABLE3, _paper),
        ]
    parts.append("")
    return "\n".join(parts)


def machine() -> str:
    import os

    import jax

    return (
        f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, jax {jax.__version__} "
        f"on {jax.devices()[0].platform}"
    )


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--corpus", default="bundled", help="a corpus file or folder, 'text8' or 'bundled'")
    parser.add_argument(
        "--features",
        default="bundled",
        help="a word-feature file ('bundled': the 1000 ImageNet sample photos' features)",
    )
    parser.add_argument("--benchmarks", nargs="+", default=["bundled"], help="benchmark files or folders")
    parser.add_argument(
        "--analogies",
        default="bundled",
        help="analogy questions for the extra column ('bundled': word2vec's questions-words.txt; "
        "'none' leaves the column out)",
    )
    parser.add_argument(
        "--epochs", type=float, help="passes over the corpus for every trained model (default: 1, or 5 with --paper)"
    )
    parser.add_argument(
        "--paper",
        action="store_true",
        help="the paper's settings for every model (configs/paper.py: N = 64, 50k words, its GPU batch and the "
        "optimizer measured to learn there); --set items apply after them",
    )
    parser.add_argument("--seeds", type=int, nargs="+", default=[0])
    parser.add_argument(
        "--fraction",
        type=float,
        default=propagation.PAPER_FRACTION,
        help="fraction of the visual words held out for Table 3 (the paper: 2000/9713)",
    )
    parser.add_argument("--subset-seed", type=int, default=0)
    parser.add_argument(
        "--tables",
        type=int,
        nargs="+",
        choices=(2, 3),
        default=[2, 3],
        help="'2' trains only Table 2's models (Table 3 needs two more trainings per seed)",
    )
    parser.add_argument(
        "--set",
        nargs="*",
        default=[],
        metavar="KEY=VALUE",
        help="config overrides for every model, e.g. sampler.negatives=64",
    )
    parser.add_argument("--out", default="runs/reproduce")
    parser.add_argument("--progress", action="store_true", help="progress bars for each training run")
    args = parser.parse_args(argv)
    if args.paper:
        paper = overrides.paper_settings()
        args.epochs = args.epochs or paper.pop("epochs")
        args.set = [f"{k}={v}" for k, v in paper.items() if k != "epochs"] + args.set
    args.epochs = args.epochs or 1.0
    if not any(item.startswith("model.features=") for item in args.set):  # follow the feature file's width
        from pixie_jax.data.feature_files import load_word_features

        args.set.append(f"model.features={load_word_features(args.features).features.shape[1]}")
    check_overrides(args)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    log = lambda msg: print(msg, flush=True)  # noqa: E731
    t0 = time.time()
    base = load_config("pixie", args)
    data = data_lib.prepare_data(base, log)
    held = propagation.hold_out(base, data, args.fraction, args.subset_seed, log) if 3 in args.tables else None
    words = list(data.vocab.words)
    benches = [b for source in args.benchmarks for b in similarity.load_benchmarks(source)]
    questions = None if args.analogies == "none" else analogy.load_analogies(args.analogies)
    per_seed, seconds, batches = [], {}, {}
    for seed in args.seeds:  # the tables are rewritten after every seed, so a long run keeps what it finished
        merged, seconds[seed], batches[seed] = train_seed(args, seed, data, held and held.data_without, out, log)
        per_seed.append(score_seed(merged, words, held and held.in_subset, benches, questions))
        setup = {
            "command": " ".join(["python", "benchmarks/reproduce.py"] + (argv if argv is not None else sys.argv[1:])),
            "corpus": args.corpus,
            "features": args.features,
            "tokens": len(data.ids),
            "vocab": len(words),
            "visual": data.n_visual,
            "held_out": len(held.words) if held else 0,
            "subset_seed": args.subset_seed,
            "seeds": args.seeds[: len(per_seed)],
            "machine": machine(),
            "minutes": (time.time() - t0) / 60,
            "seconds_per_run": seconds,
            "batches": batches,
        }
        text = markdown(per_seed, benches, setup)
        with atomic_write(out / "TABLES.md", "w") as f:
            f.write(text)
        plain = [
            {
                t: {r: {b: {s: sc.__dict__ for s, sc in v.items()} for b, v in rows.items()} for r, rows in tab.items()}
                for t, tab in one.items()
                if t != "analogy"
            }
            | {"analogy": {r: sc and sc.__dict__ | {"accuracy": sc.accuracy} for r, sc in one["analogy"].items()}}
            for one in per_seed
        ]
        with atomic_write(out / "results.json", "w") as f:
            json.dump({"setup": setup, "held_out": held.words if held else [], "scores": plain}, f, indent=1)
    log(text)
    log(f"wrote {out / 'TABLES.md'} and {out / 'results.json'}")


if __name__ == "__main__":
    main()
