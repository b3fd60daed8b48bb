"""VAE: PIXIE's visual component alone, trained without text; a word's embedding is mu_phi(x_w).

    J_VAE = 1/|V_x| sum_{w in V_x} -( E_{z ~ q_phi(z|x_w)} log p_theta(x_w|z) - KL(q_phi(z|x_w) || N(0, I)) )

the visual term of eq. (9) with the same encoder and decoder (:mod:`pixie_jax.core.model`),
estimated on B words drawn uniformly per step with J reparameterised samples each (the sampler's
``vae`` draws, as PIXIE estimates it), and minimised by the generic trainer with the config's
network optimizer for ``config.vae.steps`` steps.
"""

from __future__ import annotations

import functools
import math

from pixie_jax.core.model import Pixie, visual_elbo
from pixie_jax.errors import InputError
from pixie_jax.models import embeddings, pixie
from pixie_jax.models.spec import ModelSpec
from pixie_jax.training import sampling
from pixie_jax.training.rows import NO_TABLES
from pixie_jax.training.trainable import Trainable


class Vae(Pixie):
    """:class:`pixie_jax.core.model.Pixie`'s encoder and decoder without the word tables."""

    __slots__ = ()

    def init(self, key) -> dict:
        return {k: v for k, v in Pixie.init(self, key).items() if k in ("encoder", "decoder")}


def loss_from_rows(model: Pixie, params, rows: dict, batch: dict, features, vae_words: int = 1):
    """Minus the ELBO summed over the batch's ``vae`` draws, divided by ``vae_words`` (the global
    batch's draws, so devices' shares add up); ``rows`` is unused (no word tables)."""
    del rows
    elbo, log_lik, kl = visual_elbo(model, params, features[batch["vae"]["rows"]], batch["vae"]["eps"])
    loss = -elbo.sum() / vae_words
    return loss, {"loss": loss, "visual_log_lik": log_lik.sum() / vae_words, "visual_kl": kl.sum() / vae_words}


def total_steps(config, steps_per_call: int) -> int:
    """``config.vae.steps`` rounded up to whole calls."""
    return max(steps_per_call, math.ceil(config.vae.steps / steps_per_call) * steps_per_call)


def bind(config, model: Vae, data, sampler: sampling.SamplerConfig) -> Trainable:
    """The VAE as the trainer trains it: :func:`loss_from_rows` with the batch's draws bound, no row
    tables, the scaled features, and its own length, ``config.vae.steps`` (:func:`total_steps`)."""
    return Trainable(
        model,
        functools.partial(loss_from_rows, model, vae_words=sampler.visual_words),
        NO_TABLES,
        sampling.batch_sampler(sampler),
        sampler,
        data.features,
        total_steps(config, config.steps_per_call),
        length_keys=("vae.steps",),
    )


def sampler_fields(config, n_visual: int) -> dict:
    """Only the ``vae`` draws: no centres."""
    if not n_visual:
        raise InputError("the VAE needs visual features: set --config.features")
    return {"text_centres": 0, "visual_centres": 0, "visual_words": config.sampler.visual_words}


def settings() -> dict:
    """config.vae: the VAE's own settings and their defaults."""
    return {"steps": 4000}  # of sampler.visual_words words each, about as many as PIXIE's default run takes


SPEC = ModelSpec(
    "vae",
    lambda config, vocab_size: pixie.build(config, vocab_size, Vae),
    bind,
    embeddings.vae_arrays,
    kinds=("mu", "x"),
    scored_kinds=("mu",),
    sampler=sampler_fields,
    settings=settings,
    embedding="mu",
    visual_only=embeddings.visual_only_embeddings,
    rules=(*pixie.NETWORK_RULES, ("vae.steps", 1, True)),
)
