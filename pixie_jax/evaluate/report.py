"""A markdown report with plots: rho per benchmark and model (bars), analogy accuracy per section (bars),
and a 2-D map of the words."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from pixie_jax.core.vectors import l2_normalise, principal_directions
from pixie_jax.evaluate import analogy
from pixie_jax.evaluate.analogy import SectionScore
from pixie_jax.evaluate.similarity import Score, format_table
from pixie_jax.files import atomic_write


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def grouped_bars(values: dict[str, dict[str, float]], ylabel: str, title: str, path: Path) -> bool:
    """One group of bars per key of the inner dicts, one bar per outer key; False when nothing to draw."""
    models = [m for m, by in values.items() if by]
    groups = list(dict.fromkeys(g for m in models for g in values[m]))
    if not models or not groups:
        return False
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(max(6, 1.3 * len(groups)), 4))
    width = 0.8 / len(models)
    for i, m in enumerate(models):
        ax.bar(np.arange(len(groups)) + i * width, [values[m].get(g, np.nan) for g in groups], width, label=m)
    ax.set_xticks(
        np.arange(len(groups)) + 0.4 - width / 2, [g.replace("EN-", "") for g in groups], rotation=30, ha="right"
    )
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.axhline(0, color="black", linewidth=0.5)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return True


def rho_bars(results: dict[str, list[Score]], setting: str, path: Path) -> bool:
    """Grouped bars: one group per benchmark, one bar per model; False when nothing to draw."""
    values = {m: {s.benchmark: s.rho for s in scores if s.setting == setting} for m, scores in results.items()}
    return grouped_bars(values, "Spearman's rho", f"word similarity, {setting} pairs", path)


def analogy_bars(results: dict[str, list[SectionScore]], method: str, path: Path) -> bool:
    """Grouped bars: one group per analogy section (and the totals), one bar per model: % correct."""
    values = {m: {s.section: s.accuracy for s in scores if s.method == method} for m, scores in results.items()}
    return grouped_bars(values, "% correct", f"word analogies, {method}", path)


def projection(
    words, vectors: np.ndarray, mask: np.ndarray, path: Path, labels: int = 40, max_words: int = 3000, title: str = ""
) -> None:
    """The most frequent ``max_words`` words (the first rows) projected on their first two principal
    components, visual words in colour, the first ``labels`` of each group named."""
    n = min(max_words, len(words))
    x, w = principal_directions(l2_normalise(np.asarray(vectors[:n], np.float64)), 2)
    xy = x @ w
    vis = np.asarray(mask[:n]) > 0
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(7, 6))
    ax.scatter(*xy[~vis].T, s=4, c="lightgray", label="no visual features")
    ax.scatter(*xy[vis].T, s=8, c="tab:orange", label="visual words")
    for group in (np.flatnonzero(vis)[:labels], np.flatnonzero(~vis)[: labels // 2]):
        for i in group:
            ax.annotate(words[i], xy[i], fontsize=6)
    ax.set_title(title or "first two principal components")
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def write_report(
    directory,
    results: dict[str, list[Score]],
    maps: list[tuple[str, list, np.ndarray, np.ndarray]],
    analogies: dict[str, list[SectionScore]] | None = None,
    restrict: int | None = analogy.RESTRICT,
):
    """report.md with the table, bar charts per setting, the analogy table with a chart per method (% correct
    per section) and one word map per (name, words, vectors, mask)."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    lines = [
        "# Word similarity report",
        "",
        "Spearman's rho (pairs used as % of the file).",
        "",
        "```",
        format_table(results),
        "```",
        "",
    ]
    for setting in ("all", "visual"):
        if rho_bars(results, setting, directory / f"rho_{setting}.png"):
            lines += [f"![rho, {setting} pairs](rho_{setting}.png)", ""]
    if analogies:
        lines += ["## Word analogies", "", "```", analogy.format_table(analogies, restrict), "```", ""]
        for method in dict.fromkeys(s.method for scores in analogies.values() for s in scores):
            if analogy_bars(analogies, method, directory / f"analogies_{method}.png"):
                lines += [f"![analogies, {method}](analogies_{method}.png)", ""]
    for i, (name, words, vectors, mask) in enumerate(maps):
        projection(words, vectors, mask, directory / f"map_{i}.png", title=f"{name}: first two principal components")
        lines += [f"![{name}](map_{i}.png)", ""]
    with atomic_write(directory / "report.md", "w") as f:
        f.write("\n".join(lines))
    return directory / "report.md"
