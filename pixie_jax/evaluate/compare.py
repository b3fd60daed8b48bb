"""Several embedding files side by side: similarity scores per model and kind, analogies and vector
arithmetic, nearest neighbours (the paper's Table 5) and pair cosines (Table 4). What ``bin/evaluate``
prints and writes."""

from __future__ import annotations

import dataclasses

import numpy as np

from pixie_jax.data import embedding_files
from pixie_jax.errors import InputError
from pixie_jax.evaluate import analogy, neighbours, similarity
from pixie_jax.evaluate import kinds as kinds_lib


@dataclasses.dataclass
class Embedding:
    """One model's vectors of one kind, with its words and visual mask."""

    label: str  # MODEL:KIND
    words: list
    vectors: np.ndarray
    mask: np.ndarray
    settings: tuple[str, ...]


def load(specs, kinds=None, visual_words: set | None = None, log=None) -> tuple[list[Embedding], dict]:
    """The embeddings of each ``[NAME=]FILE`` in ``specs`` for ``kinds`` (default e, s, t where present),
    read by :func:`pixie_jax.data.embedding_files.load_embeddings` (``log`` hears what it left out);
    ``visual_words`` replaces each file's own mask. Returns (embeddings, {NAME: arrays})."""
    out, loaded = [], {}
    for name, path in embedding_files.named_paths(specs):
        arrays = embedding_files.load_embeddings(path, log)
        if visual_words is not None:
            arrays["mask"] = np.array([w in visual_words for w in arrays["words"]], np.float32)
        loaded[name] = arrays
        chosen = kinds or [k for k in ("e", "s", "t") if k in kinds_lib.available(arrays)]
        if not chosen:
            has = ", ".join(kinds_lib.available(arrays)) or "no 2-d arrays"
            raise embedding_files.EmbeddingFileError(
                f"{path}: no word embeddings (kind e, s or t) in it, only {has}; "
                f"name the kind to score with --kind (--kind x for a word-feature file's raw features)"
            )
        for kind in chosen:
            out.append(
                Embedding(
                    f"{name}:{kind}",
                    list(arrays["words"]),
                    kinds_lib.vectors(arrays, kind),
                    np.asarray(arrays["mask"]),
                    kinds_lib.settings_for(kind),
                )
            )
    return out, loaded


def combined(loaded: dict, items) -> list[Embedding]:
    """'LABEL=NAME:KIND+NAME:KIND' concatenations across the loaded files (:func:`kinds.combine`)."""
    out = []
    for item in items:
        label, sep, spec = item.partition("=")
        if not sep:
            raise InputError(f"--combine {item!r}: expected LABEL=NAME:KIND+NAME:KIND")
        words, vectors, mask = kinds_lib.combine(loaded, spec)
        settings = kinds_lib.settings_for("+".join(p.partition(":")[2] for p in spec.split("+")))
        out.append(Embedding(f"{label}:{spec}", list(words), vectors, mask, settings))
    return out


def score(embeddings: list[Embedding], benches) -> tuple[dict, list[dict]]:
    """({label: [Score]}, one JSON row per model, kind, benchmark and setting)."""
    results, rows = {}, []
    for emb in embeddings:
        scores = similarity.evaluate(emb.words, emb.vectors, emb.mask, benches, emb.settings)
        results[emb.label] = scores
        model, _, kind = emb.label.partition(":")
        rows.extend(dict(task="similarity", model=model, kind=kind, **s.__dict__, coverage=s.coverage) for s in scores)
    return results, rows


def with_text(embeddings: list[Embedding]) -> list[Embedding]:
    """The embeddings scored on all words (kinds with a text part): analogies need them."""
    return [e for e in embeddings if "all" in e.settings]


def score_analogies(embeddings: list[Embedding], sets, restrict=analogy.RESTRICT) -> tuple[dict, list[dict]]:
    """({label: [SectionScore]}, one JSON row per model, kind, question set, section and method) for the
    embeddings with a text part."""
    results, rows = {}, []
    for emb in with_text(embeddings):
        scores = [s for qs in sets for s in analogy.evaluate(emb.words, emb.vectors, qs, restrict, label=emb.label)]
        results[emb.label] = scores
        model, _, kind = emb.label.partition(":")
        rows.extend(
            dict(
                task="analogy",
                model=model,
                kind=kind,
                **s.__dict__,
                accuracy=s.accuracy,
                coverage=s.coverage,
                restrict=restrict,
            )
            for s in scores
        )
    return results, rows


def query_lines(embeddings: list[Embedding], expression: str, k: int = 10) -> list[str]:
    """The ``k`` best answers to ``expression`` ('king - man + woman') by 3CosAdd and 3CosMul in each
    embedding with a text part, one line each, after a header."""
    lines = [expression]
    for emb in with_text(embeddings):
        for method, name in analogy.METHODS.items():
            try:
                best = analogy.arithmetic(emb.words, emb.vectors, expression, k, method)
            except neighbours.QueryError as err:
                lines.append(f"  {emb.label}: {err}")
                break
            lines.append(f"  {emb.label} {name}: " + ", ".join(f"{w} {s:.2f}" for w, s in best))
    return lines


def neighbour_lines(embeddings: list[Embedding], query: str, ratings: dict, k: int = 10) -> list[str]:
    """The ``k`` nearest neighbours of ``query`` (case-folded, as the embeddings' words are) in each
    embedding, one line each, after a header."""
    query = query.casefold()
    lines = [f"{query} (concreteness {ratings.get(query, 'n/a')})"]
    for emb in embeddings:
        if query not in emb.words:
            lines.append(f"  {emb.label}: not in the vocabulary")
            continue
        visual = "visual" if emb.mask[emb.words.index(query)] > 0 else "not visual"
        lines.append(
            f"  {emb.label} ({visual}): "
            + ", ".join(w for w, _ in neighbours.nearest(emb.words, emb.vectors, query, k))
        )
    return lines


def pair_lines(embeddings: list[Embedding], pairs) -> list[str]:
    """The cosine of each (a, b) pair (case-folded, as the embeddings' words are) in each embedding ('-'
    where a word is missing)."""
    lines = ["pair cosines: " + ", ".join(e.label for e in embeddings)]
    for pair in ((a.casefold(), b.casefold()) for a, b in pairs):
        cells = []
        for emb in embeddings:
            try:
                cells.append(f"{neighbours.pair_cosines(emb.words, emb.vectors, [pair])[0]:.2f}")
            except neighbours.QueryError:
                cells.append("-")
        lines.append(f"  {pair[0]},{pair[1]}: " + "  ".join(cells))
    return lines
