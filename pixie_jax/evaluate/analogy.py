"""Word analogies ``a : b :: c : d`` (word2vec's questions-words.txt) and vector arithmetic.

Over unit vectors (Levy & Goldberg 2014), the answer to ``a : b :: c : ?`` is

    3CosAdd:  argmax_w  cos(w, b) - cos(w, a) + cos(w, c)
    3CosMul:  argmax_w  cos'(w, b) cos'(w, c) / (cos'(w, a) + eps),   cos' = (cos + 1) / 2,  eps = 1e-3

with the question's three words never an answer. As in word2vec's compute-accuracy and gensim's
``evaluate_word_analogies``, answers are restricted to the first ``restrict`` rows of the embeddings
(files list words most frequent first, so the N most frequent words; default 30,000) and a question
counts only when its four words are among them: accuracy is correct / answered, coverage answered /
questions. Words are case-folded. 3CosAdd over the same rows gives gensim's accuracy (tested).
"""

from __future__ import annotations

import dataclasses
import os
import re
from pathlib import Path

import numpy as np

from pixie_jax.core.vectors import l2_normalise
from pixie_jax.data import embedding_files
from pixie_jax.errors import InputError
from pixie_jax.evaluate.neighbours import QueryError

RESTRICT = 30_000  # word2vec's and gensim's customary answer vocabulary: the 30,000 most frequent words
EPS = 1e-3  # 3CosMul's epsilon (Levy & Goldberg 2014)
METHODS = {"add": "3CosAdd", "mul": "3CosMul"}


class AnalogyError(InputError):
    """An analogy file that cannot be read, or a question set that no question of can be answered."""


@dataclasses.dataclass(frozen=True)
class AnalogySet:
    name: str
    path: str
    sections: tuple[str, ...]
    questions: np.ndarray  # [Q, 4] case-folded words a, b, c, d
    section_of: np.ndarray  # [Q] index into ``sections``


def read_analogies(path: str | os.PathLike) -> AnalogySet:
    """``: section`` header lines, then one question ``a b c d`` a line (a is to b as c is to d)."""
    path = Path(path)
    if path.is_dir():
        raise AnalogyError(f"{path}: is a folder; give an analogy file such as questions-words.txt")
    sections, questions, section_of = [], [], []
    with open(path, "rb") as f:
        for lineno, raw in enumerate(f, 1):
            try:
                line = raw.decode("utf-8")
            except UnicodeDecodeError as err:
                raise AnalogyError(f"{path}: line {lineno}: not UTF-8 text ({err.reason})") from None
            fields = line.split()
            if not fields:
                continue
            if line.startswith(":"):
                name = line[1:].strip()
                if not name:
                    raise AnalogyError(f"{path}: line {lineno}: a section header needs a name, ': NAME'")
                sections.append(name)
                continue
            if len(fields) != 4:
                raise AnalogyError(
                    f"{path}: line {lineno}: expected 4 words 'a b c d' (a is to b as c is to d) "
                    f"or a ': section' header, got {len(fields)}: {line.rstrip()!r}"
                )
            if not sections:
                raise AnalogyError(f"{path}: line {lineno}: a question before the first ': section' header")
            questions.append([w.casefold() for w in fields])
            section_of.append(len(sections) - 1)
    if not questions:
        raise AnalogyError(f"{path}: no analogy questions (lines 'a b c d' after ': section' headers)")
    return AnalogySet(path.stem, str(path), tuple(sections), np.array(questions, dtype=str), np.array(section_of))


def load_analogies(source: str | os.PathLike = "bundled") -> AnalogySet:
    """An analogy file; 'bundled' = word2vec's questions-words.txt, shipped with the package."""
    if str(source) == "bundled":
        from pixie_jax.data import resources

        source = resources.analogies_path()
    if not Path(source).exists():
        raise AnalogyError(f"{source}: no such analogy file ('bundled' is word2vec's questions-words.txt)")
    return read_analogies(source)


