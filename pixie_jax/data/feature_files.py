"""Word-level visual feature files: npz (``words``, ``features``) or word2vec text (``word v1 ... vd``)."""

from __future__ import annotations

import collections
import dataclasses
import json
import os
from pathlib import Path

import numpy as np

from pixie_jax.data import resources
from pixie_jax.errors import InputError
from pixie_jax.files import load_arrays, save_npz


class FeatureFileError(InputError):
    """A feature file that cannot be used; the message names the file and the row or line."""


@dataclasses.dataclass(frozen=True)
class WordFeatures:
    words: tuple[str, ...]
    features: np.ndarray  # float32 [n, d]
    provenance: dict = dataclasses.field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.words)


def _check(words, features, path) -> None:
    if features.ndim != 2 or len(words) != features.shape[0]:
        raise FeatureFileError(f"{path}: {len(words)} words but features of shape {features.shape}")
    bad = np.flatnonzero(~np.isfinite(features).all(axis=1))
    if len(bad):
        raise FeatureFileError(
            f"{path}: row {bad[0]} (word {words[bad[0]]!r}) has NaN or inf values ({len(bad)} such rows)"
        )
    dup = [w for w, n in collections.Counter(words).items() if n > 1]
    if dup:
        raise FeatureFileError(f"{path}: word {dup[0]!r} appears more than once ({len(dup)} duplicated words)")


def load_word_features(path: str | os.PathLike) -> WordFeatures:
    """Read an npz (keys ``words``, ``features``, optional ``provenance`` JSON) or a text file.

    The name ``bundled`` reads the features shipped with the package.
    """
    path = resources.feature_file(path)
    if not path.exists():
        raise FeatureFileError(f"{path}: no such feature file")
    if path.is_dir():
        raise FeatureFileError(f"{path}: a folder, not a feature file (an .npz or a word2vec text file)")
    if path.suffix == ".npz":
        z = load_arrays(path)
        missing = {"words", "features"} - set(z)
        if missing:
            raise FeatureFileError(f"{path}: missing array(s) {sorted(missing)}; it has {sorted(z)}")
        words = tuple(str(w) for w in z["words"])
        features = z["features"].astype(np.float32)
        provenance = json.loads(str(z["provenance"])) if "provenance" in z else {}
    else:
        words, features, provenance = *_read_text(path), {}
    _check(words, features, path)
    return WordFeatures(words, features, provenance)


def _read_text(path: Path):
    words, rows, width, header = [], [], None, None
    expected = "expected an .npz or word2vec text: 'word v1 ... vd' per line"
    with open(path, "rb") as f:
        for lineno, raw in enumerate(f, 1):
            try:
                fields = raw.decode("utf-8").split()
            except UnicodeDecodeError:
                raise FeatureFileError(f"{path}: line {lineno}: not UTF-8 text; {expected}") from None
            if not fields:
                continue
            if lineno == 1 and len(fields) == 2 and all(x.isdigit() for x in fields):
                header = int(fields[0]), int(fields[1])  # word2vec's "count dim"
                continue
            values = []
            for x in fields[1:]:
                try:
                    values.append(float(x))
                except ValueError:
                    raise FeatureFileError(f"{path}: line {lineno}: {x[:40]!r} is not a number; {expected}") from None
            if not values:
                raise FeatureFileError(f"{path}: line {lineno}: {fields[0][:40]!r} and no values; {expected}")
            if width is None:
                width = len(values)
            if len(values) != width:
                raise FeatureFileError(f"{path}: line {lineno}: {len(values)} values where earlier lines have {width}")
            words.append(fields[0])
            rows.append(values)
    if not words:
        what = "only a header line" if header is not None else "an empty file"
        raise FeatureFileError(f"{path}: {what}, no vector rows; {expected}")
    if header is not None and header != (len(words), width):
        raise FeatureFileError(
            f"{path}: its header promises {header[0]} rows of {header[1]} values, the file has "
            f"{len(words)} rows of {width}; it may be cut short: write or copy it again"
        )
    return tuple(words), np.asarray(rows, np.float32)


def save_word_features(path: str | os.PathLike, wf: WordFeatures, dtype=np.float32) -> None:
    """Write an npz atomically; ``dtype=np.float16`` halves the size (loading gives float32)."""
    _check(wf.words, wf.features, path)
    save_npz(
        path,
        words=np.asarray(wf.words),
        features=wf.features.astype(dtype),
        provenance=np.asarray(json.dumps(wf.provenance)),
    )


@dataclasses.dataclass(frozen=True)
class MinMaxScaling:
    """x' = clip((x - lo) / (hi - lo), 0, 1) per dimension, fitted on the training words only.

    The decoder's sigmoid means live in [0, 1], so features are scaled there. Dimensions
    that are constant on the training words map to 0.
    """

    lo: np.ndarray
    hi: np.ndarray

    @classmethod
    def fit(cls, x: np.ndarray) -> MinMaxScaling:
        return cls(x.min(axis=0).astype(np.float32), x.max(axis=0).astype(np.float32))

    def apply(self, x: np.ndarray) -> np.ndarray:
        span = np.where(self.hi > self.lo, self.hi - self.lo, 1.0)
        return np.clip((x - self.lo) / span, 0.0, 1.0).astype(np.float32)
