"""What a model tells the experiments about itself: :class:`ModelSpec`. Each model module defines its
``SPEC`` (:mod:`pixie_jax.models.pixie`, :mod:`pixie_jax.baselines`), and :mod:`pixie_jax.models.registry` finds it by
``config.model.name``; :mod:`pixie_jax.experiment` builds the model from it and hands the trainer a
:class:`pixie_jax.training.trainable.Trainable`."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

from pixie_jax.training.rows import RowTables


@dataclasses.dataclass(frozen=True)
class ModelSpec:
    """What the experiments (and through them the trainer) need to know about one model.

    ``loss(model, params, rows, batch, features, vae_words, visual_weight) -> (loss, metrics)`` is the
    minibatch estimate of the objective from the rows of its row ``tables`` the batch reads
    (:func:`pixie_jax.training.rows.gather`; ``params`` holds the other parameters), pre-weighted
    so that devices' shares add up, with lambda = ``visual_weight`` (:func:`pixie_jax.models.objective.visual_weight`)
    where the model has a visual term; ``metrics`` must contain ``loss``.
    """

    name: str
    build: Callable[[Any, int], Any]  # (config, vocabulary size) -> model with init(key) -> params
    loss: Callable
    arrays: Callable  # (model, params, data) -> {kind: [V, d], 'mask': [V]}
    tables: RowTables  # its row tables and the rows a batch reads (objective.ROWS: PIXIE's e and v)
    kinds: tuple[str, ...]  # the kinds ``arrays`` writes
    scored_kinds: tuple[str, ...]  # the kinds worth scoring when there are visual words
    sampler: Callable | None = None  # (config, n_visual) -> SamplerConfig fields beyond the config's
    sample: Callable | None = None  # (config, SamplerConfig) -> draw(key, epoch, tables, step); default: the
    # skip-gram batch, sampling.sample_batch
    device_features: Callable | None = None  # (model, scaled features) -> the feature array the loss reads
    total_steps: Callable | None = None  # (config, steps_per_call) -> steps (default: config.epochs passes)
    length_keys: tuple[str, ...] = ()  # its own settings that ``total_steps`` reads: like epochs, free to
    # change on a resume with config.resume_with_new_schedule
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
