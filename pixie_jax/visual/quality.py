"""Checks a user can run on image sources before trusting them: nearest-class accuracy within a
source, and agreement between sources on the same synset (a wrong sense shows as a low cosine)."""

from __future__ import annotations

import itertools

import numpy as np

from pixie_jax.core.vectors import l2_normalise, row_cosines
from pixie_jax.visual.word_features import ClassFeatures


def nearest_class_accuracy(cf: ClassFeatures) -> tuple[float, int] | None:
    """Share of photos whose nearest class mean (cosine) is their own, the photo itself left out
    of its own class's mean; photos alone in their class are skipped. None without per-photo features
    or without a class of two or more photos."""
    if cf.images is None or cf.image_class is None:
        return None
    x = np.asarray(cf.images, np.float64)
    cls = np.asarray(cf.image_class)
    counts = np.bincount(cls, minlength=len(cf.wnids)).astype(np.float64)
    sums = np.zeros((len(cf.wnids), x.shape[1]))
    np.add.at(sums, cls, x)
    means = l2_normalise(sums / np.maximum(counts, 1)[:, None])
    usable = counts[cls] > 1
    if not usable.any():
        return None
    x, cls = x[usable], cls[usable]
    sims = l2_normalise(x) @ means.T
    own = l2_normalise((sums[cls] - x) / (counts[cls] - 1)[:, None])
    sims[np.arange(len(cls)), cls] = (l2_normalise(x) * own).sum(1)
    return float((sims.argmax(1) == cls).mean()), int(len(cls))


def source_agreement(sources: list[ClassFeatures]) -> list[tuple[float, str, str, str]]:
    """(cosine, wnid, source a, source b) for every synset two sources share, lowest first."""
    out = []
    for a, b in itertools.combinations(sources, 2):
        index = {w: i for i, w in enumerate(b.wnids) if w}
        for i, w in enumerate(a.wnids):
            if w and w in index:
                out.append((float(row_cosines(a.means[i], b.means[index[w]])), w, a.name, b.name))
    return sorted(out)
