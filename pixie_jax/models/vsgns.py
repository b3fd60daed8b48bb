"""V-SGNS: the multimodal skip-gram of Lazaridou et al. (2015), model A (as in the PIXIE paper), model B optional.

SGNS plus, for each occurrence of a visual word w as a centre, a max-margin term that pulls
u_w towards the word's visual vector and away from k visual words drawn uniformly:

    J = J_text(e, v) + 1/P sum_{t : w_t visual} sum_{i=1..k} max(0, gamma - cos(u_w, x~_w) + cos(u_w, x~_{k_i}))

P is the number of (centre, context) pairs in a pass, so each visual token's margin term weighs
as much as all its text pairs together, as in the original per-token sum. Model A:
u_w = e_w and x~ = a fixed projection of the scaled features into the K-dim word space, the
top-K principal directions of the visual words' features (:func:`principal_projection`; model
A needs the two spaces to share a dimension, and a projection that keeps the most variance
keeps the cosines between feature vectors best among linear maps to K dims). Model B:
u_w = M^T e_w with M [K, D] learned with the networks' optimizer, and x~ = x - mean(x). Both
centre the features on the visual words' mean: cosines between raw non-negative CNN features
are all high and differ little, which leaves a margin of 0.5 out of reach.
"""

from __future__ import annotations

import functools
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from pixie_jax.core.model import init_tables
from pixie_jax.core.vectors import principal_directions
from pixie_jax.errors import InputError
from pixie_jax.models import embeddings
from pixie_jax.models.objective import ROWS, by_stratum, gather_rows, stratum_text_loss
from pixie_jax.models.spec import ModelSpec
from pixie_jax.training import sampling
from pixie_jax.training.trainable import Trainable, feature_array


class VSgns(NamedTuple):
    vocab_size: int
    dim: int = 100
    features: int = 1280
    gamma: float = 0.5
    learned_map: bool = False  # model B

    def init(self, key) -> dict:
        k_e, k_m = jax.random.split(key)
        params = init_tables(k_e, self.vocab_size, self.dim)
        if self.learned_map:
            params["map"] = jax.random.normal(k_m, (self.dim, self.features), jnp.float32) / np.sqrt(self.dim)
        return params

    def combine(self, params, e, z):
        """e_w (+ z, which is zero: the text terms are plain SGNS)."""
        return e + z

    def visual_side(self, params, e):
        """u_w: e_w (model A) or M^T e_w (model B)."""
        return e @ params["map"] if self.learned_map else e

    def target_features(self, features: np.ndarray) -> np.ndarray:
        """x~ for every visual word: the K-dim principal projection (model A) or the centred features (model B)."""
        if self.learned_map:
            return np.asarray(features, np.float32) - np.asarray(features, np.float32).mean(axis=0)
        return principal_projection(features, self.dim)


def principal_projection(features: np.ndarray, dim: int) -> np.ndarray:
    """(x - mean) W: the centred features on their top-``dim`` principal directions (SVD), signs fixed
    so that each direction's largest loading is positive. Fewer rows than ``dim`` leave zero columns."""
    centred, w = principal_directions(features, dim)
    out = np.zeros((centred.shape[0], dim), np.float32)
    out[:, : w.shape[1]] = centred @ w
    return out


def _cosine(a, b):
    return jnp.sum(a * b, -1) / jnp.maximum(jnp.linalg.norm(a, axis=-1) * jnp.linalg.norm(b, axis=-1), 1e-8)


def margin_terms(u, target, negatives, gamma):
    """sum_i max(0, gamma - cos(u, target) + cos(u, negatives_i)): ``u``, ``target`` [B, d],
    ``negatives`` [B, k, d]; returns [B]."""
    pos = _cosine(u, target)
    neg = _cosine(u[:, None, :], negatives)
    return jnp.maximum(0.0, gamma - pos[:, None] + neg).sum(-1)


