"""Pure, jittable sampling of training batches from explicit keys. Nothing here leaves the device.

The pair distribution is word2vec's: after subsampling, a centre token t is drawn
uniformly, a distance d in 1..L with probability (L - d + 1) / (L (L + 1) / 2) (the
reduced window: P(b >= d) for b ~ U{1..L}), and a side +-1; the pair is (w_t, w_{t+-d}),
dropped when t+-d falls outside the corpus. Each centre gets C such contexts drawn
independently, and each pair N negatives from the noise table (shared by groups of G pairs
when G > 1). With ``enumerate_window`` a centre instead gets word2vec's own contexts: a reduced
window b ~ U{1..L} and every position within it, t-b .. t+b but t, each context once; the same pair
distribution, L + 1 pairs per centre on average. The centres are then packed two to a row of
2 (L + 1) context slots: centres 2r and 2r + 1 take reduced windows b and L + 1 - b (each uniform on
1..L), so their 2b and 2 (L + 1 - b) contexts fill row r exactly (``owner`` says whose each slot is)
and no slot is computed only to be masked, where 2L slots a centre would leave (L - 1) / 2L of them
empty.

With ``shuffle`` the centres are drawn without replacement: each pass's positions of a stratum are put
in a random order (:func:`subsample`) and step s takes the next B of them, from position (s mod S) B on,
S = ceil(n_s / B) steps a sweep (the last wraps to the start); each token is a centre once per S steps. With
``enumerate_window`` this is word2vec's coverage of a pass (every token once, every context of its
reduced window once) without word2vec's order.

Centres are drawn from two strata: tokens whose word has visual features and the rest, so
that the encoder runs on a fixed number of visual centres per step. Each stratum's terms
are weighted by (stratum size / tokens) / (centres drawn x C), which keeps the estimate
unbiased for the per-pair average.
"""

from __future__ import annotations

import dataclasses
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from pixie_jax.errors import InputError


class EpochData(NamedTuple):
    """One subsampled pass over the corpus, padded to the corpus length."""

    kept: jax.Array  # int32 [T]: ids of kept tokens, in order (padding after n_kept)
    n_kept: jax.Array  # int32 []
    vis_pos: jax.Array  # int32 [T]: positions in ``kept`` of tokens with features
    n_vis: jax.Array
    txt_pos: jax.Array  # int32 [T]: positions of the others
    n_txt: jax.Array


class WordArrays(NamedTuple):
    """Per-word arrays the sampler reads (all on the device): subsampling, the noise distribution, the
    feature rows."""

    keep_prob: jax.Array  # float32 [V]
    noise_prob: jax.Array  # float32 [V]  alias table: acceptance probabilities
    noise_alias: jax.Array  # int32 [V]
    vis_index: jax.Array  # int32 [V]: row of the word in the feature table, -1 if none


