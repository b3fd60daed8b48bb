"""What the trainer trains: a :class:`Trainable`, the protocol between a model and the trainer.

The trainer (:mod:`pixie_jax.training.step`, :mod:`pixie_jax.training.loop`) knows no model, no table and no model
setting. A model is handed to it as:

- ``model.init(key) -> params``: the parameter pytree, its row tables among them;
- ``tables``: its row tables and the rows a batch reads of each (:class:`pixie_jax.training.rows.RowTables`);
- ``sample(key, epoch, words, step) -> batch``: the batch of one step, drawn on the device from
  a key and the pass's data (:class:`pixie_jax.training.sampling.EpochData`,
  :class:`pixie_jax.training.sampling.WordArrays`);
- ``loss(params, rows, batch, features) -> (loss, metrics)``: its minibatch objective on the gathered
  rows, pre-weighted so that devices' shares of a batch add up, ``metrics['loss']`` among the metrics;
  every model-specific quantity (lambda, the VAE's draws) is bound in it.

A model's :attr:`pixie_jax.models.spec.ModelSpec.bind` makes one from the model it built and the run's
data and batch (:func:`pixie_jax.experiment.trainable`); a model of one's own can also be trained by
building one directly.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

import numpy as np

from pixie_jax.training.rows import RowTables
from pixie_jax.training.sampling import SamplerConfig


def feature_array(features: np.ndarray | None = None) -> np.ndarray:
    """The feature array a loss reads: ``features``, or where there are none (None, or no rows) a [1, 1]
    placeholder that no loss reads (the step always takes an array)."""
    return features if features is not None and features.shape[0] else np.zeros((1, 1), np.float32)


@dataclasses.dataclass(frozen=True)
class Trainable:
    """A model as the trainer sees it (the module says what each part is).

    ``sampler`` describes the batch ``sample`` draws from the skip-gram sampler's strata (its centres, for
    a pass's length and the checks of memory and devices); ``examples_per_step`` and ``example_unit``
    say what a step holds, for the logs, the throughput (``<unit>_per_s`` in metrics.jsonl) and a rate
    scaled by the batch (``sparse_sgd``'s): by default the skip-gram pairs of ``sampler``, a model of
    another objective gives its own (CBOW: its centres). ``features`` is the array the loss reads, put
    on the devices; ``total_steps`` a model's own length (None: ``config.epochs`` passes), set by its
    ``length_keys``; ``networks_learn``, whether parameters other than the row tables get a gradient (a
    row-sparse step skips their update otherwise)."""

    model: Any
    loss: Callable
    tables: RowTables
    sample: Callable
    sampler: SamplerConfig  # the skip-gram sampler's settings whose strata ``sample`` draws from
    features: np.ndarray = dataclasses.field(default_factory=lambda: feature_array())
    total_steps: int | None = None
    length_keys: tuple[str, ...] = ()  # its settings behind total_steps (pixie_jax.training.workdir.check_and_record)
    note: str = ""  # added to the first line the trainer logs (PIXIE: its lambda)
    networks_learn: bool = True
    name: str = "model"  # the name the trainer logs
    examples_per_step: int | None = None  # None: sampler.pairs_per_step
    example_unit: str = "pairs"  # what one example is, in the logs and metrics

    @property
    def step_examples(self) -> int:
        """The examples a step holds: ``examples_per_step``, or the skip-gram pairs of ``sampler``."""
        return self.sampler.pairs_per_step if self.examples_per_step is None else self.examples_per_step
