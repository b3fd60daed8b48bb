"""Word similarity: Spearman's rho between cosine similarity and human scores.

Benchmark files hold ``word1<TAB>word2<TAB>score`` lines (spaces also separate fields),
no header. Words are case-folded. A pair listed more than once (in either order) is kept
once with the mean of its scores; a pair of a word with itself is dropped. The paper's two
settings (Table 2): ``all`` scores every pair whose two words are in the vocabulary;
``visual`` only pairs whose two words both have visual features.
"""

from __future__ import annotations

import collections
import dataclasses
import os
from pathlib import Path

import numpy as np
from scipy import stats

from pixie_jax.core.vectors import row_cosines
from pixie_jax.data import embedding_files
from pixie_jax.errors import InputError


class BenchmarkError(InputError):
    """A benchmark file that cannot be read; the message names the file and line."""


@dataclasses.dataclass(frozen=True)
class Benchmark:
    name: str
    pairs: tuple[tuple[str, str], ...]
    scores: np.ndarray
    rows_in_file: int


def read_benchmark(path: str | os.PathLike) -> Benchmark:
    path = Path(path)
    merged: dict[tuple[str, str], list[float]] = collections.defaultdict(list)
    first_seen: dict[tuple[str, str], tuple[str, str]] = {}
    rows = 0
    with open(path, encoding="utf-8") as f:
        for lineno, line in enumerate(f, 1):
            fields = line.split()
            if not fields:
                continue
            if len(fields) != 3:
                raise BenchmarkError(
                    f"{path}: line {lineno}: expected 3 fields 'word1<TAB>word2<TAB>score', "
                    f"got {len(fields)}: {line.rstrip()!r}; keep only those columns (e.g. with "
                    f"cut -f)"
                )
            try:
                score = float(fields[2])
            except ValueError:
                raise BenchmarkError(f"{path}: line {lineno}: score {fields[2]!r} is not a number") from None
            if not np.isfinite(score):
                raise BenchmarkError(f"{path}: line {lineno}: score {fields[2]!r} is not finite")
            rows += 1
            w1, w2 = fields[0].casefold(), fields[1].casefold()
            if w1 == w2:
                continue
            key = tuple(sorted((w1, w2)))
            first_seen.setdefault(key, (w1, w2))
            merged[key].append(score)
    if not merged:
        raise BenchmarkError(f"{path}: no word pairs")
    keys = list(merged)
    return Benchmark(path.stem, tuple(first_seen[k] for k in keys), np.array([np.mean(merged[k]) for k in keys]), rows)


def load_benchmarks(source: str | os.PathLike = "bundled") -> list[Benchmark]:
    """Every ``*.txt`` benchmark in a folder (except SOURCE/README files), or one file; 'bundled' = shipped set."""
    if str(source) == "bundled":
        from pixie_jax.data import resources

        source = resources.benchmarks_dir()
    source = Path(source)
    if source.is_file():
        return [read_benchmark(source)]
    if not source.is_dir():
        raise BenchmarkError(f"{source}: no such benchmark file or folder")
    files = sorted(p for p in source.rglob("*.txt") if p.stem.upper() not in ("SOURCE", "README", "LICENSE"))
    if not files:
        raise BenchmarkError(f"{source}: no benchmark files (*.txt)")
    return [read_benchmark(p) for p in files]


@dataclasses.dataclass(frozen=True)
class Score:
    benchmark: str
    setting: str
    rho: float  # NaN when fewer than 3 pairs are usable
    used: int
    total: int

    @property
    def coverage(self) -> float:
        return 100.0 * self.used / self.total


def cosine_similarities(vectors: np.ndarray, rows1: np.ndarray, rows2: np.ndarray) -> np.ndarray:
    return row_cosines(vectors[rows1], vectors[rows2])


def score(
    bench: Benchmark, words, vectors: np.ndarray, usable: np.ndarray | None = None, setting: str = "all"
) -> Score:
    """Spearman rho over the pairs whose two words are in ``words`` (and ``usable``, if given)."""
    index = embedding_files.first_rows(words)  # a repeated word: its first row
    usable = np.ones(len(words), bool) if usable is None else np.asarray(usable, bool)
    rows = [(index.get(a, -1), index.get(b, -1)) for a, b in bench.pairs]
    keep = np.array([i >= 0 and j >= 0 and usable[i] and usable[j] for i, j in rows])
    total = len(bench.pairs)
    if keep.sum() < 3:
        return Score(bench.name, setting, float("nan"), int(keep.sum()), total)
    r = np.array(rows)[keep]
    sims = cosine_similarities(vectors, r[:, 0], r[:, 1])
    if np.ptp(sims) == 0:  # e.g. all-zero vectors: no ranking at all
        return Score(bench.name, setting, float("nan"), int(keep.sum()), total)
    rho = stats.spearmanr(sims, bench.scores[keep]).statistic
    return Score(bench.name, setting, float(rho), int(keep.sum()), total)


def evaluate(words, vectors, mask, benchmarks, settings=("all", "visual")) -> list[Score]:
    """Scores in each setting: 'all' pairs in the vocabulary, 'visual' pairs of words with features."""
    out = []
    for bench in benchmarks:
        for setting in settings:
            usable = None if setting == "all" else np.asarray(mask) > 0
            out.append(score(bench, words, vectors, usable, setting))
    return out


def format_table(results: dict[str, list[Score]]) -> str:
    """A text table: one row per benchmark, one column per model and setting: rho (coverage %)."""
    columns = list(dict.fromkeys((m, s.setting) for m, scores in results.items() for s in scores))
    benches = list(dict.fromkeys(s.benchmark for scores in results.values() for s in scores))
    by = {(m, s.benchmark, s.setting): s for m, scores in results.items() for s in scores}
    head = ["benchmark", "pairs"] + [f"{m} [{setting}]" for m, setting in columns]
    lines = []
    for b in benches:
        total = next(s.total for (m, bb, _), s in by.items() if bb == b)
        cells = [b, str(total)]
        for m, setting in columns:
            sc = by.get((m, b, setting))
            cells.append("-" if sc is None or np.isnan(sc.rho) else f"{sc.rho:.3f} ({sc.coverage:.0f}%)")
        lines.append(cells)
    widths = [max(len(r[i]) for r in [head] + lines) for i in range(len(head))]
    fmt = lambda r: "  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip()  # noqa: E731
    return "\n".join([fmt(head), fmt(["-" * w for w in widths])] + [fmt(r) for r in lines])
