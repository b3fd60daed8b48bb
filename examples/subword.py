"""A fastText-style subword skip-gram in one file (Bojanowski et al., 2017): a centre word is the mean of
its own row and the rows of its hashed character n-grams,

    u_w = (e_w + sum_{g in G_w} e_{V + h(g)}) / (1 + |G_w|),

G_w the 3- to 6-grams of "<w>" (``subword.min_n``, ``max_n``), h FNV-1a (32-bit) of their bytes modulo
``subword.buckets``, and e one table of V word rows then the buckets' rows. u_w is scored against the
contexts' rows of v by SGNS's loss (eq. 2; :func:`pixie_jax.models.objective.stratum_text_loss`).

A word names a different number of rows (1 + |G_w|: 2 for a one-letter word, about 4 a letter for a
long one): the index is ragged (:class:`pixie_jax.training.rows.Bag`), all of a step's centres' rows
laid end to end within a static bound sized from the corpus (:func:`bag_bound`), summed per centre
without padding each word to the longest list. The trainer reads and updates those rows as any others:
dense Adam, ``sparse_sgd``, ``lazy_adam``, sharded tables. A bucket's row is shared by every word with
that n-gram, so its summed gradient is large: ``sparse_sgd`` wants a smaller rate than word2vec's 0.025
(docs/adding_a_model.md).

    bin/train --config examples/subword_config.py --workdir runs/subword
"""

import dataclasses
import functools
import math
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from pixie_jax.errors import InputError
from pixie_jax.models import objective
from pixie_jax.models.spec import ModelSpec
from pixie_jax.training import rows, sampling
from pixie_jax.training.trainable import Trainable, skipgram_counts


class Subword(NamedTuple):
    vocab_size: int
    buckets: int = 200_000
    dim: int = 100
    min_n: int = 3
    max_n: int = 6

    @property
    def rows(self) -> int:
        """e's rows: the words', then the buckets'."""
        return self.vocab_size + self.buckets

    def init(self, key) -> dict:
        """e [V + buckets, K] ~ U(-0.5/K, 0.5/K) (word2vec's), v [V, K] = 0."""
        e = jax.random.uniform(key, (self.rows, self.dim), jnp.float32, -0.5 / self.dim, 0.5 / self.dim)
        return {"e": e, "v": jnp.zeros((self.vocab_size, self.dim), jnp.float32)}

    def combine(self, params, e, z):
        """What a centre is scored with: u_w (z = 0, no visual part)."""
        return e + z


def fnv1a(text: str) -> int:
    """FNV-1a, 32 bits, of ``text``'s UTF-8 bytes: h = 2166136261; h = (h xor byte) x 16777619 mod 2^32."""
    h = 2166136261
    for byte in text.encode("utf-8"):
        h = ((h ^ byte) * 16777619) & 0xFFFFFFFF
    return h


def ngrams(word: str, min_n: int = 3, max_n: int = 6) -> list[str]:
    """The character n-grams of "<word>", min_n <= n <= max_n, in order of start then length."""
    marked = f"<{word}>"
    return [marked[i : i + n] for i in range(len(marked)) for n in range(min_n, max_n + 1) if i + n <= len(marked)]


class Lists(NamedTuple):
    """Each word's rows of e, compressed: word w reads ``members[offsets[w]:offsets[w + 1]]``, its own row
    w first, then V + h(g) for its n-grams g."""

    offsets: np.ndarray  # int32 [V + 1]
    members: np.ndarray  # int32 [offsets[-1]]

    @property
    def lengths(self) -> np.ndarray:
        return np.diff(self.offsets)


def word_rows(words, buckets: int, min_n: int = 3, max_n: int = 6) -> Lists:
    """:class:`Lists` of ``words`` (the vocabulary, in id order) with ``buckets`` hashed n-gram rows."""
    vocab = len(words)
    cache: dict[str, int] = {}
    lists = []
    for w, word in enumerate(words):
        grams = ngrams(word, min_n, max_n)
        lists.append([w] + [vocab + cache.setdefault(g, fnv1a(g) % buckets) for g in grams])
    offsets = np.zeros(vocab + 1, np.int64)
    np.cumsum([len(x) for x in lists], out=offsets[1:])
    return Lists(offsets.astype(np.int32), np.fromiter((m for x in lists for m in x), np.int32, offsets[-1]))


def bag_bound(lists: Lists, token_share: np.ndarray, centres: int, spread: float = 6.0) -> int:
    """The static bound of a step's bag for ``centres`` centres: mean + ``spread`` standard deviations of
    the sum of their rows' counts, the centres drawn by ``token_share`` (each word's share of a pass's
    tokens), plus the longest list; at most every centre's longest list. Past it a step drops the rest of
    its rows (``bag_rows_dropped`` in the metrics)."""
    lengths = lists.lengths.astype(np.float64)
    mean = float(token_share @ lengths)
    std = math.sqrt(max(float(token_share @ (lengths - mean) ** 2), 0.0))
    longest = int(lengths.max())
    return min(centres * longest, math.ceil(centres * mean + spread * std * math.sqrt(centres)) + longest)


