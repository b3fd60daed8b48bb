"""The optimizers of a config: one for the embedding tables e and v (a dense optax transformation, or
a row-sparse rule of :mod:`pixie_jax.training.sparse` that updates only the rows a step touches) and one for
every other parameter (encoder, decoder, fusion, maps), each on the config's schedule."""

from __future__ import annotations

import math

import optax

from pixie_jax.errors import InputError
from pixie_jax.training import sparse

_OPTIMIZERS = {
    "adam": optax.adam,
    "adamw": optax.adamw,
    "sgd": optax.sgd,
    "adagrad": optax.adagrad,
    "rmsprop": optax.rmsprop,
    "lamb": optax.lamb,
}


TABLE_NAMES = (*_OPTIMIZERS, *sparse.OPTIMIZERS)  # optimizer.name's choices
# the tables' rate where optimizer.learning_rate is 0: word2vec's 0.025 for its own rule, 1e-2 for the rest
# (measured, 3 passes of the bundled corpus, SGNS: sparse_sgd MEN 0.337 at 0.025 against 0.197 at 1e-2)
DEFAULT_RATES = {"sparse_sgd": 0.025}
DEFAULT_RATE = 1e-2


def table_rate(config) -> float:
    """The tables' learning rate: ``optimizer.learning_rate``, or where it is 0 the optimizer's own
    (:data:`DEFAULT_RATES`, else :data:`DEFAULT_RATE`)."""
    o = config.optimizer
    return float(o.learning_rate) or DEFAULT_RATES.get(o.name, DEFAULT_RATE)


NETWORK_NAMES = tuple(_OPTIMIZERS)  # optimizer.network_name's
CHOICES = (("optimizer.name", TABLE_NAMES), ("optimizer.network_name", NETWORK_NAMES))


def _schedule(rate: float, schedule: str, total_steps: int):
    if schedule == "constant":
        return rate
    if schedule == "linear":  # word2vec's decay, to 1e-4 of the start
        return optax.linear_schedule(rate, rate * 1e-4, max(total_steps, 1))
    raise InputError(f"optimizer schedule must be 'constant' or 'linear', got {schedule!r}")


def _named(name: str, rate, adam: dict | None = None) -> optax.GradientTransformation:
    if name in sparse.OPTIMIZERS:
        raise InputError(
            f"optimizer {name!r} updates table rows only: use it as optimizer.name, and one of "
            f"{sorted(_OPTIMIZERS)} as optimizer.network_name"
        )
    if name not in _OPTIMIZERS:
        raise InputError(
            f"unknown optimizer {name!r}; choose one of {sorted(_OPTIMIZERS)} "
            f"(or for the tables {', '.join(sparse.OPTIMIZERS)})"
        )
    if name in ("adam", "adamw"):
        return _OPTIMIZERS[name](rate, **(adam or {}))
    return _OPTIMIZERS[name](rate)


def _adam(o) -> dict:
    """The tables' Adam settings (adam, adamw, lazy_adam) ``b1``, ``b2``, ``eps`` (``optimizer.adam_b1``,
    ``adam_b2``, ``adam_eps``; optax's 0.9, 0.999, 1e-8 for a config written before a setting existed)."""
    return {
        "b1": float(o.get("adam_b1", 0.9)),
        "b2": float(o.get("adam_b2", 0.999)),
        "eps": float(o.get("adam_eps", 1e-8)),
    }


def _parse_tables(key: str, text: str, names, value: bool) -> dict:
    """``NAME`` or ``NAME:VALUE`` entries, comma-separated, each NAME one of ``names``."""
    parsed = {}
    for part in (p.strip() for p in text.split(",")):
        if not part:
            continue
        name, sep, number = part.partition(":")
        if name not in names or bool(sep) != value:
            form = "NAME:MULTIPLE" if value else "NAME"
            raise InputError(
                f"{key}: {part!r} is not {form} with NAME one of the row tables {', '.join(names)} (got {text!r})"
            )
        parsed[name] = _multiple(key, part, number) if value else True
    return parsed