def answer(
    unit: np.ndarray, a: np.ndarray, b: np.ndarray, c: np.ndarray, method: str = "add", chunk: int = 512
) -> np.ndarray:
    """The row answering each question ``a[i] : b[i] :: c[i] : ?`` among the rows of ``unit`` (unit vectors),
    the question's own rows excluded (module docstring's equations)."""
    if method not in METHODS:
        raise InputError(f"analogy method {method!r}: expected one of {', '.join(METHODS)}")
    out = np.empty(len(a), np.int64)
    for start in range(0, len(a), chunk):
        rows = slice(start, start + chunk)
        if method == "add":
            scores = (unit[b[rows]] - unit[a[rows]] + unit[c[rows]]) @ unit.T
        else:
            ca, cb, cc = ((unit[q[rows]] @ unit.T + 1) / 2 for q in (a, b, c))
            scores = cb * cc / (ca + EPS)
        here = np.arange(scores.shape[0])
        for q in (a, b, c):
            scores[here, q[rows]] = -np.inf
        out[rows] = scores.argmax(axis=1)
    return out


def first_rows(words, restrict: int | None) -> tuple[int, dict[str, int]]:
    """(n, {case-folded word: row}) over the first n = min(restrict, len(words)) rows (all for None); a word
    that case-folds like an earlier one keeps the earlier (more frequent) row."""
    n = len(words) if restrict is None else min(restrict, len(words))
    return n, embedding_files.first_rows(str(w).casefold() for w in words[:n])


@dataclasses.dataclass(frozen=True)
class SectionScore:
    """One method's score on one section of an analogy file: correct answers among the questions whose
    four words are in the answer vocabulary (``accuracy``), and how many that is of the section
    (``coverage``)."""

    analogies: str
    section: str  # a section of the file, or 'semantic', 'syntactic' (word2vec's gram* sections), 'total'
    method: str  # 3CosAdd or 3CosMul
    correct: int
    answered: int  # questions whose four words are among the answer vocabulary
    questions: int

    @property
    def accuracy(self) -> float:
        """Percent correct of the questions answered (NaN when none is)."""
        return 100.0 * self.correct / self.answered if self.answered else float("nan")

    @property
    def coverage(self) -> float:
        return 100.0 * self.answered / self.questions


def summary_groups(sections) -> dict[str, list[int]]:
    """Each section alone, then word2vec's 'semantic' and 'syntactic' ('gram*' sections) and the 'total'."""
    groups = {name: [i] for i, name in enumerate(sections)}
    syntactic = [i for i, name in enumerate(sections) if name.startswith("gram")]
    semantic = [i for i in range(len(sections)) if i not in syntactic]
    if syntactic and semantic:
        groups |= {"semantic": semantic, "syntactic": syntactic}
    return groups | {"total": list(range(len(sections)))}


def evaluate(
    words,
    vectors: np.ndarray,
    analogies: AnalogySet,
    restrict: int | None = RESTRICT,
    methods=("add", "mul"),
    label: str = "the embeddings",
) -> list[SectionScore]:
    """Accuracy of each method per section, 'semantic', 'syntactic' and 'total' (see the module docstring).
    ``restrict``: answers among the first ``restrict`` rows (None: all). Raises :class:`AnalogyError` when
    no question has its four words among them."""
    n, index = first_rows(words, restrict)
    rows = np.array([[index.get(w, -1) for w in q] for q in analogies.questions]).reshape(-1, 4)
    known = (rows >= 0).all(axis=1)
    if not known.any():
        raise AnalogyError(
            f"{analogies.path}: none of its {len(rows):,} questions has its four words among the "
            f"{n:,} most frequent words of {label}"
        )
    unit = l2_normalise(np.asarray(vectors[:n], np.float32))
    q = rows[known]
    out = []
    groups = summary_groups(analogies.sections)
    for method in methods:
        right = np.zeros(len(rows), bool)
        right[known] = answer(unit, q[:, 0], q[:, 1], q[:, 2], method) == q[:, 3]
        for name, members in groups.items():
            inside = np.isin(analogies.section_of, members)
            out.append(
                SectionScore(
                    analogies.name,
                    name,
                    METHODS[method],
                    int(right[inside].sum()),
                    int(known[inside].sum()),
                    int(inside.sum()),
                )
            )
    return out


