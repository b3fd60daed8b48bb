"""Every numeric config value (and every setting with fixed choices) checked before any data is read
or anything compiles: every float finite, each value of :data:`RULES` in its range, each of
:data:`FRACTIONS` in [0, 1), and no setting that was replaced (:data:`REPLACED`).

A rule is (key, lowest allowed value, whether the lowest is allowed); a choice is (key, allowed values);
keys a config lacks are skipped. A model's own settings have their rules and choices in its spec
(:attr:`pixie_jax.models.spec.ModelSpec.rules`), passed in by the experiment. :func:`validate` raises one
:class:`ConfigError` naming every bad value with its valid range.
"""

from __future__ import annotations

import math

from pixie_jax.errors import InputError
from pixie_jax.overrides import flat_keys, get_value

RULES = (
    ("epochs", 0, False),
    ("steps_per_call", 1, True),
    ("checkpoint_every", 1, True),
    ("keep_checkpoints", 1, True),
    ("segment_tokens", 1000, True),
    ("min_count", 1, True),
    ("max_vocab", 0, True),
    ("subsample", 0, True),
    ("model.dim", 1, True),
    ("sampler.window", 1, True),
    ("sampler.contexts_per_centre", 1, True),
    ("sampler.negatives", 1, True),
    ("sampler.negative_group", 1, True),
    ("sampler.text_centres", 0, True),
    ("sampler.visual_centres", 0, True),
    ("sampler.steps_per_run", 0, True),
    ("sampler.visual_words", 0, True),
    ("sampler.samples", 1, True),
    ("optimizer.learning_rate", 0, True),  # 0: the optimizer's own (optimizers.table_rate)
    ("optimizer.network_learning_rate", 0, False),
    ("optimizer.adam_eps", 0, False),
)
# decay rates: in [0, 1)
FRACTIONS = ("optimizer.adam_b1", "optimizer.adam_b2")
# settings that were replaced or removed: a config of one's own written before still holding one would
# otherwise train silently without it
REPLACED = {
    "sampler.steps_per_pass": "replaced by sampler.steps_per_run (the steps of the whole run the sized batch "
    "aims at; configs/pixie.py: 3000)",
    "sampler.corpus_order": "removed: centres in corpus order collapse a batched trainer (docs/studies/per_pass.md)",
    "sampler.corpus_streams": "removed: it learned no more per pass than shuffled centres (docs/studies/per_pass.md)",
    "optimizer.row_cap": "removed with capped_sgd, which learned less per pass than the default "
    "(docs/studies/per_pass.md)",
}


CHOICES = (
    ("corpus_errors", ("strict", "replace", "ignore")),
    ("optimizer.schedule", ("constant", "linear")),
)


class ConfigError(InputError):
    """A config value outside its valid range."""


def _present(config, keys):
    """(key, value) of the ``keys`` that ``config`` has."""
    for key, *rule in keys:
        try:
            yield (key, get_value(config, key), *rule)
        except KeyError:
            continue


def validate(config, rules=(), choices=()) -> None:
    """Raise :class:`ConfigError` listing every value of ``config`` outside its range (:data:`RULES` and
    ``rules``, a model's own) or choices (:data:`CHOICES` and ``choices``)."""
    bad = [
        f"{key} = {value!r} (must be a finite number)"
        for key in flat_keys(config)
        for value in [get_value(config, key)]
        if isinstance(value, float) and not math.isfinite(value)
    ]
    for key, value, low, inclusive in _present(config, RULES + tuple(rules)):
        if value is None or isinstance(value, bool) or (isinstance(value, float) and not math.isfinite(value)):
            continue
        if inclusive and value < low:
            bad.append(f"{key} = {value!r} (must be >= {low})")
        elif not inclusive and value <= low:
            bad.append(f"{key} = {value!r} (must be > {low})")
    bad += [
        f"{key} = {value!r} (must be >= 0 and < 1)"
        for key, value in _present(config, [(k,) for k in FRACTIONS])
        if isinstance(value, (int, float)) and not 0 <= value < 1
    ]
    bad += [
        f"{key} = {value!r} (must be one of {', '.join(map(repr, allowed))})"
        for key, value, allowed in _present(config, CHOICES + tuple(choices))
        if value not in allowed
    ]
    bad += [
        f"{key} is no longer read ({REPLACED[key]}); take it out of the config"
        for key, _ in _present(config, [(k,) for k in REPLACED])
    ]
    if bad:
        raise ConfigError("invalid config: " + "; ".join(bad) + ". Set them with --config.KEY=VALUE")
