"""Quality against wall-clock time: our SGNS and PIXIE against gensim's skip-gram, epoch by epoch.

    python benchmarks/time_to_quality.py [--corpus FILE] [--epochs 5] [--our-epochs E] [--evals-per-epoch 1]
        [--systems gensim sgns pixie] [--recipe NAME KEY=VALUE ...] [--gensim KEY=VALUE ...]
        [--out time_to_quality] [--config.KEY=VALUE ...]

Every system reads the same token ids (our vocabulary: configs/pixie.py's min_count and max_vocab) and
is trained for E epochs with its learning rate decaying over all E (ours: --our-epochs, scored
--evals-per-epoch times a pass); after each epoch its vectors are scored (Spearman rho, all pairs in the
vocabulary) on MEN, SimLex-999, WS-353, RG-65 and MC-30, and on word2vec's analogy questions (3CosAdd, %
correct, answers among the 30,000 most frequent words; not in the paper, not in the five sets' mean).
Seconds are training seconds only (scoring and, for ours, the first compilation are excluded; the
one-off data preparation is shared). Our systems use configs/pixie.py with any --config overrides;
SGNS is the same config without features and is scored on e, PIXIE on s (eq. 10). Each --recipe
(repeatable) trains our systems again with its overrides, named by NAME, so that recipes compare
against one gensim run. gensim: Word2Vec(sg=1, hs=0) with the config's dimension and word2vec's
recipe at the paper's window (--gensim's defaults: window 10, 5 negatives, threshold 1e-3, whatever our
recipe), all cores, epoch e trained with alpha from 0.025 (1 - e/E) to 0.025 (1 - (e+1)/E) as its own
E-epoch run would. Writes DIR/time_to_quality.{md,json,png}.
"""

from __future__ import annotations

import argparse
import functools
import json
import shutil
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks import common
from pixie_jax import experiment
from pixie_jax.cli import command
from pixie_jax.data import training_data as data_lib
from pixie_jax.errors import InputError
from pixie_jax.evaluate import analogy, similarity
from pixie_jax.models import registry
from pixie_jax.training import loop as train
from pixie_jax.training import optimizers

GENSIM = ("sampler.window=10", "sampler.negatives=5", "subsample=0.001")  # word2vec's recipe, the paper's window
BENCHMARKS = ("EN-MEN-TR-3k", "EN-SIMLEX-999", "EN-WS-353-ALL", "EN-RG-65", "EN-MC-30")
ANALOGY = "analogy %"  # 3CosAdd accuracy on questions-words.txt
COLUMNS = BENCHMARKS + (ANALOGY,)


def scores(words, vectors, benchmarks) -> dict:
    """Spearman rho on each similarity set, and the analogy accuracy (3CosAdd, total, %)."""
    return {b.name: similarity.score(b, words, vectors).rho for b in benchmarks} | {
        ANALOGY: analogy.total(words, vectors, questions()).accuracy
    }


@functools.cache
def questions() -> analogy.AnalogySet:
    return analogy.load_analogies("bundled")


def run_gensim(
    data, config, epochs: int, benchmarks, log, final: dict | None = None, sg: int = 1, subwords=None
) -> list[dict]:
    """gensim's skip-gram (``sg=0``: CBOW; ``subwords`` (min_n, max_n, buckets): FastText) epoch by epoch: a
    row of scores per epoch; its last vectors into ``final['vectors']`` and its tables (input vectors,
    syn1neg) into ``final['tables']``."""
    words = data.vocab.words
    sentences = common.gensim_sentences(data)
    model = common.gensim_skipgram(config, sg, subwords)
    model.build_vocab(sentences)
    rows_of = [model.wv.key_to_index[w] for w in words]  # gensim's row of each of our words
    alpha, min_alpha, seconds, rows = 0.025, 0.0001, 0.0, []
    for e in range(epochs):
        start = alpha - (alpha - min_alpha) * e / epochs
        end = alpha - (alpha - min_alpha) * (e + 1) / epochs
        t0 = time.perf_counter()
        model.train(sentences, total_examples=len(sentences), epochs=1, start_alpha=start, end_alpha=end)
        seconds += time.perf_counter() - t0
        vectors = model.wv.vectors[rows_of]
        rows.append({"epoch": e + 1, "seconds": seconds} | scores(words, vectors, benchmarks))
        log(f"gensim epoch {e + 1}: {rows[-1]}")
    if final is not None:
        final["vectors"], final["tables"] = vectors, (vectors, model.syn1neg[rows_of])
    return rows