@dataclasses.dataclass(frozen=True)
class SamplerConfig:
    """The skip-gram batch of one step: how its centres are drawn (text and visual strata), how many
    contexts and negatives each has, and the words of the VAE's term. Built from ``config.sampler`` by
    :func:`pixie_jax.models.registry.build_sampler`; its ``pairs_per_step`` is what a pass's length and the
    pairs/s count."""

    window: int = 10  # L
    contexts_per_centre: int = 8  # C
    negatives: int = 64  # N
    negative_group: int = 1  # G: pairs sharing one set of negatives (1 = the paper)
    text_centres: int = 2048  # centres drawn from words without features
    visual_centres: int = 256  # centres drawn from words with features
    visual_words: int = 64  # words drawn uniformly for the visual (VAE) term
    samples: int = 1  # J
    latent: int = 100  # K
    visual_rows: int = 0  # rows of the feature table (words with features)
    enumerate_window: bool = False  # every context of a reduced window (word2vec) instead of C draws
    shuffle: bool = False  # centres of a pass: its tokens in a random order, each once (no replacement)

    @property
    def centres_per_row(self) -> int:
        """Centres whose contexts share one row of slots: 2 when enumerating (packed), else 1."""
        return 2 if self.enumerate_window else 1

    @property
    def slots(self) -> int:
        """Context slots per row: the C draws of a centre, or two packed centres' 2 (L + 1) contexts."""
        return 2 * (self.window + 1) if self.enumerate_window else self.contexts_per_centre

    def context_slots(self, centres: int) -> int:
        """Context slots of ``centres`` centres (each holds a pair's context)."""
        return centres // self.centres_per_row * self.slots

    @property
    def pairs_per_centre(self) -> int:
        """Pairs per centre: C, or in expectation L + 1 (2 E[b]) when enumerating."""
        return self.window + 1 if self.enumerate_window else self.contexts_per_centre

    def __post_init__(self):
        g, c, per_row = self.negative_group, self.slots, self.centres_per_row
        if g != 1 and g % c:
            slots = (
                "2 x (window + 1), two centres' contexts, as enumerate_window is on"
                if self.enumerate_window
                else "contexts_per_centre"
            )
            raise InputError(
                f"negative_group must be 1 or a multiple of the context slots per row ({c}: {slots}), got {g}"
            )
        unit = (g // c if g > 1 else 1) * per_row  # centres per group of shared negatives, or per row
        why = (
            "the centres whose pairs share one group of negatives"
            if g > 1
            else "enumerate_window packs the centres in pairs"
        )
        for name in ("text_centres", "visual_centres"):
            if getattr(self, name) % unit:
                raise InputError(f"{name} ({getattr(self, name)}) must be a multiple of {unit}: {why}")
        if self.window < 1 or self.negatives < 0 or c < 1 or self.samples < 1 or self.text_centres < 0:
            raise InputError(
                f"window, contexts_per_centre and samples must be >= 1, negatives and text_centres >= 0: {self}"
            )
        if not (self.text_centres or self.visual_centres or self.visual_words):
            raise InputError(f"a batch needs text centres, visual centres or visual words: {self}")

    @property
    def pairs_per_step(self) -> int:
        return (self.text_centres + self.visual_centres) * self.pairs_per_centre

    @property
    def rows_per_step(self) -> int:
        """Table rows one step gathers: per centre its own row and, per context slot, the context's row and
        (G = 1) its N negatives' rows, or (G > 1) N rows per group of G slots."""
        n, g = self.negatives, self.negative_group
        centres = self.text_centres + self.visual_centres
        slots = self.context_slots(self.text_centres) + self.context_slots(self.visual_centres)
        return centres + slots * (1 + n) if g == 1 else centres + slots + slots // g * n


def shuffle_positions(key, positions, count):
    """``positions`` with its first ``count`` entries in a uniformly random order (the rest after them)."""
    n = positions.shape[0]
    return positions[jnp.argsort(jnp.where(jnp.arange(n) < count, jax.random.uniform(key, (n,)), 2.0))]


def subsample(key, ids, keep_prob, vis_index, shuffle: bool = False) -> EpochData:
    """Keep token t with probability keep_prob[w_t] (word2vec's subsampling) and compact; with
    ``shuffle`` each stratum's positions in a random order (a permutation per pass, key fold_in(key, 1))."""
    n = ids.shape[0]
    keep = jax.random.uniform(key, (n,)) < keep_prob[ids]
    (kept_at,) = jnp.nonzero(keep, size=n, fill_value=0)
    kept = ids[kept_at]
    n_kept = keep.sum(dtype=jnp.int32)
    in_range = jnp.arange(n) < n_kept
    visual = (vis_index[kept] >= 0) & in_range
    (vis_pos,) = jnp.nonzero(visual, size=n, fill_value=0)
    (txt_pos,) = jnp.nonzero(~visual & in_range, size=n, fill_value=0)
    if shuffle:
        k_v, k_t = jax.random.split(jax.random.fold_in(key, 1))
        vis_pos = shuffle_positions(k_v, vis_pos, visual.sum(dtype=jnp.int32))
        txt_pos = shuffle_positions(k_t, txt_pos, n_kept - visual.sum(dtype=jnp.int32))
    return EpochData(
        kept,
        n_kept,
        vis_pos.astype(jnp.int32),
        visual.sum(dtype=jnp.int32),
        txt_pos.astype(jnp.int32),
        n_kept - visual.sum(dtype=jnp.int32),
    )


def distance_probabilities(window: int) -> np.ndarray:
    """[L] float64: P(d) = (L - d + 1) / (L (L + 1) / 2) for d = 1..L, word2vec's context distance (the
    reduced window: P(b >= d) for b ~ U{1..L}, normalised)."""
    d = np.arange(1, window + 1)
    return (window - d + 1) / (window * (window + 1) / 2)


def window_offsets(key, shape, window: int):
    """Signed offsets +-d, d ~ :func:`distance_probabilities`, by inverting the CDF of one uniform draw
    (d = 1 + #{l < L : u >= F(l)})."""
    k_d, k_s = jax.random.split(key)
    cdf = np.cumsum(distance_probabilities(window))[:-1].astype(np.float32)
    dist = 1 + jnp.sum(jax.random.uniform(k_d, shape)[..., None] >= cdf, axis=-1)
    sign = jnp.where(jax.random.bernoulli(k_s, 0.5, shape), 1, -1)
    return (sign * dist).astype(jnp.int32)


def alias_sample(key, prob, alias, shape):
    """Draws from an alias table (see :class:`pixie_jax.data.vocab.AliasTable`)."""
    k_i, k_u = jax.random.split(key)
    i = jax.random.randint(k_i, shape, 0, prob.shape[0])
    return jnp.where(jax.random.uniform(k_u, shape) < prob[i], i, alias[i]).astype(jnp.int32)


def _stratum(key, epoch: EpochData, positions, count, words: WordArrays, cfg: SamplerConfig, centres: int, step=0):
    """Centres from one stratum with their contexts, validity masks and negatives."""
    k_c, k_w, k_n = jax.random.split(key, 3)
    size = jnp.maximum(count, 1)  # an empty stratum draws position 0; its pairs are invalid (count > 0 below)
    if cfg.shuffle:  # the next B positions of the pass's random order
        sweep = (size + centres - 1) // centres  # steps per sweep of the stratum; keeps the offset below 2^31
        i = ((jnp.asarray(step, jnp.int32) % sweep) * centres + jnp.arange(centres, dtype=jnp.int32)) % size
    else:
        i = jax.random.randint(k_c, (centres,), 0, size)
    pos = positions[i]
    packed = {}
    if cfg.enumerate_window:
        owner, offsets = packed_windows(k_w, centres // 2, cfg.window)
        ctx_pos = jnp.take_along_axis(pos.reshape(-1, 2), owner, axis=1) + offsets
        packed = {"owner": owner}
    else:
        ctx_pos = pos[:, None] + window_offsets(k_w, (centres, cfg.contexts_per_centre), cfg.window)
    valid = (ctx_pos >= 0) & (ctx_pos < epoch.n_kept) & (count > 0)
    ctx = epoch.kept[jnp.clip(ctx_pos, 0, epoch.kept.shape[0] - 1)]
    rows = centres // cfg.centres_per_row
    if cfg.negative_group == 1:
        neg_shape = (rows, cfg.slots, cfg.negatives)
    else:
        neg_shape = (rows // (cfg.negative_group // cfg.slots), cfg.negatives)
    neg = alias_sample(k_n, words.noise_prob, words.noise_alias, neg_shape)
    weight = count.astype(jnp.float32) / epoch.n_kept / (centres * cfg.pairs_per_centre)
    return {
        "words": epoch.kept[pos],
        "contexts": ctx,
        "valid": valid.astype(jnp.float32),
        "negatives": neg,
        "weight": jnp.full((centres,), weight, jnp.float32),
    } | packed


def packed_windows(key, rows: int, window: int):
    """Two centres' reduced windows packed in each of ``rows`` rows of 2 (L + 1) slots: the first centre
    draws b ~ U{1..L}, the second takes L + 1 - b (also uniform on 1..L); slot s belongs to the first
    centre (owner 0) for s < 2b and is offset -b..-1, 1..b in order, then to the second (owner 1), offsets
    -(L + 1 - b)..-1, 1..L + 1 - b. Returns (owner int32 [rows, 2 (L + 1)], offsets int32 [rows, 2 (L + 1)])."""
    b = jax.random.randint(key, (rows, 1), 1, window + 1)
    s = jnp.arange(2 * (window + 1))
    second = s >= 2 * b
    j = jnp.where(second, s - 2 * b, s)  # the slot's place among its centre's contexts
    reach = jnp.where(second, window + 1 - b, b)  # its centre's reduced window
    offsets = jnp.where(j < reach, j - reach, j - reach + 1)
    return second.astype(jnp.int32), offsets.astype(jnp.int32)


def batch_keys(key):
    """The five keys one batch draws from: the text centres, the visual centres, their latent noise, the
    VAE term's words and their noise (a model's own draws fold further streams out of the fourth)."""
    return jax.random.split(key, 5)


def sample_batch(key, epoch: EpochData, words: WordArrays, cfg: SamplerConfig, step=0) -> dict:
    """One training batch: ``text`` and ``visual`` centre strata and the ``vae`` word draws (each
    present when the config draws any). ``step`` places the centres when ``cfg.shuffle``.

    Every array's leading axis can be split across devices. The batch holds indices, noise and each
    stratum's sampling weight; how the terms are weighed against each other (lambda) is the loss's.
    """
    k_t, k_v, k_ve, k_x, k_xe = batch_keys(key)
    batch = {}
    if cfg.text_centres:
        batch["text"] = _stratum(k_t, epoch, epoch.txt_pos, epoch.n_txt, words, cfg, cfg.text_centres, step)
    if cfg.visual_centres:
        vis = _stratum(k_v, epoch, epoch.vis_pos, epoch.n_vis, words, cfg, cfg.visual_centres, step)
        vis["rows"] = jnp.maximum(words.vis_index[vis["words"]], 0)
        vis["eps"] = jax.random.normal(k_ve, (cfg.visual_centres, cfg.samples, cfg.latent))
        batch["visual"] = vis
    if cfg.visual_words and cfg.visual_rows:
        batch["vae"] = {
            "rows": jax.random.randint(k_x, (cfg.visual_words,), 0, cfg.visual_rows),
            "eps": jax.random.normal(k_xe, (cfg.visual_words, cfg.samples, cfg.latent)),
        }
    return batch


def batch_sampler(cfg: SamplerConfig):
    """``draw(key, epoch, words, step)``: :func:`sample_batch` of ``cfg``, as a trainable's ``sample``."""

    def draw(key, epoch: EpochData, words: WordArrays, step=0) -> dict:
        return sample_batch(key, epoch, words, cfg, step)

    return draw
