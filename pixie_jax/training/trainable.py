"""What the trainer trains: a :class:`Trainable`, the protocol between a model and the trainer.

The trainer (:mod:`pixie_jax.training.step`, :mod:`pixie_jax.training.loop`) knows no model, no table and no model
setting. A model is handed to it as:

- ``model.init(key) -> params``: the parameter pytree, its row tables among them;
- ``tables``: its row tables and the rows a batch reads of each (:class:`pixie_jax.training.rows.RowTables`);
- ``sample(key, epoch, words, step) -> batch``: the batch of one step, drawn on the device from
  a key and the pass's data (:class:`pixie_jax.training.sampling.EpochData`,
  :class:`pixie_jax.training.sampling.WordArrays`);
- ``counts``: what a step holds (:class:`StepCounts`), by default the skip-gram sampler's;
- ``loss(params, rows, batch, features) -> (loss, metrics)``: its minibatch objective on the gathered
  rows, pre-weighted so that devices' shares of a batch add up, ``metrics['loss']`` among the metrics;
  every model-specific quantity (lambda, the VAE's draws) is bound in it.

A model's :attr:`pixie_jax.models.spec.ModelSpec.bind` makes one from the model it built and the run's
data and batch (:func:`pixie_jax.experiment.trainable`); a model of one's own can also be trained by
building one directly.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable
from typing import Any

import numpy as np

from pixie_jax.errors import InputError
from pixie_jax.training.rows import RowTables
from pixie_jax.training.sampling import SamplerConfig


def feature_array(features: np.ndarray | None = None) -> np.ndarray:
    """The feature array a loss reads: ``features``, or where there are none (None, or no rows) a [1, 1]
    placeholder that no loss reads (the step always takes an array)."""
    return features if features is not None and features.shape[0] else np.zeros((1, 1), np.float32)


@dataclasses.dataclass(frozen=True)
class StepCounts:
    """What one step holds, as the trainer counts it; a model states its own or takes the skip-gram
    sampler's (:func:`skipgram_counts`).

    ``examples`` and ``unit``: what a step holds, for the first line, the throughput (``<unit>_per_s`` in
    metrics.jsonl) and a rate scaled by the batch (``sparse_sgd``'s applies to the step's summed example
    losses). ``per_token``: the examples a pass holds per token kept by subsampling, so that a pass is
    ceil(kept x per_token / examples) steps; 0 for a model that does not read the corpus (its length is
    its own, :attr:`Trainable.total_steps`). ``centres``: the corpus positions a step draws (a pass must
    keep at least as many). ``rows``: the table rows a step gathers (with their gradients, a lower bound of
    its memory; also what sharding the tables saves). ``splits``: (setting, count, multiple, why) for each
    part of the batch split over the devices: the count must be a multiple of the devices times
    ``multiple``."""

    examples: int
    unit: str = "pairs"
    per_token: float = 0
    centres: int = 0
    rows: int = 0
    splits: tuple[tuple[str, int, int, str], ...] = ()

    def steps_per_pass(self, kept_tokens: float) -> int | None:
        """ceil(kept tokens x per_token / examples), at least 1; None where the model reads no corpus."""
        if not self.per_token:
            return None
        return max(1, math.ceil(kept_tokens * self.per_token / self.examples))

    @property
    def metric(self) -> str:
        """metrics.jsonl's throughput key: ``<unit>_per_s``."""
        return f"{self.unit.replace(' ', '_')}_per_s"


def skipgram_counts(sampler: SamplerConfig) -> StepCounts:
    """The skip-gram sampler's counts: its pairs (L + 1 a kept token), its text and visual centres, the rows
    they gather (:attr:`pixie_jax.training.sampling.SamplerConfig.rows_per_step`); with no pairs (the VAE
    alone) its visual words, with no corpus to read."""
    packed = "enumerate_window packs the centres in pairs" if sampler.centres_per_row > 1 else ""
    splits = (
        ("sampler.text_centres", sampler.text_centres, sampler.centres_per_row, packed),
        ("sampler.visual_centres", sampler.visual_centres, sampler.centres_per_row, packed),
        ("sampler.visual_words", sampler.visual_words, 1, ""),
    )
    if not sampler.pairs_per_step:
        return StepCounts(sampler.visual_words, "visual words", splits=splits)
    centres = sampler.text_centres + sampler.visual_centres
    return StepCounts(sampler.pairs_per_step, "pairs", sampler.window + 1, centres, sampler.rows_per_step, splits)


@dataclasses.dataclass(frozen=True)
class Trainable:
    """A model as the trainer sees it (the module says what each part is).

    ``counts`` says what a step holds (:class:`StepCounts`: the examples for the logs, throughput and a
    rate scaled by the batch; the pass's length; the checks of data, memory and devices); None takes the
    skip-gram sampler's (:func:`skipgram_counts` of ``sampler``). ``sampler``: the skip-gram sampler's
    settings where ``sample`` draws from its strata (None for a model with a sampler of its own, which then
    states its ``counts``); with its ``shuffle``, each pass's tokens come in a random order.
    ``features`` is the array the loss reads, put on the devices; ``total_steps`` a model's own length
    (None: ``config.epochs`` passes), set by its ``length_keys``; ``networks_learn``, whether parameters
    other than the row tables get a gradient (a row-sparse step skips their update otherwise)."""

    model: Any
    loss: Callable
    tables: RowTables
    sample: Callable
    sampler: SamplerConfig | None  # the skip-gram sampler's settings whose strata ``sample`` draws from
    features: np.ndarray = dataclasses.field(default_factory=lambda: feature_array())
    total_steps: int | None = None
    length_keys: tuple[str, ...] = ()  # its settings behind total_steps (pixie_jax.training.workdir.check_and_record)
    note: str = ""  # added to the first line the trainer logs (PIXIE: its lambda)
    networks_learn: bool = True
    name: str = "model"  # the name the trainer logs
    counts: StepCounts | None = None  # None: skipgram_counts(sampler)

    def __post_init__(self):
        if self.counts is None and self.sampler is None:
            raise InputError(f"{self.name}: a trainable without the skip-gram sampler states its StepCounts")

    @property
    def step_counts(self) -> StepCounts:
        """``counts``, or the skip-gram sampler's."""
        return self.counts if self.counts is not None else skipgram_counts(self.sampler)

    @property
    def shuffle(self) -> bool:
        """Whether a pass's tokens come in a random order (the sampler's ``shuffle``; False without one)."""
        return bool(self.sampler is not None and self.sampler.shuffle)