def run_ours(
    name, config, data, epochs: float, benchmarks, log, evals_per_epoch: int = 1, final: dict | None = None
) -> list[dict]:
    """Our SGNS (``name`` 'sgns', kind e) or PIXIE ('pixie', kind s) pass by pass: a row of scores per
    evaluation; the last vectors into ``final['vectors']``, the tables (e, v) into ``final['tables']``."""
    cfg = config.copy_and_resolve_references()
    cfg.epochs, cfg.progress, cfg.checkpoint_every = float(epochs), False, 10**9
    if name == "sgns":
        cfg.features = ""
        data = data_lib.text_only(cfg, data)
    data = data_lib.with_sampling(cfg, data)
    spec = registry.get(cfg)
    model = spec.build(cfg, len(data.vocab))
    kind = "e" if name == "sgns" else "s"
    rows, clock = [], {"seconds": 0.0, "since": None}

    def on_pass(passes, params):
        now = time.perf_counter()
        clock["seconds"] += now - clock["since"]
        arrays = spec.arrays(model, params, data)
        vectors = arrays[kind]
        if final is not None:
            final["vectors"], final["tables"] = vectors, (arrays["e"], arrays["v"])
        rows.append(
            {"epoch": round(passes, 3), "seconds": clock["seconds"]} | scores(data.vocab.words, vectors, benchmarks)
        )
        log(f"{name} epoch {passes:.2f}: {rows[-1]}")
        clock["since"] = time.perf_counter()

    # compile once outside the clock, then time the real run from its first step; both on the run's batch
    cfg = experiment.sized_batch(cfg, data, spec)
    warm = cfg.copy_and_resolve_references()
    warm.epochs = warm.steps_per_call / train.steps_per_epoch(data, experiment.sampler(warm, data))
    workdir = Path(tempfile.mkdtemp(prefix=f"ttq_{name}_"))
    try:
        experiment.train(warm, workdir / "warm", data=data, log=lambda *a: None)
        clock["since"] = time.perf_counter()
        experiment.train(
            cfg, workdir / "run", data=data, log=lambda *a: None, on_pass=on_pass, report_every=1.0 / evals_per_epoch
        )
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    return rows


