"""Vocabulary, the corpus as ids, subsampling probabilities and the noise distribution."""

from __future__ import annotations

import collections
import dataclasses
import os

import numpy as np

from pixie_jax.errors import InputError
from pixie_jax.files import atomic_write

_CHUNK_CHARS = 1 << 23  # tokenise in ~8 MB pieces to keep peak memory small


class VocabError(InputError):
    """A vocabulary file that cannot be read; the message names the file and line."""


@dataclasses.dataclass(frozen=True)
class Vocab:
    """Words sorted by decreasing count (ties broken alphabetically), with their counts."""

    words: tuple[str, ...]
    counts: np.ndarray  # int64 [V]

    def __post_init__(self):
        object.__setattr__(self, "_index", {w: i for i, w in enumerate(self.words)})

    def __len__(self) -> int:
        return len(self.words)

    def __contains__(self, word: str) -> bool:
        return word in self._index

    def index(self, word: str) -> int:
        """The id of ``word``, or -1 when it is not in the vocabulary."""
        return self._index.get(word, -1)

    def lookup(self, words) -> np.ndarray:
        return np.array([self._index.get(w, -1) for w in words], dtype=np.int32)

    def save(self, path: str | os.PathLike) -> None:
        """One ``word<TAB>count`` line per word, most frequent first."""
        with atomic_write(path, "w") as f:
            for word, count in zip(self.words, self.counts):
                f.write(f"{word}\t{int(count)}\n")

    @classmethod
    def load(cls, path: str | os.PathLike) -> Vocab:
        words, counts = [], []
        with open(path, encoding="utf-8") as f:
            for lineno, line in enumerate(f, 1):
                fields = line.rstrip("\n").split("\t")
                if len(fields) != 2 or not fields[1].isdigit() or not fields[0]:
                    raise VocabError(f"{path}: line {lineno}: expected 'word<TAB>count', got {line.rstrip()!r}")
                words.append(fields[0])
                counts.append(int(fields[1]))
        if len(set(words)) != len(words):
            dup = next(w for w, n in collections.Counter(words).items() if n > 1)
            raise VocabError(f"{path}: word {dup!r} is listed more than once")
        return cls(tuple(words), np.asarray(counts, dtype=np.int64))


def _chunks(corpus: str, size: int = _CHUNK_CHARS):
    """Pieces of ``corpus`` cut at spaces, so that no token is split."""
    start, n = 0, len(corpus)
    while start < n:
        end = min(start + size, n)
        if end < n:
            cut = corpus.rfind(" ", start, end)
            if cut <= start:  # one token longer than a chunk
                cut = corpus.find(" ", end)
            end = n if cut == -1 else cut
        yield corpus[start:end]
        start = end + 1


def count_words(corpus: str) -> collections.Counter:
    counter: collections.Counter = collections.Counter()
    for piece in _chunks(corpus):
        counter.update(piece.split())
    return counter


def build_vocab(corpus: str, min_count: int = 5, max_size: int | None = 50_000) -> Vocab:
    """Words occurring at least ``min_count`` times, the ``max_size`` most frequent of them."""
    return vocab_from_counts(count_words(corpus), min_count, max_size)


def vocab_from_counts(counter: collections.Counter, min_count: int = 5, max_size: int | None = 50_000) -> Vocab:
    """:func:`build_vocab` from word counts (of a corpus streamed in pieces, say)."""
    items = sorted(((w, c) for w, c in counter.items() if c >= min_count), key=lambda wc: (-wc[1], wc[0]))
    if max_size is not None:
        items = items[:max_size]
    if not items:
        raise VocabError(f"no word occurs {min_count} or more times in the corpus ({sum(counter.values())} tokens)")
    words, counts = zip(*items)
    return Vocab(tuple(words), np.asarray(counts, dtype=np.int64))


def encode(corpus: str, vocab: Vocab) -> np.ndarray:
    """The corpus as int32 ids, words outside the vocabulary dropped (as word2vec does)."""
    return encode_stream(_chunks(corpus), vocab)


def encode_stream(pieces, vocab: Vocab) -> np.ndarray:
    """:func:`encode` of a corpus given as text8-form pieces (never joined into one string)."""
    return np.concatenate([np.zeros(0, np.int32), *encode_pieces(pieces, vocab)])


def encode_pieces(pieces, vocab: Vocab):
    """:func:`encode` of each text8-form piece of a corpus, one int32 array per piece."""
    index = vocab._index
    for piece in pieces:
        ids = np.fromiter((index.get(w, -1) for w in piece.split()), dtype=np.int32)
        yield ids[ids >= 0]


def keep_probabilities(counts: np.ndarray, threshold: float = 1e-3) -> np.ndarray:
    """word2vec's subsampling: keep a token of word w with probability

        p_keep(w) = min(1, (sqrt(f_w / (t T)) + 1) t T / f_w),

    f_w its count, T the number of tokens, t the threshold. ``threshold <= 0`` keeps all.
    """
    counts = np.asarray(counts, dtype=np.float64)
    if threshold <= 0:
        return np.ones(len(counts), np.float32)
    tt = threshold * counts.sum()
    return np.minimum(1.0, (np.sqrt(counts / tt) + 1.0) * tt / counts).astype(np.float32)


def noise_distribution(counts: np.ndarray, power: float = 0.75) -> np.ndarray:
    """P_n(w) = count(w)^power / sum_u count(u)^power (float64)."""
    weights = np.asarray(counts, dtype=np.float64) ** power
    return weights / weights.sum()


@dataclasses.dataclass(frozen=True)
class AliasTable:
    """Walker/Vose alias table: draw i ~ U{0..V-1}, u ~ U(0,1); return i if u < prob[i] else alias[i]."""

    prob: np.ndarray  # float32 [V]
    alias: np.ndarray  # int32 [V]

    def probabilities(self) -> np.ndarray:
        """The exact distribution the table samples from."""
        v = len(self.prob)
        p = self.prob.astype(np.float64) / v
        np.add.at(p, self.alias, (1.0 - self.prob.astype(np.float64)) / v)
        return p


def alias_table(p: np.ndarray) -> AliasTable:
    """Vose's alias method for the distribution ``p`` (O(V) to build, O(1) per draw)."""
    p = np.asarray(p, dtype=np.float64)
    v = len(p)
    scaled = p * v / p.sum()
    prob = np.ones(v, np.float64)
    alias = np.arange(v, dtype=np.int32)
    small = [i for i in range(v) if scaled[i] < 1.0]
    large = [i for i in range(v) if scaled[i] >= 1.0]
    while small and large:
        s, big = small.pop(), large.pop()
        prob[s], alias[s] = scaled[s], big
        scaled[big] -= 1.0 - scaled[s]
        (small if scaled[big] < 1.0 else large).append(big)
    return AliasTable(prob.astype(np.float32), alias)