def _multiple(key: str, part: str, number: str) -> float:
    try:
        multiple = float(number)
    except ValueError:
        multiple = math.nan
    if not 0 < multiple < math.inf:
        raise InputError(f"{key}: {part!r} must give a positive finite multiple of the tables' rate")
    return multiple


def table_rate_multiples(config, names) -> dict[str, float]:
    """``optimizer.table_rates``: the tables whose rate is a multiple of :func:`table_rate`, as
    ``'v:0.5'`` or ``'e:2,v:0.5'`` (a table it does not name: 1); '' for none."""
    return _parse_tables("optimizer.table_rates", str(config.optimizer.get("table_rates", "")), tuple(names), True)


def lazy_tables(config, names) -> tuple[str, ...]:
    """``optimizer.lazy_tables``: with ``lazy_adam``, the tables updated at the rows a step touches only
    (``'e'``, ``'v'``, ``'e,v'``); the others get dense Adam from the same row gradients. '' for every table."""
    text = str(config.optimizer.get("lazy_tables", ""))
    named = tuple(_parse_tables("optimizer.lazy_tables", text, tuple(names), False))
    if named and config.optimizer.name != "lazy_adam":
        raise InputError(f"optimizer.lazy_tables = {text!r} applies to optimizer.name = 'lazy_adam' only")
    return named or tuple(names)


def network_optimizer(config, total_steps: int = 1) -> optax.GradientTransformation:
    """``optimizer.network_name`` at ``optimizer.network_learning_rate`` on the config's schedule."""
    o = config.optimizer
    return _named(o.network_name, _schedule(o.network_learning_rate, o.schedule, total_steps))


def is_sparse(config) -> bool:
    """Whether ``optimizer.name`` updates only the table rows a step touches (:mod:`pixie_jax.training.sparse`)."""
    return config.optimizer.name in sparse.OPTIMIZERS


def table_optimizer(config, total_steps: int, examples_per_step: int, table_names=()) -> sparse.TableOptimizer:
    """``sparse_sgd`` (its rate applies to the gradient of the step's summed example losses, as word2vec's
    to a pair's: ``examples_per_step`` scales it) or ``lazy_adam`` (on :func:`lazy_tables`), at
    :func:`table_rate` on the config's schedule, times :func:`table_rate_multiples` for ``table_names``."""
    o = config.optimizer
    rate = _schedule(table_rate(config), o.schedule, total_steps)
    multiples, lazy = table_rate_multiples(config, table_names), lazy_tables(config, table_names)
    if o.name == "sparse_sgd":
        return sparse.sgd(rate, scale=float(examples_per_step), multiples=multiples)
    dense = tuple(k for k in table_names if k not in lazy)
    return sparse.lazy_adam(rate, **_adam(o), multiples=multiples, dense=dense)


def build_optimizer(config, total_steps: int, table_names) -> optax.GradientTransformation:
    """``optimizer.name`` for the row tables ``table_names`` (PIXIE's e and v); :func:`network_optimizer`
    for every other parameter (encoder, decoder, fusion, maps; Adam 1e-3 in the paper, for all
    parameters). Dense table optimizers only; for the sparse ones see :func:`table_optimizer`."""
    o = config.optimizer
    lazy_tables(config, table_names)  # refuses lazy_tables here
    multiples = table_rate_multiples(config, table_names)
    at = lambda multiple: _named(o.name, _schedule(table_rate(config) * multiple, o.schedule, total_steps), _adam(o))  # noqa: E731
    transforms = {"tables": at(1.0), "networks": network_optimizer(config, total_steps)}
    transforms |= {f"tables:{k}": at(m) for k, m in multiples.items()}

    def label(params):
        return {k: (f"tables:{k}" if k in multiples else "tables") if k in table_names else "networks" for k in params}

    return optax.multi_transform(transforms, label)
