"""From image features keyed by WordNet id to word-level features (paper section 4.1).

Two rules decide which words are visual and which photos make their feature; a word's feature is the
mean of the photos used, each class's mean weighted by its photos used, k_c:

    x_w = sum_c k_c m_c / sum_c k_c.

:class:`PaperRule` (the default, the paper's): w is visual when one of its noun synsets is an ImageNet
synset (the 21,843 of the full ImageNet, shipped) and photos exist for it. A synset's photos are its
own and those of the classes below it, down to ``depth`` levels (photos here exist only for
ILSVRC-2012 classes and a few other sources, mostly leaves). With fewer than ``max_images`` photos the
word is topped up from its synsets' hypernyms (their photos and those below them, one level up at a
time for ``topup_levels`` levels), as the paper does; more than ``max_images`` are sampled down
(with a seed).

:class:`ClosureRule` (the project's earlier rule): w reaches every class at or below any of its noun
synsets, transitively, all photos counted; a word with fewer than ``backoff_min_images`` photos also
takes the classes under its synsets' hypernyms, for at most ``backoff_levels`` levels. It makes words
like 'entity' and 'object' visual (the mean of most photos).
"""

from __future__ import annotations

import dataclasses
import os
import re
import warnings
import zlib
from pathlib import Path

import numpy as np

from pixie_jax.data import resources
from pixie_jax.data.feature_files import FeatureFileError, WordFeatures
from pixie_jax.errors import InputError
from pixie_jax.files import load_arrays
from pixie_jax.visual import wordnet as wordnet_lib


@dataclasses.dataclass(frozen=True)
class ClassFeatures:
    """Per-class mean features and photo counts from one image source.

    ``images``/``image_class`` (optional) hold per-photo features, for quality checks.
    """

    name: str
    wnids: tuple[str, ...]  # '' where a class has no WordNet id
    means: np.ndarray  # float32 [n, d]
    counts: np.ndarray  # int64 [n]
    labels: tuple[str, ...] = ()
    images: np.ndarray | None = None  # [m, d]
    image_class: np.ndarray | None = None  # [m] row of the class

    @classmethod
    def from_images(cls, name: str, wnids, features) -> ClassFeatures:
        """Group per-image rows by wnid into class means."""
        wnids = np.asarray(wnids)
        classes, inverse, counts = np.unique(wnids, return_inverse=True, return_counts=True)
        sums = np.zeros((len(classes), features.shape[1]), np.float64)
        np.add.at(sums, inverse, features.astype(np.float64))
        return cls(
            name,
            tuple(str(c) for c in classes),
            (sums / counts[:, None]).astype(np.float32),
            counts.astype(np.int64),
            tuple(str(c) for c in classes),
            features,
            inverse,
        )

    def with_wnids(self, wnids) -> ClassFeatures:
        return dataclasses.replace(self, wnids=tuple(wnids))


