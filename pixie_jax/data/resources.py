"""Paths of the small real data shipped inside the package (see pixie_jax/data/NOTICE.md)."""

from __future__ import annotations

import os
from pathlib import Path

DATA = Path(__file__).parent  # the bundled files lie in folders beside this module


def corpus_path() -> Path:
    """A slice of gutenberg8 (normalised Project Gutenberg text), xz-compressed."""
    return DATA / "corpus" / "gutenberg8_sample.xz"


def features_path() -> Path:
    """Word-level EfficientNet-Lite0 features of the 1000 ImageNet sample photos, through WordNet."""
    return DATA / "visual" / "imagenet_sample_words.npz"


def feature_file(path: str | os.PathLike) -> Path:
    """``path``, or for the name ``bundled`` the feature file shipped with the package (:func:`features_path`)."""
    return features_path() if str(path) == "bundled" else Path(path)


def benchmarks_dir() -> Path:
    """Word-similarity benchmarks (word1<TAB>word2<TAB>score), each with its SOURCE."""
    return DATA / "benchmarks"


def imagenet_synsets_path() -> Path:
    """The 21,843 WordNet 3.0 noun synset ids of the full ImageNet (fall 2011), one a line."""
    return DATA / "wordnet" / "imagenet21k_synsets.txt"


def analogies_path() -> Path:
    """word2vec's analogy questions (Mikolov et al. 2013): ': section' headers, then 'a b c d' lines."""
    return DATA / "analogies" / "questions-words.txt"
