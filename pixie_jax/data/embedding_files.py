"""Embedding files: ``embeddings.npz`` (every kind of vector), word2vec text and binary formats, and
gensim's saved models (:mod:`pixie_jax.data.vector_formats`)."""

from __future__ import annotations

import itertools
import os
from pathlib import Path

import numpy as np

from pixie_jax.data import resources, vector_formats
from pixie_jax.errors import InputError
from pixie_jax.files import atomic_write, load_arrays, save_npz

KINDS_DOC = {
    "e": "word embeddings e_w (text)",
    "v": "context embeddings v_c",
    "mu": "encoder means mu_phi(x_w), zero for words without features",
    "s": "PIXIE+: e_w + m_w mu_phi(x_w) (eq. 10)",
    "t": "PIXIE-concat: [e_w, m_w mu_phi(x_w)] (eq. 11)",
    "x": "raw visual features, zero for words without them",
    "fx": "IV-SGNS: features f(e_w) predicted from e_w by the fitted map",
}


class EmbeddingFileError(InputError):
    pass


def save_embeddings(path: str | os.PathLike, words, mask, **kinds) -> None:
    """npz with ``words`` [V], ``mask`` [V] (1 for words with features) and one array per kind."""
    save_npz(
        path,
        words=np.asarray(words),
        mask=np.asarray(mask, np.float32),
        **{k: np.asarray(v, np.float32) for k, v in kinds.items()},
    )


def load_embeddings(path: str | os.PathLike, log=None) -> dict:
    """The arrays of an embeddings.npz; of a word-feature npz (kind ``x``, every word visual); or of a
    word2vec text or binary file or a saved gensim model (kind ``e``, mask all 0; the format recognised by
    content, :mod:`pixie_jax.data.vector_formats`); made usable by :func:`usable` (``log``, if given,
    hears what it changed). ``bundled`` reads the feature file shipped with the package."""
    path = resources.feature_file(path)  # 'bundled': the feature file shipped, the CNN baseline's vectors
    if not path.exists():
        raise EmbeddingFileError(f"{path}: no such embeddings file")
    if path.is_dir():
        hint = f" ({path / 'embeddings.npz'}?)" if (path / "embeddings.npz").exists() else ""
        raise EmbeddingFileError(f"{path}: a folder, not an embeddings file (an .npz or word2vec text){hint}")
    kind = vector_formats.sniff(path)
    if kind in ("word2vec-binary", "gensim"):
        read = vector_formats.read_word2vec_binary if kind == "word2vec-binary" else vector_formats.read_gensim
        words, vectors = read(path)
        return usable({"words": words, "e": vectors, "mask": np.zeros(len(words), np.float32)}, path, log)
    if path.suffix == ".npz" or kind == "npz":
        out = load_arrays(path)
        if "words" not in out:
            raise EmbeddingFileError(f"{path}: no 'words' array (has {sorted(out)})")
        out["words"] = [str(w) for w in out["words"]]
        if "features" in out and "x" not in out:  # a word-level feature file: the CNN baseline, kind x
            out["x"] = out.pop("features").astype(np.float32)
            out.pop("provenance", None)
            out.setdefault("mask", np.ones(len(out["words"]), np.float32))
        out.setdefault("mask", np.zeros(len(out["words"]), np.float32))
    else:
        from pixie_jax.data.feature_files import load_word_features

        wf = load_word_features(path)
        out = {"words": list(wf.words), "e": wf.features, "mask": np.zeros(len(wf.words), np.float32)}
    return usable(out, path, log)


def first_rows(keys, rows=None) -> dict:
    """{key: its first row}: of keys that repeat, the earliest of ``rows`` (default 0, 1, 2, ...) is kept
    (word2vec files list the most frequent word first)."""
    out = {}
    for key, row in zip(keys, rows if rows is not None else itertools.count()):
        out.setdefault(key, int(row))
    return out