def load_class_features(path: str | os.PathLike, name: str | None = None) -> ClassFeatures:
    """An npz with per-image ``features`` + ``wnids``, or per-class ``mean`` + ``counts`` + ``wnids``
    (optionally ``labels``, and per-photo ``image_features`` + ``image_class``).

    Classes with a photo count of 0 are dropped with a warning that counts them.
    """
    path = Path(path)
    if name is None:
        name = path.parent.name if path.stem == "features" else path.stem
    z = load_arrays(path)
    keys = set(z)
    if {"mean", "counts"} <= keys and ({"wnids", "labels"} & keys):
        n = len(z["counts"])
        labels = tuple(str(x) for x in z["labels"]) if "labels" in keys else ()
        wnids = tuple(str(w) for w in z["wnids"]) if "wnids" in keys else ("",) * n
        cf = ClassFeatures(
            name,
            wnids,
            z["mean"].astype(np.float32),
            z["counts"].astype(np.int64),
            labels,
            z["image_features"] if "image_features" in keys else None,
            z["image_class"] if "image_class" in keys else None,
        )
    elif {"features", "wnids"} <= keys:
        cf = ClassFeatures.from_images(name, z["wnids"], z["features"])
    else:
        raise FeatureFileError(
            f"{path}: expected arrays (features, wnids) or (mean, counts, wnids or labels); it has {sorted(keys)}"
        )
    if cf.means.ndim != 2 or len(cf.wnids) != cf.means.shape[0] or len(cf.counts) != len(cf.wnids):
        raise FeatureFileError(f"{path}: {len(cf.wnids)} wnids, {len(cf.counts)} counts, means {cf.means.shape}")
    bad = np.flatnonzero(~np.isfinite(cf.means).all(axis=1))
    if len(bad):
        raise FeatureFileError(
            f"{path}: row {bad[0]} (class {cf.wnids[bad[0]] or cf.labels[bad[0]]!r}) has NaN or inf values"
        )
    empty = np.flatnonzero(cf.counts <= 0)
    if len(empty):
        warnings.warn(f"{path}: {len(empty)} classes with a photo count of 0 were dropped", stacklevel=2)
        keep = np.flatnonzero(cf.counts > 0)
        cf = dataclasses.replace(
            cf,
            wnids=tuple(cf.wnids[i] for i in keep),
            means=cf.means[keep],
            counts=cf.counts[keep],
            labels=tuple(cf.labels[i] for i in keep) if cf.labels else (),
            images=None,
            image_class=None,
        )
    return cf


def _label_candidates(label: str) -> list[str]:
    """WordNet lemma guesses for a class label: 'animals/birds/snowy-owl-2' -> ['snowy_owl'];
    'goldfish, Carassius auratus' -> ['goldfish', 'carassius_auratus']."""
    last = label.rsplit("/", 1)[-1]
    out = []
    for part in last.split(","):
        words = [w for w in re.split(r"[\s_\-]+", part.strip().lower()) if w and not w.isdigit()]
        if words:
            out.append("_".join(words))
    return out


def read_overrides(path: str | os.PathLike) -> dict[str, str]:
    """A table of ``label<TAB>wnid`` lines (an empty wnid leaves the label unmapped); '#' starts a comment."""
    table = {}
    with open(path, encoding="utf-8") as f:
        for lineno, line in enumerate(f, 1):
            line = line.split("#", 1)[0].rstrip("\r\n")
            if not line.strip():
                continue
            fields = line.split("\t")
            if len(fields) != 2 or (fields[1].strip() and not re.fullmatch(r"n\d{8}", fields[1].strip())):
                raise FeatureFileError(
                    f"{path}: line {lineno}: expected 'label<TAB>nXXXXXXXX' (or an empty wnid), got {line!r}"
                )
            table[fields[0].strip()] = fields[1].strip()
    return table


def map_labels(cf: ClassFeatures, wn, overrides: dict[str, str] | None = None, automatic: bool = True):
    """Give WordNet ids to classes by label: the override table first, then (``automatic``) the first
    noun sense of the label's name for classes that have none. Returns (features, counts of each kind)."""
    overrides = overrides or {}
    labels = cf.labels or cf.wnids
    wnids, stats = [], {"given": 0, "overridden": 0, "automatic": 0, "unmapped": 0}
    for label, given in zip(labels, cf.wnids):
        if label in overrides:
            wnids.append(overrides[label])
            stats["overridden"] += 1
            continue
        if given:
            wnids.append(given)
            stats["given"] += 1
            continue
        found = ""
        if automatic:
            for cand in _label_candidates(label):
                synsets = wordnet_lib.noun_synsets(wn, cand)
                if synsets:
                    found = wordnet_lib.wnid(synsets[0])
                    break
        wnids.append(found)
        stats["automatic" if found else "unmapped"] += 1
    return cf.with_wnids(wnids), stats