def total(
    words, vectors: np.ndarray, analogies: AnalogySet, restrict: int | None = RESTRICT, method: str = "add"
) -> SectionScore:
    """The 'total' score of :func:`evaluate` for one method."""
    return next(s for s in evaluate(words, vectors, analogies, restrict, (method,)) if s.section == "total")


def format_table(results: dict[str, list[SectionScore]], restrict: int | None = RESTRICT) -> str:
    """One row per section, one column per model: '3CosAdd / 3CosMul % correct (coverage %)'."""
    labels = list(results)
    first = results[labels[0]]
    names = list(dict.fromkeys((s.analogies, s.section) for s in first))
    by = {(m, s.analogies, s.section, s.method): s for m, scores in results.items() for s in scores}
    head = ["section", "questions"] + labels
    lines = []
    for a, section in names:
        cells = [section, str(next(s.questions for s in first if (s.analogies, s.section) == (a, section)))]
        for m in labels:
            add, mul = by.get((m, a, section, "3CosAdd")), by.get((m, a, section, "3CosMul"))
            parts = [f"{s.accuracy:.1f}" if s and s.answered else "-" for s in (add, mul) if s is not None]
            cover = (add or mul).coverage
            cells.append(" / ".join(parts) + f" ({cover:.0f}%)")
        lines.append(cells)
    widths = [max(len(r[i]) for r in [head] + lines) for i in range(len(head))]
    fmt = lambda r: "  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip()  # noqa: E731
    methods = " / ".join(dict.fromkeys(s.method for s in first))
    scope = "all words" if restrict is None else f"the {restrict:,} most frequent words"
    title = (
        f"analogies {', '.join(dict.fromkeys(s.analogies for s in first))}: % correct, {methods} "
        f"(answers among {scope}; coverage: questions with all four words there)"
    )
    return "\n".join([title, fmt(head), fmt(["-" * w for w in widths])] + [fmt(r) for r in lines])


_TERM = re.compile(r"[+-]|[^\s+-]+")


def parse_query(expression: str) -> tuple[list[str], list[str]]:
    """'king - man + woman' -> (['king', 'woman'], ['man']); words case-folded."""
    positive, negative, sign = [], [], None
    for token in _TERM.findall(expression):
        if token in "+-":
            if sign is not None:
                raise InputError(f"query {expression!r}: two operators in a row")
            sign = token
            continue
        (negative if sign == "-" else positive).append(token.casefold())
        sign = None
    if sign is not None:
        raise InputError(f"query {expression!r}: ends with an operator")
    if not positive:
        raise InputError(f"query {expression!r}: needs at least one word added, e.g. 'king - man + woman'")
    return positive, negative


def arithmetic(
    words, vectors: np.ndarray, expression: str, k: int = 10, method: str = "add", restrict: int | None = None
) -> list[tuple[str, float]]:
    """The ``k`` best answers to ``expression`` ('king - man + woman') with their scores: 3CosAdd ranks by
    sum_p cos(w, p) - sum_n cos(w, n), 3CosMul by prod_p cos'(w, p) / (prod_n cos'(w, n) + eps); the query's
    words are not answers. ``restrict``: the first rows only (default: all, as gensim's most_similar)."""
    positive, negative = parse_query(expression)
    n, index = first_rows(words, restrict)
    missing = [w for w in positive + negative if w not in index]
    if missing:
        raise QueryError(
            f"{missing[0]!r} is not in the embeddings' vocabulary"
            + (f" (of its {n:,} most frequent words)" if n < len(words) else "")
        )
    unit = l2_normalise(np.asarray(vectors[:n], np.float64))
    pos, neg = [index[w] for w in positive], [index[w] for w in negative]
    if method == "add":
        scores = unit @ (unit[pos].sum(0) - unit[neg].sum(0))
    elif method == "mul":
        cos = (unit @ unit[pos + neg].T + 1) / 2
        scores = cos[:, : len(pos)].prod(1) / (cos[:, len(pos) :].prod(1) + EPS)
    else:
        raise InputError(f"analogy method {method!r}: expected one of {', '.join(METHODS)}")
    scores[pos + neg] = -np.inf
    top = np.argsort(-scores, kind="stable")[:k]
    return [(str(words[i]), float(scores[i])) for i in top]
