"""From image features keyed by WordNet id to word-level features (paper section 4.1).

The rule: a vocabulary word w reaches the image classes (ImageNet ids) found at any of its
noun synsets or among their hyponyms, transitively. w is *visual* when it reaches at least
one photo; its feature vector is the mean over all the photos it reaches (each class's mean
weighted by its photo count, each class counted once however many synsets reach it):

    x_w = sum_{c in R(w)} n_c m_c / sum_{c in R(w)} n_c.

Hypernym back-off (the paper, after Kiela & Bottou 2014): a visual word with fewer than
``backoff_min_images`` photos also takes the classes under the direct hypernyms of its
synsets, one level up at a time, for at most ``backoff_levels`` levels.
"""
from __future__ import annotations

import dataclasses
import os
from pathlib import Path

import numpy as np

from pixie_jax.visual import wordnet as wordnet_lib
from pixie_jax.visual.features import FeatureFileError, WordFeatures


@dataclasses.dataclass(frozen=True)
class ClassFeatures:
    """Per-class mean features and photo counts from one image source."""

    name: str
    wnids: tuple[str, ...]     # '' where a class has no WordNet id
    means: np.ndarray          # float32 [n, d]
    counts: np.ndarray         # int64 [n]

    @classmethod
    def from_images(cls, name: str, wnids, features) -> "ClassFeatures":
        """Group per-image rows by wnid into class means."""
        wnids = np.asarray(wnids)
        classes, inverse, counts = np.unique(wnids, return_inverse=True, return_counts=True)
        sums = np.zeros((len(classes), features.shape[1]), np.float64)
        np.add.at(sums, inverse, features.astype(np.float64))
        return cls(name, tuple(str(c) for c in classes), (sums / counts[:, None]).astype(np.float32),
                   counts.astype(np.int64))


def load_class_features(path: str | os.PathLike, name: str | None = None) -> ClassFeatures:
    """An npz with per-image ``features`` + ``wnids``, or per-class ``mean`` + ``counts`` + ``wnids``."""
    path = Path(path)
    if name is None:
        name = path.parent.name if path.stem == "features" else path.stem
    try:
        z = np.load(path, allow_pickle=False)
    except (OSError, ValueError) as err:
        raise FeatureFileError(f"{path}: cannot read ({err})") from err
    with z:
        keys = set(z.files)
        if {"mean", "counts", "wnids"} <= keys:
            cf = ClassFeatures(name, tuple(str(w) for w in z["wnids"]), z["mean"].astype(np.float32),
                               z["counts"].astype(np.int64))
        elif {"features", "wnids"} <= keys:
            cf = ClassFeatures.from_images(name, z["wnids"], z["features"])
        else:
            raise FeatureFileError(f"{path}: expected arrays (features, wnids) or (mean, counts, wnids); "
                                   f"it has {sorted(keys)}")
    if cf.means.ndim != 2 or len(cf.wnids) != cf.means.shape[0] or len(cf.counts) != len(cf.wnids):
        raise FeatureFileError(f"{path}: {len(cf.wnids)} wnids, {len(cf.counts)} counts, means {cf.means.shape}")
    bad = np.flatnonzero(~np.isfinite(cf.means).all(axis=1))
    if len(bad):
        raise FeatureFileError(f"{path}: row {bad[0]} (class {cf.wnids[bad[0]]!r}) has NaN or inf values")
    if (cf.counts <= 0).any():
        raise FeatureFileError(f"{path}: class {cf.wnids[int(np.argmax(cf.counts <= 0))]!r} has a photo count of 0")
    return cf


@dataclasses.dataclass
class Coverage:
    vocabulary: int
    visual_words: int
    classes: int
    classes_without_wnid: int
    classes_reached: int
    photos_per_word_median: float
    photos_per_word_mean: float
    backed_off: int

    def __str__(self) -> str:
        return (f"{self.visual_words:,} of {self.vocabulary:,} words are visual "
                f"({100 * self.visual_words / max(self.vocabulary, 1):.1f}%); photos per visual word: median "
                f"{self.photos_per_word_median:g}, mean {self.photos_per_word_mean:.1f}; {self.classes_reached:,} of "
                f"{self.classes:,} classes reached by some word; {self.classes_without_wnid} classes have no WordNet "
                f"id; {self.backed_off} words used the hypernym back-off")


def build_word_features(words, sources: list[ClassFeatures], wn, backoff_min_images: int = 0,
                        backoff_levels: int = 3) -> tuple[WordFeatures, Coverage]:
    """Word-level features for the visual words among ``words`` (see the module docstring)."""
    dims = {s.means.shape[1] for s in sources}
    if len(dims) != 1:
        raise FeatureFileError(f"the sources have different feature sizes: "
                               f"{ {s.name: s.means.shape[1] for s in sources} }")
    # pool classes over sources by wnid: photo-weighted sums
    sums: dict[str, np.ndarray] = {}
    counts: dict[str, int] = {}
    without = 0
    for s in sources:
        for w, m, n in zip(s.wnids, s.means, s.counts):
            if not w:
                without += 1
                continue
            sums[w] = sums.get(w, 0.0) + n * m.astype(np.float64)
            counts[w] = counts.get(w, 0) + int(n)
    below = wordnet_lib.wnids_below(wn, sorted(sums))
    out_words, rows, photos, reached, backed = [], [], [], set(), 0
    for word in words:
        synsets = [wordnet_lib.wnid(s) for s in wordnet_lib.noun_synsets(wn, word)]
        base = set().union(*(below.get(s, set()) for s in synsets))
        if not base:
            continue
        classes, frontier = set(base), synsets
        for _ in range(backoff_levels):
            if sum(counts[c] for c in classes) >= backoff_min_images or not frontier:
                break
            frontier = wordnet_lib.hypernym_wnids(wn, frontier)
            classes |= set().union(*(below.get(h, set()) for h in frontier))
        backed += len(classes) > len(base)
        n = sum(counts[c] for c in classes)
        out_words.append(word)
        rows.append(sum(sums[c] for c in classes) / n)
        photos.append(n)
        reached |= classes
    d = dims.pop()
    feats = np.asarray(rows, np.float32).reshape(len(rows), d)
    provenance = {"sources": [{"name": s.name, "classes": len(s.wnids), "photos": int(s.counts.sum())}
                              for s in sources],
                  "rule": "mean over the photos of the classes at or below the word's noun synsets",
                  "backoff_min_images": backoff_min_images, "backoff_levels": backoff_levels}
    photos_arr = np.asarray(photos) if photos else np.zeros(1)
    coverage = Coverage(len(words), len(out_words), sum(len(s.wnids) for s in sources), without,
                        len(reached), float(np.median(photos_arr)), float(photos_arr.mean()), int(backed))
    provenance["coverage"] = dataclasses.asdict(coverage)
    return WordFeatures(tuple(out_words), feats, provenance), coverage
