"""The data a run reads, prepared on the host from a config: vocabulary, token ids, subsampling and
noise tables, and the visual features (scaled into [0, 1]) of the words that have them."""

from __future__ import annotations

import dataclasses
import time

import numpy as np

from pixie_jax.data import feature_files as features_lib
from pixie_jax.data import tokens as tokens_lib
from pixie_jax.data import vocab as vocab_lib
from pixie_jax.errors import InputError


class DataError(InputError):
    """The corpus or the features do not fit the config; the message says how to fix it."""


@dataclasses.dataclass
class TrainingData:
    """Everything the step reads, prepared on the host from a config."""

    vocab: vocab_lib.Vocab
    ids: np.ndarray  # int32 [T], memory-mapped from the token cache (:mod:`pixie_jax.data.tokens`)
    keep_prob: np.ndarray  # float32 [V]
    noise: vocab_lib.AliasTable
    vis_index: np.ndarray  # int32 [V], -1 for words without features
    features: np.ndarray  # float32 [V_x, D] scaled into [0, 1]
    scaling: features_lib.MinMaxScaling | None
    raw_features: np.ndarray  # float32 [V_x, D] as read
    visual_only_words: tuple[str, ...] = ()  # words with features but not in the vocabulary
    visual_only_features: np.ndarray | None = None  # their raw features
    ids_digest: str = ""  # sha256 of ids (16 hex digits), recorded in a workdir's run.json

    @property
    def n_visual(self) -> int:
        return int(self.features.shape[0])

    def expected_kept(self) -> float:
        """Tokens a subsampled pass keeps on average: sum over words of count x keep probability."""
        return float(np.dot(self.vocab.counts, self.keep_prob.astype(np.float64)))


def prepare_data(config, log=print) -> TrainingData:
    """Read the corpus and features named by ``config`` and build the vocabulary and tables."""
    t0 = time.time()
    tokens = tokens_lib.tokenise(
        config.corpus,
        config.min_count,
        config.max_vocab or None,
        config.corpus_errors,
        config.cache_dir or None,
        cache=config.corpus_cache,
        progress=config.progress,
        log=log,
    )
    vocab, ids = tokens.vocab, tokens.ids
    if len(vocab) < 2:
        raise DataError(
            f"corpus {config.corpus}: the vocabulary has {len(vocab)} word(s) "
            f"({', '.join(vocab.words)}) at min_count={config.min_count}; skip-gram needs at least two "
            f"distinct words: use a larger corpus or lower --config.min_count"
        )
    log(
        f"corpus {config.corpus}: {len(ids):,} tokens in the vocabulary of {len(vocab):,} words "
        f"({time.time() - t0:.1f} s)"
    )
    return TrainingData(
        vocab, ids, **sampling_fields(config, vocab), **visual_fields(config, vocab, log), ids_digest=tokens.digest
    )


def sampling_fields(config, vocab: vocab_lib.Vocab) -> dict:
    """The sampling fields of :class:`TrainingData`: each word's keep probability at ``config.subsample``
    and the noise distribution P_n(w) ~ count^``config.noise_power`` as an alias table."""
    return {
        "keep_prob": vocab_lib.keep_probabilities(vocab.counts, config.subsample),
        "noise": vocab_lib.alias_table(vocab_lib.noise_distribution(vocab.counts, config.noise_power)),
    }


def with_sampling(config, data: TrainingData) -> TrainingData:
    """``data`` with the sampling fields of ``config`` (same vocabulary, corpus and features)."""
    return dataclasses.replace(data, **sampling_fields(config, data.vocab))


def visual_fields(config, vocab: vocab_lib.Vocab, log=print) -> dict:
    """The visual fields of :class:`TrainingData` for ``config.features`` (less
    ``config.exclude_visual_words``) over ``vocab``: swap them with ``dataclasses.replace``."""
    vis_index = np.full(len(vocab), -1, np.int32)
    raw = np.zeros((0, config.model.features), np.float32)
    scaling, visual_only, visual_only_raw = None, (), None
    if config.features:
        wf = features_lib.load_word_features(config.features)
        folded = [w.casefold() for w in wf.words]  # as the corpus's words are (text8's lower case)
        rows = vocab.lookup(folded)
        exclude = {str(w).casefold() for w in config.get("exclude_visual_words") or ()}
        first = set(_first_of_each(folded))  # a word spelled twice (Apple, apple) keeps its first row
        chosen = [i for i, r in enumerate(rows) if r >= 0 and i in first and folded[i] not in exclude]
        raw = wf.features[chosen].astype(np.float32)
        vis_index[rows[chosen]] = np.arange(len(chosen), dtype=np.int32)
        if raw.shape[1] != config.model.features:
            raise DataError(
                f"{config.features}: features are {raw.shape[1]}-d but config.model.features is "
                f"{config.model.features}; set --config.model.features={raw.shape[1]}"
            )
        if not chosen:
            raise DataError(
                f"{config.features}: none of its {len(wf.words):,} words (e.g. "
                f"{', '.join(wf.words[:3])}) is a word of the vocabulary"
                f"{' left after exclude_visual_words' if exclude else ''}; use features built for this "
                f"corpus (bin/build-visual-features --corpus ...), or --config.features= to train text "
                f"only"
            )
        unseen = [i for i, r in enumerate(rows) if r < 0 and i in first]
        visual_only, visual_only_raw = tuple(folded[i] for i in unseen), wf.features[unseen].astype(np.float32)
        refolded = sum(w != f for w, f, r in zip(wf.words, folded, rows) if r >= 0)
        log(
            f"visual features {config.features}: {len(chosen):,} of {len(vocab):,} vocabulary words "
            f"({len(wf.words):,} words in the file: {len(unseen):,} not in the vocabulary"
            + (f", {refolded:,} matched in lower case" if refolded else "")
            + (
                f", {len(wf.words) - len(first):,} repeated in another case, left out"
                if len(first) < len(wf.words)
                else ""
            )
            + f", {len(exclude & set(folded))} excluded)"
        )
        absent = sorted(exclude - set(folded))
        if absent:
            log(
                f"exclude_visual_words: {len(absent)} word(s) not in {config.features}, so nothing to exclude: "
                f"{', '.join(absent[:10])}{', ...' if len(absent) > 10 else ''}"
            )
    if len(raw):
        scaling = features_lib.MinMaxScaling.fit(raw)
        scaled = scaling.apply(raw)
    else:
        scaled = raw
    return dict(
        vis_index=vis_index,
        features=scaled,
        scaling=scaling,
        raw_features=raw,
        visual_only_words=visual_only,
        visual_only_features=visual_only_raw,
    )


def _first_of_each(words) -> list[int]:
    """The index of each word's first occurrence in ``words``, in order."""
    seen: dict[str, int] = {}
    for i, w in enumerate(words):
        seen.setdefault(w, i)
    return list(seen.values())


def text_only(config, data: TrainingData) -> TrainingData:
    """``data`` without its visual features (same vocabulary and corpus)."""
    cfg = config.copy_and_resolve_references()
    cfg.features = ""
    return dataclasses.replace(data, **visual_fields(cfg, data.vocab, log=lambda *_: None))
