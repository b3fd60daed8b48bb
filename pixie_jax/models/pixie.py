"""PIXIE (eq. 9) as the experiments see it: its :class:`~pixie_jax.models.spec.ModelSpec`. With
``features = ''`` it is SGNS (configs/sgns.py). The model itself is :mod:`pixie_jax.core.model`, its
loss :mod:`pixie_jax.models.objective`, its embedding kinds (e, v, mu, x, s, t) :mod:`pixie_jax.models.embeddings`.
"""

from __future__ import annotations

import functools

from pixie_jax.core.model import FUSIONS, Pixie
from pixie_jax.errors import InputError
from pixie_jax.models import embeddings, objective
from pixie_jax.models.spec import ModelSpec
from pixie_jax.training import sampling
from pixie_jax.training.trainable import Trainable, feature_array


def sampler_fields(config, n_visual: int) -> dict:
    """PIXIE's batch: text and visual centres, and the VAE term's word draws (none without features)."""
    s = config.sampler
    return {"visual_centres": s.visual_centres if n_visual else 0, "visual_words": s.visual_words if n_visual else 0}


def build(config, vocab_size: int, cls=Pixie) -> Pixie:
    """The model of ``config.model`` (K, hidden units, D, fusion) over ``vocab_size`` words."""
    m = config.model
    if m.fusion not in FUSIONS:
        raise InputError(f"unknown fusion {m.fusion!r}; choose one of {sorted(FUSIONS)}")
    return cls(vocab_size, m.dim, m.features, m.hidden, FUSIONS[m.fusion])


def bind(config, model: Pixie, data, sampler: sampling.SamplerConfig) -> Trainable:
    """PIXIE as the trainer trains it: eq. (9)'s minibatch estimate (:func:`pixie_jax.models.objective.loss_from_rows`)
    with lambda (:func:`pixie_jax.models.objective.visual_weight`) and the VAE term's ``visual_words`` draws
    bound, on the tables e and v, the skip-gram batch, and the scaled features (none without visual words)."""
    lam = objective.visual_weight(config, data, sampler)
    loss = functools.partial(objective.loss_from_rows, model, vae_words=sampler.visual_words or 1, visual_weight=lam)
    return Trainable(
        model,
        loss,
        objective.ROWS,
        sampling.batch_sampler(sampler),
        sampler,
        feature_array(data.features),
        note=f"lambda = {lam:.3g}",
        networks_learn=bool(sampler.visual_centres or sampler.visual_words),
    )


# PIXIE's own settings, checked with the rest of the config before any data is read; the encoder's and
# decoder's sizes also serve the models that share them (the VAE, IV-SGNS)
NETWORK_RULES = (("model.hidden", 1, True), ("model.features", 1, True))
RULES = (*NETWORK_RULES, ("visual_weight", 0, True))
CHOICES = (("model.fusion", tuple(FUSIONS)), ("visual_weight_mode", ("per_word", "fixed")))

SPEC = ModelSpec(
    "pixie",
    build,
    bind,
    embeddings.pixie_arrays,
    kinds=("e", "v", "mu", "x", "s", "t"),
    scored_kinds=("e", "s", "t"),
    sampler=sampler_fields,
    visual_only=lambda model, params, data: embeddings.visual_only_embeddings(model, params, data, text_dim=model.dim),
    rules=RULES,
    choices=CHOICES,
)