@dataclasses.dataclass
class SourceCoverage:
    name: str
    weight: float
    classes: int
    classes_without_wnid: int
    photos: int
    visual_words: int  # words that reach at least one of its photos
    words_gained: int  # words that are visual only through this source
    photos_per_word_median: float
    photos_per_word_mean: float


@dataclasses.dataclass
class Coverage:
    vocabulary: int
    visual_words: int
    classes: int
    classes_without_wnid: int
    classes_reached: int
    photos_per_word_median: float
    photos_per_word_mean: float
    backed_off: int  # words that took photos from hypernyms
    sources: list = dataclasses.field(default_factory=list)
    rule: str = ""
    visual_by_rule: int | None = None  # the paper's rule: words with a noun synset in ImageNet
    through: dict = dataclasses.field(default_factory=dict)  # visual words with their own synset's photos,
    # with only photos from below it
    most_abstract: list = dataclasses.field(default_factory=list)  # 'word (depth of its highest synset)'

    def __str__(self) -> str:
        lines = [
            f"{self.visual_words:,} of {self.vocabulary:,} words are visual "
            f"({100 * self.visual_words / max(self.vocabulary, 1):.1f}%); photos per visual word: median "
            f"{self.photos_per_word_median:g}, mean {self.photos_per_word_mean:.1f}; {self.classes_reached:,} "
            f"distinct synsets reached by some word ({self.classes:,} classes in all sources); "
            f"{self.classes_without_wnid} classes have no WordNet "
            f"id; {self.backed_off} words took photos from hypernyms"
        ]
        lines.insert(0, f"rule: {self.rule}")
        if self.visual_by_rule is not None:
            lines.append(
                f"{self.visual_by_rule:,} words have a noun synset in ImageNet, {self.visual_words:,} of them "
                f"with photos here"
            )
        if self.through:
            lines.append(
                "visual words with photos of their own synset {own:,}, with only photos of synsets below "
                "theirs {hyponym:,}".format(**self.through)
            )
        if self.most_abstract:
            lines.append("the most abstract visual words (WordNet depth): " + ", ".join(self.most_abstract))
        for sc in self.sources:
            lines.append(
                f"  {sc.name} (weight {sc.weight:g}): {sc.classes} classes ({sc.classes_without_wnid} without "
                f"a WordNet id), {sc.photos:,} photos; {sc.visual_words:,} visual words, "
                f"{sc.words_gained:,} only through it; photos per word median "
                f"{sc.photos_per_word_median:g}, mean {sc.photos_per_word_mean:.1f}"
            )
        return "\n".join(lines)


def _stats(values) -> tuple[float, float]:
    arr = np.asarray(values, np.float64) if len(values) else np.zeros(1)
    return float(np.median(arr)), float(arr.mean())


@dataclasses.dataclass(frozen=True)
class PaperRule:
    """The paper's visual words (see the module docstring)."""

    synsets: frozenset  # ImageNet's synset ids
    depth: int | None = 3  # hyponym levels whose photos count as a synset's (None: all)
    max_images: int = 1000
    topup_levels: int = 1  # hypernym levels to top up from
    seed: int = 0

    def describe(self) -> str:
        depth = "all" if self.depth is None else self.depth
        return (
            f"paper: a noun synset among ImageNet's {len(self.synsets):,}; photos at or up to {depth} "
            f"levels below it, topped up from {self.topup_levels} hypernym level(s) to {self.max_images}"
        )

    def photos(self, word: str, synsets: list[str], wn, photos_of: dict[str, int], below) -> tuple[dict, str, bool]:
        """({class: photos used}, how the word has its photos: 'own' (its synset's), 'hyponym' (only those
        below it), whether hypernyms topped it up); ({}, '', False) when it is not visual or has no photos
        here (and so is not topped up)."""
        own = [s for s in synsets if s in self.synsets]
        base = self._within(own, wn, photos_of, {})
        if not base:
            return {}, "", False
        how = "own" if any(s in photos_of for s in own) else "hyponym"
        rng = np.random.default_rng([self.seed, zlib.crc32(word.encode())])
        used = _sample(base, self.max_images, rng)
        frontier = own
        for _ in range(self.topup_levels):
            short = self.max_images - sum(used.values())
            if short <= 0:
                break
            frontier = wordnet_lib.hypernym_wnids(wn, frontier)
            used |= _sample(self._within(frontier, wn, photos_of, used), short, rng)
        return used, how, len(used) > len(base)

    def _within(self, synsets, wn, photos_of, exclude) -> dict[str, int]:
        classes = {c for s in synsets for c in wordnet_lib.wnids_within(wn, s, self.depth)}
        return {c: photos_of[c] for c in sorted(classes) if c in photos_of and c not in exclude}


