"""Embedding kinds from an embeddings file, so that every row of the paper's Table 2 is scored alike.

A kind is a name stored in the file (``e``, ``s``, ``t``, ``mu``, ``x``, ``v``) or the
concatenation of two or more of them written ``a+b``, each part L2-normalised per word first
(Kiela & Bottou 2014): ``e+x`` is CNN+SGNS, ``e+mu`` is VAE+SGNS when both come from the same
vocabulary.
"""

from __future__ import annotations

import numpy as np

from pixie_jax.core.vectors import l2_normalise
from pixie_jax.errors import ProjectError

VISUAL_ONLY = {"x", "mu"}  # no text embedding: scored in the visual setting only


class KindError(ProjectError, KeyError):
    def __str__(self) -> str:
        return str(self.args[0])


def available(arrays: dict) -> list[str]:
    n = len(arrays["words"])
    return sorted(
        k for k, a in arrays.items() if k not in ("words", "mask") and getattr(a, "ndim", 0) == 2 and a.shape[0] == n
    )


def vectors(arrays: dict, kind: str) -> np.ndarray:
    """The [V, d] vectors of ``kind`` (see the module docstring)."""
    parts = kind.split("+")
    missing = [p for p in parts if p not in available(arrays)]
    if missing:
        raise KindError(
            f"the embeddings have no kind {missing[0]!r}; they have {', '.join(available(arrays))}"
            f" (and concatenations of them such as 'e+x')"
        )
    if len(parts) == 1:
        return np.asarray(arrays[kind], np.float32)
    return np.concatenate([l2_normalise(np.asarray(arrays[p], np.float32)) for p in parts], axis=1)


def settings_for(kind: str) -> tuple[str, ...]:
    """Kinds made only of visual parts have no meaning outside the visual words."""
    return ("visual",) if set(kind.split("+")) <= VISUAL_ONLY else ("all", "visual")


def combine(named: dict, spec: str) -> tuple[list, np.ndarray, np.ndarray]:
    """A concatenation across embeddings files, ``NAME:KIND+NAME:KIND`` (e.g. ``sgns:e+cnn:x`` for CNN+SGNS):
    (words, vectors, mask). Each part is L2-normalised per word; rows follow the first part's words, and a
    word missing from a later file gets a zero block. A word counts as visual when every part made of
    ``x`` or ``mu`` has it with its file's mask set (without such parts: the first file's mask)."""
    parts = []
    for part in spec.split("+"):
        name, sep, kind = part.partition(":")
        if not sep or name not in named:
            raise KindError(f"{spec!r}: each part must be NAME:KIND with NAME one of {', '.join(named)}; got {part!r}")
        parts.append((name, kind))
    words = list(named[parts[0][0]]["words"])
    blocks, masks = [], []
    for name, kind in parts:
        arrays = named[name]
        index = {w: i for i, w in enumerate(arrays["words"])}
        rows = np.array([index.get(w, -1) for w in words])
        present = rows >= 0
        vecs = vectors(arrays, kind)
        block = np.zeros((len(words), vecs.shape[1]), np.float32)
        block[present] = l2_normalise(vecs[rows[present]])
        blocks.append(block)
        masks.append(present & (np.asarray(arrays["mask"])[np.maximum(rows, 0)] > 0))
    visual = [m for (_, kind), m in zip(parts, masks) if set(kind.split("+")) <= VISUAL_ONLY]
    mask = np.logical_and.reduce(visual) if visual else masks[0]
    return words, np.concatenate(blocks, axis=1), mask.astype(np.float32)
