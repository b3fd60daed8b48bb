"""Run the model a config names (``config.model.name``, :mod:`pixie_jax.models.registry`) and collect its
embedding arrays; :func:`run_and_write` also writes them (:mod:`pixie_jax.outputs`).

This is the one place a config becomes a model: the config is validated and the workdir locked once
here, the model built once (:func:`trainable`), and the trainer (:mod:`pixie_jax.training.loop`) handed the
built model, its bound loss, its sampler and its features.
"""

from __future__ import annotations

import dataclasses

import jax

from pixie_jax import outputs, validation
from pixie_jax.data.training_data import TrainingData, prepare_data, text_only
from pixie_jax.errors import InputError
from pixie_jax.models import pixie as pixie_model
from pixie_jax.models import registry
from pixie_jax.models.spec import ComposedSpec, ModelSpec
from pixie_jax.prng import stream_keys
from pixie_jax.training import loop as trainer
from pixie_jax.training import optimizers, rows, sampling, sharding
from pixie_jax.training import workdir as workdir_lib
from pixie_jax.training.trainable import Trainable


@dataclasses.dataclass
class Result:
    arrays: dict  # kind -> [V, d] over data.vocab, and 'mask'
    data: TrainingData
    kinds: tuple[str, ...]  # the kinds worth scoring
    visual_only: dict | None = None  # arrays for the words with features but no text


def check(config, embedding: bool = True) -> ModelSpec:
    """The config's values (with its model's own rules) and, with ``embedding``, the kinds it asks for,
    checked before anything is read; its model's spec. A config that names a model without a section for
    its own settings gets one with their defaults (:func:`pixie_jax.models.registry.add_model_settings`)."""
    registry.add_model_settings(config)
    spec = registry.get(config)
    validation.validate(config, spec.rules, tuple(spec.choices) + optimizers.CHOICES + sharding.CHOICES + rows.CHOICES)
    if embedding:
        check_embedding(config, spec)
    return spec


def check_embedding(config, spec: ModelSpec) -> None:
    """``config.embedding`` must name kinds (or a+b concatenations) the model writes; checked before training."""
    missing = [p for p in config.embedding.split("+") if p not in spec.kinds]
    if missing:
        raise InputError(
            f"embedding {config.embedding!r}: model {spec.name!r} writes kinds {', '.join(spec.kinds)} "
            f"(or concatenations such as 'e+x'), not {missing[0]!r}"
        )


def sized_batch(
    config, data: TrainingData, spec: ModelSpec | None = None, log=None, recorded: tuple[int, int] | None = None
):
    """``config`` itself where it gives ``sampler.text_centres``; where that is 0 (the batch sized to the
    run), a copy with the text centres 2,048 (:data:`pixie_jax.training.loop.SIZED_TEXT_CENTRES`) and the visual
    centres ``sampler.visual_centres``, both times :func:`pixie_jax.training.loop.batch_scale`: about
    ``sampler.steps_per_run`` steps in the run's ``epochs`` passes over ``data``. A resumed run keeps the
    batch it started with: ``recorded`` (text, visual centres; :func:`pixie_jax.training.workdir.recorded_batch`),
    where given, is the copy's batch. ``log`` (if given) says which batch."""
    if config.sampler.text_centres:
        return config
    sized, target = config.copy_and_resolve_references(), config.sampler.get("steps_per_run", 0)
    if recorded:
        sized.sampler.text_centres, sized.sampler.visual_centres = recorded
        how = "the batch the resumed run started with"
    else:
        sized.sampler.text_centres = trainer.SIZED_TEXT_CENTRES[0]
        scale = trainer.batch_scale(registry.build_sampler(sized, data.n_visual, spec), data, config.epochs, target)
        sized.sampler.text_centres *= scale
        sized.sampler.visual_centres *= scale
        how = "the batch sized to the run"
    if not log:
        return sized
    batch = registry.build_sampler(sized, data.n_visual, spec)
    if batch.pairs_per_step:
        per_pass = trainer.steps_per_epoch(data, batch)
        log(
            f"{how}: {batch.text_centres:,} + {batch.visual_centres:,} centres a step, {per_pass:,} steps a pass, "
            f"about {round(per_pass * config.epochs):,} in {config.epochs:g} (sampler.steps_per_run = {target}; give "
            f"sampler.text_centres for a batch of your own)"
        )
    return sized


def sampler(config, data: TrainingData, spec: ModelSpec | None = None) -> sampling.SamplerConfig:
    """The batch the model ``config`` names draws on ``data`` (:func:`pixie_jax.models.registry.build_sampler` of
    the :func:`sized_batch` config)."""
    return registry.build_sampler(sized_batch(config, data, spec), data.n_visual, spec)


