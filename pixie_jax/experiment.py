"""Run the model a config names (``config.model.name``, :mod:`pixie_jax.registry`) and collect its
embedding arrays; :func:`run_and_write` also writes them (:mod:`pixie_jax.outputs`)."""
from __future__ import annotations

import dataclasses

import jax

from pixie_jax import outputs, registry, train, validation, workdir as workdir_lib
from pixie_jax.data import TrainingData, prepare_data, text_only
from pixie_jax.streams import stream_keys


@dataclasses.dataclass
class Result:
    arrays: dict                 # kind -> [V, d] over data.vocab, and 'mask'
    data: TrainingData
    kinds: tuple[str, ...]       # the kinds worth scoring
    visual_only: dict | None = None  # arrays for the words with features but no text


def check_embedding(config) -> None:
    """``config.embedding`` must name kinds (or a+b concatenations) the model writes; checked before training."""
    spec = registry.get(config)
    missing = [p for p in config.embedding.split("+") if p not in spec.kinds]
    if missing:
        raise ValueError(f"embedding {config.embedding!r}: model {spec.name!r} writes kinds {', '.join(spec.kinds)} "
                         f"(or concatenations such as 'e+x'), not {missing[0]!r}")


def run(config, workdir, data: TrainingData | None = None, log=print, devices=None) -> Result:
    """Train the model ``config`` names in ``workdir`` (reading the data unless given), holding the
    workdir's lock (:func:`pixie_jax.workdir.locked`) from before the data is read."""
    spec = _checked(config)
    with workdir_lib.locked(workdir):
        return _run(config, spec, workdir, data, log, devices)


def _checked(config) -> registry.ModelSpec:
    """The config's values and embedding kinds checked before anything is read; its model's spec."""
    validation.validate(config)
    check_embedding(config)
    return registry.get(config)


def _run(config, spec, workdir, data, log, devices) -> Result:
    data = data or prepare_data(config, log)
    arrays = spec.pretrained(config, data, log) if spec.pretrained else None
    visual_only = None
    if arrays is None:
        params, _ = train.train(config, workdir, data=text_only(config, data) if spec.text_only else data, log=log,
                                devices=devices)
        model = spec.build(config, len(data.vocab))
        arrays = spec.arrays(model, params, data)
        if spec.visual_only and data.visual_only_words and data.scaling is not None:
            visual_only = spec.visual_only(model, params, data)
    if spec.finish:
        arrays = spec.finish(config, arrays, stream_keys(config.seed), log)
    kinds = spec.scored if data.n_visual else ("e",)
    return Result(arrays, data, kinds, visual_only)


def run_and_write(config, workdir, log=print, devices=None) -> Result:
    """:func:`run`, then :func:`pixie_jax.outputs.write_outputs`, under one hold of the workdir's lock."""
    spec = _checked(config)
    with workdir_lib.locked(workdir):
        result = _run(config, spec, workdir, None, log, devices)
        if jax.process_index() == 0:  # one writer in a multi-process run
            outputs.write_outputs(config, workdir, result.arrays, result.data, result.kinds, result.visual_only,
                                  log=log)
    return result