def _sample(available: dict[str, int], n: int, rng) -> dict[str, int]:
    """``n`` photos drawn without replacement from ``available`` (class -> photos); all if fewer."""
    if sum(available.values()) <= n:
        return dict(available)
    counts = rng.multivariate_hypergeometric(np.array(list(available.values()), np.int64), n)
    return {c: int(k) for c, k in zip(available, counts) if k}


@dataclasses.dataclass(frozen=True)
class ClosureRule:
    """Every class at or below a word's noun synsets (see the module docstring)."""

    backoff_min_images: int = 0
    backoff_levels: int = 3

    def describe(self) -> str:
        return "closure: mean over the photos of the classes at or below the word's noun synsets"

    def photos(self, word: str, synsets: list[str], wn, photos_of: dict[str, int], below) -> tuple[dict, str, bool]:
        base = set().union(*(below.get(s, set()) for s in synsets))
        if not base:
            return {}, "", False
        classes, frontier = set(base), synsets
        for _ in range(self.backoff_levels):
            if sum(photos_of[c] for c in classes) >= self.backoff_min_images or not frontier:
                break
            frontier = wordnet_lib.hypernym_wnids(wn, frontier)
            classes |= set().union(*(below.get(h, set()) for h in frontier))
        how = "own" if base & set(synsets) else "hyponym"
        return {c: photos_of[c] for c in sorted(classes)}, how, len(classes) > len(base)


def load_synset_list(path: str | os.PathLike | None = None) -> frozenset:
    """The synset ids of a file of one ``nXXXXXXXX`` a line (default: the full ImageNet's, shipped)."""
    path = Path(path or resources.imagenet_synsets_path())
    ids = set()
    with open(path, encoding="utf-8") as f:
        for lineno, line in enumerate(f, 1):
            if line.strip() and not re.fullmatch(r"n\d{8}", line.strip()):
                raise FeatureFileError(f"{path}: line {lineno}: expected a WordNet id nXXXXXXXX, got {line.strip()!r}")
            ids.add(line.strip())
    ids.discard("")
    return frozenset(ids)


