"""What a model tells the experiments about itself: :class:`ModelSpec`. Each model module defines its
``SPEC`` (:mod:`pixie_jax.models.pixie`, :mod:`pixie_jax.models.vsgns`, ...), and
:mod:`pixie_jax.models.registry` finds it by ``config.model.name``; :mod:`pixie_jax.experiment` builds
the model from it and binds it to the run into the trainer's :class:`pixie_jax.training.trainable.Trainable`."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any


@dataclasses.dataclass(frozen=True)
class ModelSpec:
    """What the experiments (and through them the trainer) need to know about one model: what every
    model has, and nothing for one model only.

    ``build(config, vocab_size)`` makes the model, any object whose ``init(key)`` gives its parameters.
    ``bind(config, model, data, sampler)`` makes the :class:`~pixie_jax.training.trainable.Trainable` the
    trainer trains: the model's row tables, its sampler, its loss with every model-specific quantity
    bound in it (PIXIE's lambda and VAE draws, V-SGNS's projected features, the VAE's own length), for
    the run's data (:class:`~pixie_jax.data.training_data.TrainingData`) and skip-gram sampler settings
    (:class:`~pixie_jax.training.sampling.SamplerConfig`). ``arrays(model, params, data)`` turns trained
    parameters into named embedding arrays over the vocabulary.
    """

    name: str
    build: Callable[[Any, int], Any]  # (config, vocabulary size) -> model with init(key) -> params
    bind: Callable  # (config, model, data, sampler) -> Trainable
    arrays: Callable  # (model, params, data) -> {kind: [V, d], 'mask': [V]}
    kinds: tuple[str, ...]  # the kinds ``arrays`` writes
    scored_kinds: tuple[str, ...]  # the kinds worth scoring when there are visual words
    sampler: Callable | None = None  # (config, n_visual) -> SamplerConfig fields beyond the config's
    visual_only: Callable | None = None  # (model, params, data) -> arrays of words with features, no text
    settings: Callable[[], dict] | None = None  # () -> its own settings' defaults, config.<name>: {key: value}
    embedding: str = ""  # the kind(s) its configs write by default ('': the config's)
    rules: tuple = ()  # (key, lowest value, lowest allowed?) of the model's own settings
    choices: tuple = ()  # (key, allowed values), both checked before any data is read


@dataclasses.dataclass(frozen=True)
class ComposedSpec:
    """A model made from another model's embeddings and a step after them: IV-SGNS is SGNS (``base``
    'pixie' trained on the corpus without its features), then a map fitted from e to x (``then``).

    ``then(config, arrays, keys, log) -> arrays`` adds the composed model's kinds to the base's (``keys``:
    the run's PRNG streams). ``existing(config, data, log)`` may give the base's arrays from elsewhere (a
    file of earlier embeddings), or None to train the base. The other fields are :class:`ModelSpec`'s.
    """

    name: str
    base: str  # the model trained first, on the corpus without its features
    then: Callable
    kinds: tuple[str, ...]  # the kinds written: the base's that it keeps, and its own
    scored_kinds: tuple[str, ...]
    existing: Callable | None = None
    settings: Callable[[], dict] | None = None
    embedding: str = ""
    rules: tuple = ()
    choices: tuple = ()