def row_index(lists: Lists, bound, table_rows: int, batch: dict) -> dict:
    """e: each text centre's bag of rows (:func:`pixie_jax.training.rows.bag_of_lists`, bound
    ``bound(centres)``, padded with e's size ``table_rows``); v: each context and its negatives [R, S, 1 + N]."""
    text = batch["text"]
    words = text["words"]
    offsets, members = jnp.asarray(lists.offsets), jnp.asarray(lists.members)
    bag, _ = rows.bag_of_lists(words, offsets, members, bound(words.shape[0]), pad_id=table_rows)
    out = jnp.concatenate([text["contexts"][..., None], text["negatives"]], -1)
    return {"e": {"text": bag}, "v": {"text": {"out": out}}}


def loss(model: Subword, lists: Lists, bound, params, gathered, batch, features):
    """SGNS's eq. (2) negated on the batch's pairs with u_w the mean of w's rows (each kept row of its bag)."""
    del features
    text = batch["text"]
    lengths = jnp.asarray(lists.lengths)[text["words"]]
    limit = bound(lengths.shape[0])
    counts = rows.rows_within_bound(lengths, limit)
    centre = gathered["e"]["text"] / jnp.maximum(counts, 1)[:, None].astype(jnp.float32)
    total = objective.stratum_text_loss(model, params, {"e": centre, **gathered["v"]["text"]}, text, None)
    dropped = jnp.sum(lengths - counts).astype(jnp.float32)
    return total, {"loss": total, "loss_text": total, "bag_rows_dropped": dropped}


def bind(config, model: Subword, data, sampler) -> Trainable:
    """What the trainer trains: the loss on e's bags and v's rows, the skip-gram text stratum."""
    if sampler.negative_group != 1 or sampler.visual_centres:
        raise InputError("subword draws text centres only, each pair its own negatives: set sampler.negative_group=1")
    if model.max_n < model.min_n:
        raise InputError(f"subword.max_n ({model.max_n}) must be at least subword.min_n ({model.min_n})")
    lists = word_rows(data.vocab.words, model.buckets, model.min_n, model.max_n)
    share = np.asarray(data.vocab.counts, np.float64) * data.keep_prob
    bound = functools.lru_cache(lambda centres: bag_bound(lists, share / share.sum(), centres))
    tables = rows.RowTables(("e", "v"), functools.partial(row_index, lists, bound, model.rows))
    slots = sampler.context_slots(sampler.text_centres)
    bag_rows = bound(sampler.text_centres)  # the one device's bound: a bound on any share's total
    counts = dataclasses.replace(skipgram_counts(sampler), rows=bag_rows + slots * (1 + sampler.negatives))
    return Trainable(
        model,
        functools.partial(loss, model, lists, bound),
        tables,
        sampling.batch_sampler(sampler),
        sampler,
        counts=counts,
    )


def word_vectors(e: np.ndarray, lists: Lists, chunk: int = 4096) -> np.ndarray:
    """u_w of every word of ``lists``: the mean of its rows of ``e`` (fastText's word vector)."""
    out = np.empty((len(lists.offsets) - 1, e.shape[1]), np.float32)
    for first in range(0, len(out), chunk):
        last = min(first + chunk, len(out))
        a, b = lists.offsets[first], lists.offsets[last]
        sums = np.add.reduceat(e[lists.members[a:b]], lists.offsets[first:last] - a, axis=0)
        out[first:last] = sums / lists.lengths[first:last, None]
    return out


def vector_of(e: np.ndarray, word: str, vocab_size: int, buckets: int, min_n: int = 3, max_n: int = 6) -> np.ndarray:
    """The vector of any ``word``, in the vocabulary or not, from its n-grams alone (fastText's for a word
    it never saw): the mean of their rows, zeros where it has none."""
    grams = [vocab_size + fnv1a(g) % buckets for g in ngrams(word, min_n, max_n)]
    return e[grams].mean(0) if grams else np.zeros(e.shape[1], np.float32)


def arrays(model: Subword, params, data) -> dict:
    """e: u_w for each word (its own row and its n-grams' rows, averaged)."""
    lists = word_rows(data.vocab.words, model.buckets, model.min_n, model.max_n)
    return {"e": word_vectors(np.asarray(params["e"]), lists), "mask": np.zeros(model.vocab_size, np.float32)}


def settings() -> dict:
    """config.subword: the hashed n-grams' buckets and lengths (fastText's 2,000,000 buckets; 200,000 here
    keeps e and Adam's moments within 300 MB at 100 dimensions)."""
    return {"buckets": 200_000, "min_n": 3, "max_n": 6}


SPEC = ModelSpec(
    "subword",
    lambda config, vocab_size: Subword(
        vocab_size, config.subword.buckets, config.model.dim, config.subword.min_n, config.subword.max_n
    ),
    bind,
    arrays,
    kinds=("e",),
    scored_kinds=("e",),
    settings=settings,
    embedding="e",
    rules=(("subword.buckets", 1, True), ("subword.min_n", 1, True), ("subword.max_n", 1, True)),
)