def plot(results: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    panels = ("mean of five", *COLUMNS)
    fig, axes = plt.subplots(1, len(panels), figsize=(4 * len(panels), 3.4), sharex=True)
    for ax, bench in zip(axes, panels):
        for system, rows in results.items():
            values = [mean_of_five(r) if bench == panels[0] else r.get(bench, np.nan) for r in rows]
            ax.plot([r["seconds"] for r in rows], values, marker="o", label=system)
        ax.set_title(bench)
        ax.set_xlabel("training seconds")
        ax.grid(alpha=0.3)
    axes[0].set_ylabel("Spearman rho")
    axes[-1].set_ylabel("% correct")
    axes[0].legend()
    fig.tight_layout()
    fig.savefig(path, dpi=90)


def table(results: dict) -> str:
    head = "| system | epoch | seconds | " + " | ".join(COLUMNS) + " |"
    lines = [head, "|" + "---|" * (3 + len(COLUMNS))]
    for system, rows in results.items():
        for r in rows:
            lines.append(
                f"| {system} | {r['epoch']:g} | {r['seconds']:.0f} | "
                + " | ".join(f"{r[b]:.3f}" for b in BENCHMARKS)
                + (f" | {r[ANALOGY]:.1f} |" if ANALOGY in r else " | - |")
            )
    return "\n".join(lines)


def mean_of_five(row: dict) -> float:
    return float(np.mean([row[b] for b in BENCHMARKS]))


def reached(rows: list[dict], target: float) -> float | None:
    """The training seconds at which the mean of five first reaches ``target``, interpolated linearly
    between evaluations (from 0 s at a mean of 0); None if it never does."""
    seconds, mean = 0.0, 0.0
    for r in rows:
        now = mean_of_five(r)
        if now >= target:
            return seconds + (r["seconds"] - seconds) * (target - mean) / max(now - mean, 1e-12)
        seconds, mean = r["seconds"], now
    return None


def summary(results: dict) -> str:
    """Each of our systems against gensim's last epoch: when its mean of five reaches gensim's (seconds,
    and as a share of gensim's seconds), and its last evaluation's lowest margin over gensim's on the five
    sets and the analogies (the rule of docs/studies/time_to_quality.md)."""
    if "gensim" not in results:
        return ""
    last = results["gensim"][-1]
    target, lines = mean_of_five(last), []
    lines.append(f"gensim: mean of five {target:.3f} after {last['epoch']} epochs, {last['seconds']:.1f} s")
    lines.append("| system | seconds to gensim's mean | x gensim's seconds | last mean | lowest margin (set) |")
    lines.append("|---|---|---|---|---|")
    for system, rows in results.items():
        if system == "gensim":
            continue
        at = reached(rows, target)
        margins = {b: rows[-1][b] - last[b] for b in COLUMNS if b in rows[-1] and b in last}
        if ANALOGY in margins:
            margins[ANALOGY] /= 100  # percentage points as a fraction, like rho
        worst = min(margins, key=margins.get)
        when = f"{at:.1f} | {at / last['seconds']:.2f}" if at is not None else "never | -"
        lines.append(f"| {system} | {when} | {mean_of_five(rows[-1]):.3f} | {margins[worst]:+.3f} ({worst}) |")
    return "\n".join(lines)


def merge(items, out: Path) -> None:
    """One table and figure from several runs: each item FILE or NAME=FILE (NAME prefixes its systems)."""
    results = {}
    for item in items:
        name, _, path = item.rpartition("=")
        try:
            runs = json.loads(Path(path).read_text(encoding="utf-8"))["results"]
        except (ValueError, KeyError, TypeError) as err:
            raise InputError(f"--merge {path}: not a time_to_quality.json of this script ({err})") from None
        for system, rows in runs.items():
            results[f"{name}: {system}" if name else system] = rows
    out.mkdir(parents=True, exist_ok=True)
    text = table(results) + "\n\n" + summary(results)
    (out / "time_to_quality.md").write_text(text + "\n")
    plot(results, out / "time_to_quality.png")
    print(text)


@command
def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", default="bundled", help="'bundled', 'text8', a file or a folder")
    parser.add_argument("--epochs", type=int, default=5, help="gensim's epochs (and ours, unless --our-epochs)")
    parser.add_argument("--our-epochs", type=float, help="passes of our systems (default: --epochs)")
    parser.add_argument("--evals-per-epoch", type=int, default=1, help="scores of our systems per pass")
    parser.add_argument(
        "--systems", nargs="+", default=["gensim", "sgns", "pixie"], choices=["gensim", "sgns", "pixie"]
    )
    parser.add_argument(
        "--recipe",
        nargs="+",
        action="append",
        metavar="NAME KEY=VALUE",
        help="train our systems again with these config overrides, named NAME (repeatable)",
    )
    parser.add_argument(
        "--gensim", nargs="*", default=list(GENSIM), metavar="KEY=VALUE", help="gensim's settings over the config"
    )
    parser.add_argument("--out", default="time_to_quality")
    parser.add_argument(
        "--merge",
        nargs="+",
        metavar="JSON",
        help="no training: one table and figure from earlier runs' time_to_quality.json "
        "(systems named NAME=FILE, or by file and system)",
    )
    args, extra = parser.parse_known_args(argv)
    if args.merge:
        return merge(args.merge, Path(args.out))
    bad = [item for item in extra if not item.startswith("--config.")]
    if bad:
        parser.error(f"unrecognised argument {bad[0]!r}; overrides look like --config.KEY=VALUE")
    items = [item[len("--config.") :] for item in extra]
    config = common.checked_config(items, args.corpus, what="--config")
    gensim_config = common.checked_config([*items, *args.gensim], args.corpus, what="--gensim")
    recipes = {"": config}
    for name, *recipe in args.recipe or ():
        if "=" in name or name in recipes:
            raise InputError(f"--recipe {name}: a recipe starts with a new name, then its KEY=VALUE overrides")
        recipes[name] = common.checked_config([*items, *recipe], args.corpus, what=f"--recipe {name}")
    for name, value, low in (("--epochs", args.epochs, 1), ("--evals-per-epoch", args.evals_per_epoch, 1)):
        if value < low:
            raise InputError(f"{name} must be >= {low}, got {value}")
    if args.our_epochs is not None and not args.our_epochs > 0:
        raise InputError(f"--our-epochs must be > 0, got {args.our_epochs:g}")
    if "pixie" in args.systems and not config.features:
        raise InputError("--systems pixie needs features: drop --config.features= or name a feature file")
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    log = lambda *a: print(*a, flush=True)  # noqa: E731
    data = data_lib.prepare_data(config, log)
    benchmarks = [b for b in similarity.load_benchmarks("bundled") if b.name in BENCHMARKS]
    results = {}
    for system in args.systems:
        if system == "gensim":
            results["gensim"] = run_gensim(data, gensim_config, args.epochs, benchmarks, log)
            continue
        for recipe, cfg in recipes.items():
            results[f"{system}{' ' + recipe if recipe else ''} (ours)"] = run_ours(
                system, cfg, data, args.our_epochs or args.epochs, benchmarks, log, args.evals_per_epoch
            )
    machine, batch = common.machine(), experiment.sampler(config, data)
    recipe_text = "; ".join(f"{name}: {' '.join(r)}" for name, *r in args.recipe or ()) or "none"
    command = "python benchmarks/time_to_quality.py " + " ".join(argv if argv is not None else sys.argv[1:])
    text = (
        f"Command: `{command}`  \nCorpus {args.corpus} ({len(data.ids):,} tokens, {len(data.vocab):,} words); "
        f"machine: {machine}; optimizer {config.optimizer.name} {optimizers.table_rate(config)}, "
        f"N = {config.sampler.negatives}, G = {config.sampler.negative_group}, "
        f"{batch.text_centres:,} + {batch.visual_centres:,} centres per step (PIXIE's); gensim "
        f"{' '.join(args.gensim)}; recipes: {recipe_text}.\n\n" + table(results) + "\n\n" + summary(results)
    )
    (out / "time_to_quality.md").write_text(text + "\n")
    (out / "time_to_quality.json").write_text(
        json.dumps({"command": command, "machine": machine, "results": results}, indent=1)
    )
    plot(results, out / "time_to_quality.png")
    print(text)


if __name__ == "__main__":
    main()