def usable(arrays: dict, path, log=None) -> dict:
    """``arrays`` as every evaluation reads them: words case-folded, and of words that fold alike the
    first row kept (word2vec files list the most frequent first); rows with a non-finite value in any
    kind left out, named in ``log``. Raises :class:`EmbeddingFileError` for a file with no float matrix,
    a matrix whose rows do not match the words, vectors of one dimension (a word<TAB>count file), or no
    row left."""
    words = arrays["words"]
    matrices = {k: np.asarray(v) for k, v in arrays.items() if k not in ("words", "mask") and np.ndim(v) == 2}
    floats = {k: v for k, v in matrices.items() if np.issubdtype(v.dtype, np.floating)}
    if not floats:
        raise EmbeddingFileError(f"{path}: no matrix of float vectors in it (arrays: {', '.join(sorted(arrays))})")
    for kind, matrix in floats.items():
        if len(matrix) != len(words):
            raise EmbeddingFileError(
                f"{path}: {kind} has {len(matrix):,} rows for {len(words):,} words; the rows "
                f"must match the words one to one"
            )
    if all(m.shape[1] == 1 for m in floats.values()):
        raise EmbeddingFileError(
            f"{path}: vectors of 1 dimension, whose cosines are all +-1: not embeddings (a "
            f"vocabulary file of word<TAB>count lines?)"
        )
    finite = np.logical_and.reduce([np.isfinite(m).all(axis=1) for m in floats.values()])
    if not finite.any():
        raise EmbeddingFileError(
            f"{path}: every one of its {len(words):,} rows holds a value that is not finite "
            f"(NaN or infinity): no usable vectors"
        )
    folded = [str(w).casefold() for w in words]
    rows = np.flatnonzero(finite)
    keep = np.zeros(len(words), bool)
    keep[list(first_rows((folded[i] for i in rows), rows).values())] = True
    if log and not finite.all():
        bad = [words[i] for i in np.flatnonzero(~finite)]
        log(
            f"{path}: {len(bad):,} rows hold values that are not finite and are left out: "
            f"{', '.join(bad[:5])}{', ...' if len(bad) > 5 else ''}"
        )
    twins = [words[i] for i in np.flatnonzero(finite & ~keep)]
    if log and twins:
        log(
            f"{path}: {len(twins):,} words are the same as an earlier word after case folding; the earlier row is "
            f"kept (e.g. {twins[0]!r} is left out)"
        )
    out = {
        k: (np.asarray(v)[keep] if k != "words" and np.ndim(v) >= 1 and len(v) == len(words) else v)
        for k, v in arrays.items()
    }
    out["words"] = [w for w, k in zip(folded, keep) if k]
    return out


def save_word2vec_text(path: str | os.PathLike, words, vectors) -> None:
    """word2vec's text format: a ``count dim`` header, then ``word v1 ... vd`` per line."""
    vectors = np.asarray(vectors, np.float32)
    with atomic_write(path, "w") as f:
        f.write(f"{len(words)} {vectors.shape[1]}\n")
        for word, row in zip(words, vectors):
            f.write(word + " " + " ".join(f"{x:.6g}" for x in row) + "\n")


def named_path(spec: str) -> tuple[str, str]:
    """'NAME=FILE' -> (NAME, FILE); a bare FILE is named by its folder (else its stem)."""
    name, _, path = spec.rpartition("=")
    return name or Path(path).parent.name or Path(path).stem, path


def named_paths(specs) -> list[tuple[str, str]]:
    """:func:`named_path` of each spec; two specs with one name are an error (name them NAME=FILE)."""
    out, seen = [], {}
    for spec in specs:
        name, path = named_path(spec)
        if name in seen:
            raise InputError(f"two embeddings are named {name!r} ({seen[name]} and {path}); name each one NAME=FILE")
        seen[name] = path
        out.append((name, path))
    return out


def named_values(items, what: str) -> dict[str, str]:
    """['NAME=VALUE', ...] -> {NAME: VALUE}; an item without '=' is an error naming ``what``."""
    out = {}
    for item in items:
        name, sep, value = item.partition("=")
        if not sep:
            raise InputError(f"{what} must be NAME=VALUE, got {item!r}")
        out[name] = value
    return out