def loss_from_rows(model: VSgns, params, rows: dict, batch: dict, features):
    """The minibatch estimate of J above and its metrics from the gathered rows of e and v
    (:func:`pixie_jax.models.objective.gather_rows`); ``features`` holds x~ for each visual word."""
    rows = by_stratum(rows)
    text = stratum_text_loss(model, params, rows["text"], batch["text"], None)
    metrics = {}
    loss = text
    if "visual" in batch:
        vis = batch["visual"]
        text = text + stratum_text_loss(model, params, rows["visual"], vis, None)
        u = model.visual_side(params, rows["visual"]["e"])
        margins = margin_terms(u, features[vis["rows"]], features[vis["margin_rows"]], model.gamma)
        visual = jnp.sum(vis["token_weight"] * margins)
        loss = text + visual
        metrics["loss_visual"] = visual
    metrics["loss_text"] = text
    metrics["loss"] = loss
    return loss, metrics


def batch_loss(model: VSgns, params, batch: dict, features):
    """:func:`loss_from_rows` on the rows ``batch`` gathers from ``params``."""
    return loss_from_rows(model, params, gather_rows(params, batch), batch, features)


VARIANTS = ("A", "B")  # vsgns.model: a fixed projection, or a learned map


def build(config, vocab_size: int) -> VSgns:
    """Model A (``vsgns.model = 'A'``) or B of ``config`` over ``vocab_size`` words."""
    if config.vsgns.model not in VARIANTS:
        raise InputError(f"vsgns.model must be 'A' (fixed projection) or 'B' (learned map), got {config.vsgns.model!r}")
    m = config.model
    return VSgns(vocab_size, m.dim, m.features, config.vsgns.gamma, config.vsgns.model == "B")


def sampler_fields(config, n_visual: int) -> dict:
    """SGNS's centres and, per visual centre, ``vsgns.negatives`` visual words for the margin term."""
    return {"visual_centres": config.sampler.visual_centres if n_visual else 0, "visual_words": 0}


def draw_batch(key, epoch, words, step=0, *, cfg: sampling.SamplerConfig, negatives: int) -> dict:
    """V-SGNS's batch: SGNS's (:func:`pixie_jax.training.sampling.sample_batch`) and, per visual centre,
    ``negatives`` visual words drawn uniformly for the margin term (``margin_rows``) and the centre's
    per-token weight, (stratum size / tokens) / centres / (L + 1), per pair as the text terms are."""
    batch = sampling.sample_batch(key, epoch, words, cfg, step)
    if "visual" in batch:
        vis = batch["visual"]
        draws = jax.random.fold_in(sampling.batch_keys(key)[3], 1)
        vis["margin_rows"] = jax.random.randint(draws, (cfg.visual_centres, negatives), 0, cfg.visual_rows)
        vis["token_weight"] = vis["weight"] * cfg.pairs_per_centre / (cfg.window + 1)
    return batch


def bind(config, model: VSgns, data, sampler: sampling.SamplerConfig) -> Trainable:
    """V-SGNS as the trainer trains it: :func:`loss_from_rows` on the tables e and v, its own draws
    (:func:`draw_batch` with ``vsgns.negatives`` margin words), and x~ of the scaled features."""
    return Trainable(
        model,
        functools.partial(loss_from_rows, model),
        ROWS,
        functools.partial(draw_batch, cfg=sampler, negatives=config.vsgns.negatives),
        sampler,
        model.target_features(feature_array(data.features)),
        networks_learn=bool(sampler.visual_centres),
    )


def settings() -> dict:
    """config.vsgns: V-SGNS's own settings and their defaults."""
    return {
        "model": "A",  # 'A': fixed principal projection of x into R^K; 'B': learned map M [K, D]
        "gamma": 0.5,  # the margin
        "negatives": 20,
    }  # k visual words drawn uniformly per visual centre


SPEC = ModelSpec(
    "vsgns",
    build,
    bind,
    embeddings.table_arrays,
    kinds=("e", "v", "x"),
    scored_kinds=("e",),
    sampler=sampler_fields,
    settings=settings,
    embedding="e",
    rules=(("model.features", 1, True), ("vsgns.negatives", 1, True), ("vsgns.gamma", 0, False)),
    choices=(("vsgns.model", VARIANTS),),
)