def trainable(config, data: TrainingData, spec: ModelSpec | ComposedSpec | None = None) -> Trainable:
    """The model ``config`` names (a composed model's base: :func:`pixie_jax.models.registry.trained`),
    built for ``data``'s vocabulary and bound to ``data`` and the run's batch (:attr:`ModelSpec.bind`),
    as the trainer takes it."""
    named = spec or registry.get(config)
    spec = registry.trained(named)
    bound = spec.bind(config, spec.build(config, len(data.vocab)), data, sampler(config, data, spec))
    text_only = named.name == pixie_model.SPEC.name and not data.n_visual  # PIXIE without features is SGNS
    return dataclasses.replace(bound, name="sgns" if text_only else named.name)


def setup(config, data: TrainingData, devices=None) -> trainer.PreparedRun:
    """:func:`pixie_jax.training.loop.setup` for the model ``config`` names (no checks, no workdir)."""
    config = sized_batch(config, data)
    return trainer.setup(config, trainable(config, data), data, devices)


def train(
    config,
    workdir,
    data: TrainingData | None = None,
    log=print,
    devices=None,
    on_pass=None,
    report_every: float = 1.0,
    given=(),
) -> tuple[dict, TrainingData]:
    """Train the model ``config`` names in ``workdir`` (:func:`pixie_jax.training.loop.fit`: resuming from its
    last checkpoint; ``on_pass`` and ``report_every`` as there), reading the data unless given; return
    (params, data). The config is checked first and the workdir locked for the run. A composed model
    trains its base, on the text alone. ``given``: the keys the user set
    (:func:`pixie_jax.training.workdir.recorded_defaults`)."""
    spec = check(config, embedding=False)
    with workdir_lib.locked(workdir):
        config = workdir_lib.recorded_defaults(config, workdir, log, given)
        data = data or prepare_data(config, log)
        if isinstance(spec, ComposedSpec):
            data = text_only(config, data)
        config = sized_batch(config, data, spec, log, workdir_lib.recorded_batch(workdir))
        built = trainable(config, data, spec)
        return trainer.fit(config, workdir, built, data, log, devices, on_pass, report_every), data


def run(config, workdir, data: TrainingData | None = None, log=print, devices=None, given=()) -> Result:
    """Train the model ``config`` names in ``workdir`` (reading the data unless given), holding the
    workdir's lock (:func:`pixie_jax.training.workdir.locked`) from before the data is read. ``given``: the
    keys the user set (:func:`pixie_jax.training.workdir.recorded_defaults`)."""
    spec = check(config)
    with workdir_lib.locked(workdir):
        return _run(config, spec, workdir, data, log, devices, given)


def _run(config, spec, workdir, data, log, devices, given=()) -> Result:
    config = workdir_lib.recorded_defaults(config, workdir, log, given)
    data = data or prepare_data(config, log)
    visual_only = None
    if isinstance(spec, ComposedSpec):  # the base's arrays (trained on the text, or existing), then its step
        arrays = spec.existing(config, data, log) if spec.existing else None
        if arrays is None:
            arrays, _ = _fit(config, spec, text_only(config, data), data, workdir, log, devices)
        kept = {k: a for k, a in arrays.items() if k in spec.kinds or k == "mask"}
        arrays = spec.then(config, kept, stream_keys(config.seed), log)
    else:
        arrays, visual_only = _fit(config, spec, data, data, workdir, log, devices)
    kinds = spec.scored_kinds if data.n_visual else ("e",)
    return Result(arrays, data, kinds, visual_only)


def _fit(config, spec, trained_on: TrainingData, data: TrainingData, workdir, log, devices):
    """Train ``spec``'s model (a composed model's base) on ``trained_on``; its arrays over ``data``'s
    vocabulary, and the arrays of the words with features but no text (None where there are none)."""
    config = sized_batch(config, trained_on, spec, log, workdir_lib.recorded_batch(workdir))
    built = trainable(config, trained_on, spec)
    params = trainer.fit(config, workdir, built, trained_on, log, devices)
    base = registry.trained(spec)
    arrays = base.arrays(built.model, params, data)
    visual_only = None
    if base.visual_only and data.visual_only_words and data.scaling is not None:
        visual_only = base.visual_only(built.model, params, data)
    return arrays, visual_only


def run_and_write(config, workdir, log=print, devices=None, given=()) -> Result:
    """:func:`run`, then :func:`pixie_jax.outputs.write_outputs`, under one hold of the workdir's lock."""
    spec = check(config)
    with workdir_lib.locked(workdir):
        result = _run(config, spec, workdir, None, log, devices, given)
        if jax.process_index() == 0:  # one writer in a multi-process run
            outputs.write_outputs(
                config, workdir, result.arrays, result.data, result.kinds, result.visual_only, log=log
            )
    return result