def build_word_features(
    words,
    sources: list[ClassFeatures],
    wn,
    rule: PaperRule | ClosureRule | None = None,
    weights: dict[str, float] | None = None,
) -> tuple[WordFeatures, Coverage]:
    """Word-level features for the visual words among ``words`` by ``rule`` (default: the paper's, with
    the shipped ImageNet synset list; see the module docstring).

    With several sources, a class's photos are pooled over the sources by WordNet id, each
    source's photos counting ``weights[name]`` times (default 1; 0 leaves a source out): the class
    mean is m_c = sum_s a_s n_sc m_sc / sum_s a_s n_sc.
    """
    rule = rule or PaperRule(load_synset_list())
    weights = weights or {}
    unknown = set(weights) - {s.name for s in sources}
    if unknown:
        raise InputError(f"weights name unknown sources {sorted(unknown)}; the sources are {[s.name for s in sources]}")
    sources = [s for s in sources if weights.get(s.name, 1.0) > 0]
    if not sources:
        raise InputError("no image source left (all have weight 0)")
    dims = {s.means.shape[1] for s in sources}
    if len(dims) != 1:
        raise FeatureFileError(
            f"the sources have different feature sizes: { {s.name: s.means.shape[1] for s in sources} }"
        )
    wsum: dict[str, np.ndarray] = {}
    wcount: dict[str, float] = {}
    photos_by: dict[str, dict[str, int]] = {}  # wnid -> source -> photos
    for s in sources:
        a = weights.get(s.name, 1.0)
        for w, m, n in zip(s.wnids, s.means, s.counts):
            if w:
                wsum[w] = wsum.get(w, 0.0) + a * n * m.astype(np.float64)
                wcount[w] = wcount.get(w, 0.0) + a * n
                photos_by.setdefault(w, {}).setdefault(s.name, 0)
                photos_by[w][s.name] += int(n)
    photos_of = {w: sum(by.values()) for w, by in photos_by.items()}
    below = wordnet_lib.wnids_below(wn, sorted(wsum)) if isinstance(rule, ClosureRule) else {}
    out_words, rows, photos, reached, hows, depths = [], [], [], set(), [], []
    in_rule = backed = 0
    per_source: dict[str, list[int]] = {s.name: [] for s in sources}
    gained = {s.name: 0 for s in sources}
    for word in words:
        synsets = [wordnet_lib.wnid(s) for s in wordnet_lib.noun_synsets(wn, word)]
        in_rule += isinstance(rule, PaperRule) and any(s in rule.synsets for s in synsets)
        used, how, topped = rule.photos(word, synsets, wn, photos_of, below)
        if not used:
            continue
        weight = {c: (wcount[c] if isinstance(rule, ClosureRule) else k) for c, k in used.items()}
        out_words.append(word)
        rows.append(sum(weight[c] * wsum[c] / wcount[c] for c in used) / sum(weight.values()))
        photos.append(sum(used.values()))
        hows.append(how)
        backed += topped
        depths.append(
            min(
                wordnet_lib.synset_of(wn, s).min_depth()
                for s in synsets
                if not isinstance(rule, PaperRule) or s in rule.synsets
            )
        )
        reached |= set(used)
        contributed = {}
        for c in used:
            for name, n in photos_by[c].items():
                contributed[name] = contributed.get(name, 0) + n
        for name, n in contributed.items():
            per_source[name].append(n)
        if len(contributed) == 1:
            gained[next(iter(contributed))] += 1
    d = dims.pop()
    feats = np.asarray(rows, np.float32).reshape(len(rows), d)
    source_cov = [
        SourceCoverage(
            s.name,
            weights.get(s.name, 1.0),
            len(s.wnids),
            sum(1 for w in s.wnids if not w),
            int(s.counts.sum()),
            len(per_source[s.name]),
            gained[s.name],
            *_stats(per_source[s.name]),
        )
        for s in sources
    ]
    abstract = sorted(zip(depths, out_words))[:15]
    coverage = Coverage(
        len(words),
        len(out_words),
        sum(len(s.wnids) for s in sources),
        sum(sc.classes_without_wnid for sc in source_cov),
        len(reached),
        *_stats(photos),
        backed,
        source_cov,
        rule.describe(),
        in_rule if isinstance(rule, PaperRule) else None,
        {how: hows.count(how) for how in ("own", "hyponym")},
        [f"{w} ({depth})" for depth, w in abstract],
    )
    provenance = {
        "sources": [dataclasses.asdict(sc) for sc in source_cov],
        "rule": rule.describe(),
        "rule_settings": {k: v for k, v in dataclasses.asdict(rule).items() if k != "synsets"},
        "coverage": {k: v for k, v in dataclasses.asdict(coverage).items() if k != "sources"},
    }
    return WordFeatures(tuple(out_words), feats, provenance), coverage
