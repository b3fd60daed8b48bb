"""Every numeric config value checked before any data is read or anything compiles.

A rule is (key, lowest allowed value, whether the lowest is allowed); keys a config lacks (another
model's sections) are skipped. :func:`validate` raises one :class:`ConfigError` naming every bad value
with its valid range.
"""
from __future__ import annotations

from pixie_jax.overrides import get_value

RULES = (
    ("epochs", 0, False), ("steps_per_call", 1, True), ("checkpoint_every", 1, True),
    ("keep_checkpoints", 1, True), ("min_count", 1, True), ("max_vocab", 0, True), ("subsample", 0, True),
    ("model.dim", 1, True), ("model.hidden", 1, True), ("model.features", 1, True),
    ("sampler.window", 1, True), ("sampler.contexts_per_centre", 1, True), ("sampler.negatives", 1, True),
    ("sampler.negative_group", 1, True), ("sampler.text_centres", 1, True), ("sampler.visual_centres", 0, True),
    ("sampler.visual_words", 0, True), ("sampler.samples", 1, True), ("visual_weight", 0, True),
    ("optimizer.learning_rate", 0, False), ("optimizer.network_learning_rate", 0, False),
    ("vae.steps", 1, True), ("vsgns.negatives", 1, True), ("vsgns.gamma", 0, False),
    ("ivsgns.steps", 1, True), ("ivsgns.hidden", 1, True), ("ivsgns.ridge", 0, True),
)


class ConfigError(ValueError):
    """A config value outside its valid range."""


def validate(config) -> None:
    """Raise :class:`ConfigError` listing every value of ``config`` outside its range (see :data:`RULES`)."""
    bad = []
    for key, low, inclusive in RULES:
        try:
            value = get_value(config, key)
        except KeyError:
            continue
        if value is None or isinstance(value, bool):
            continue
        if inclusive and value < low:
            bad.append(f"{key} = {value!r} (must be >= {low})")
        elif not inclusive and value <= low:
            bad.append(f"{key} = {value!r} (must be > {low})")
    if bad:
        raise ConfigError("invalid config: " + "; ".join(bad) + ". Set them with --config.KEY=VALUE")
