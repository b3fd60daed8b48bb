"""Visual propagation (the paper's Table 3): train with and without the features of a held-out
subset of visual words, then score only the benchmark pairs made of two held-out words.

The paper holds out 2,000 of its 9,713 visual words (20.6%); here the default holds out the
same fraction of whatever visual words the features cover. Both runs share the seed, so the
only difference is the held-out features. In the run without them the held-out words have
m_w = 0, so their s and t embeddings carry only what propagated into e_w through shared contexts.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import numpy as np

from pixie_jax import experiment
from pixie_jax.data.training_data import TrainingData, prepare_data, visual_fields
from pixie_jax.errors import InputError
from pixie_jax.evaluate import kinds as kinds_lib
from pixie_jax.evaluate import similarity
from pixie_jax.files import atomic_write

PAPER_FRACTION = 2000 / 9713


def check_fraction(fraction: float) -> None:
    if not 0 < fraction < 1:
        raise InputError(
            f"the held-out fraction must be between 0 and 1 (exclusive), got {fraction}; the paper's "
            f"is {PAPER_FRACTION:.3f}"
        )


def choose_held_out(visual_words, fraction: float = PAPER_FRACTION, seed: int = 0) -> list[str]:
    """A random subset (sorted) of ``fraction`` (0 < fraction < 1) of the visual words."""
    check_fraction(fraction)
    words = sorted(visual_words)
    n = max(1, round(fraction * len(words)))
    rng = np.random.default_rng(seed)
    return sorted(rng.choice(words, size=n, replace=False).tolist())


@dataclasses.dataclass
class HeldOut:
    """A held-out subset of the visual words and the training data without their features."""

    words: list[str]  # sorted
    visual_words: int  # visual words before holding out
    in_subset: np.ndarray  # float32 [V]: 1 for the held-out words
    data_without: TrainingData


def hold_out(config, data: TrainingData, fraction: float = PAPER_FRACTION, seed: int = 0, log=print) -> HeldOut:
    """Choose the subset (:func:`choose_held_out`) and rebuild ``data``'s visual fields without it."""
    visual = [w for w, i in zip(data.vocab.words, data.vis_index) if i >= 0]
    if not visual:
        raise InputError("propagation needs visual features: set --config.features")
    held = choose_held_out(visual, fraction, seed)
    log(f"holding out the features of {len(held)} of {len(visual)} visual words (seed {seed})")
    cfg = config.copy_and_resolve_references()
    cfg.exclude_visual_words = tuple(held)
    held_set = set(held)
    in_subset = np.array([w in held_set for w in data.vocab.words], np.float32)
    return HeldOut(held, len(visual), in_subset, dataclasses.replace(data, **visual_fields(cfg, data.vocab, log)))


def train_both(config, workdir, data: TrainingData, held: HeldOut, log=print) -> dict:
    """{'with': all features, 'without': the held-out words' features left out}: the two runs'
    :class:`~pixie_jax.experiment.Result`, trained in ``workdir``/with and ``workdir``/without."""
    results = {}
    for name, exclude, run_data in (("with", (), data), ("without", tuple(held.words), held.data_without)):
        cfg = config.copy_and_resolve_references()
        cfg.exclude_visual_words = exclude
        results[name] = experiment.run(cfg, Path(workdir) / name, data=run_data, log=log)
    return results


def held_out_scores(runs: dict, held: HeldOut, benches, kinds=None) -> dict:
    """Spearman rho of each run's kinds on the benchmark pairs made of two held-out words."""
    results = {}
    for name, result in runs.items():
        words = result.data.vocab.words
        arrays = result.arrays | {"words": list(words)}
        for kind in kinds or result.kinds:
            scores = similarity.evaluate(words, kinds_lib.vectors(arrays, kind), held.in_subset, benches, ("visual",))
            results[f"{name}:{kind}"] = [dataclasses.replace(sc, setting="held-out") for sc in scores]
    return results


def run(config, workdir, fraction: float = PAPER_FRACTION, seed: int = 0, kinds=None, log=print) -> dict:
    """Train both models in ``workdir``/{with,without}, write propagation.json and .md, return the scores.

    ``kinds``: the kinds to score (default: those the model writes worth scoring, e.g. e, s, t for PIXIE)."""
    check_fraction(fraction)
    experiment.check(config)
    workdir = Path(workdir)
    data = prepare_data(config, log)
    held = hold_out(config, data, fraction, seed, log)
    benches = similarity.load_benchmarks(config.benchmarks or "bundled")
    results = held_out_scores(train_both(config, workdir, data, held, log), held, benches, kinds)
    table = similarity.format_table(results)
    log(table)
    with atomic_write(workdir / "propagation.json", "w") as f:
        json.dump(
            {
                "held_out": held.words,
                "visual_words": held.visual_words,
                "seed": seed,
                "scores": {k: [s.__dict__ for s in v] for k, v in results.items()},
            },
            f,
            indent=1,
        )
    with atomic_write(workdir / "propagation.md", "w") as f:
        f.write(
            f"# Visual propagation\n\nFeatures of {len(held.words)} of {held.visual_words} visual words held out "
            f"(seed {seed}); Spearman rho on benchmark pairs made of two held-out words "
            f"(pairs used in brackets as % of the file). `with`: trained with all features; `without`: "
            f"trained without the held-out words' features.\n\n```\n{table}\n```\n"
        )
    return results
