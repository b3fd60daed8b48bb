"""The arguments every config-driven command shares: ``--config FILE``, ``--workdir`` and
``--config.KEY=VALUE`` overrides of the file's settings."""

from __future__ import annotations

import argparse
import sys


def config_parser(description: str, config_help: str, workdir: str) -> argparse.ArgumentParser:
    """A parser with ``--config FILE`` (required) and ``--workdir``; ``--config.KEY=VALUE`` items
    override the file's settings (:func:`parse_config`)."""
    parser = argparse.ArgumentParser(
        description=description,
        epilog="--config.KEY=VALUE (or --config.KEY VALUE) overrides a setting of "
        "the config file, e.g. --config.epochs=1",
    )
    parser.add_argument("--config", required=True, help=config_help)
    parser.add_argument("--workdir", default=workdir, help="default: %(default)s")
    return parser


def parse_config(parser: argparse.ArgumentParser, argv=None):
    """(args, config): the config file's ``get_config()`` with the command line's overrides applied; ``args.given``
    holds the keys the command line set."""
    from pixie_jax import overrides

    args, extra = parser.parse_known_args(argv)
    items, rest = [], iter(extra)
    for arg in rest:
        if not arg.startswith("--config."):
            parser.error(f"unrecognised argument {arg!r}; overrides look like --config.KEY=VALUE")
        key, sep, value = arg[len("--config.") :].partition("=")
        if not sep:
            value = next(rest, None)
            if value is None:
                parser.error(f"{arg} needs a value")
        items.append((key, value))
    try:
        config = overrides.load_config(args.config)
    except overrides.ConfigFileError as err:
        sys.exit(f"error: {err}")
    except OSError as err:
        sys.exit(f"error: cannot read the config file {args.config}: {err.strerror or err}")
    first = [item for item in items if item[0] == "model.name"]  # the model, then its own settings' section
    set_items(args, config, first)
    from pixie_jax.models import registry

    registry.add_model_settings(config)
    set_items(args, config, [item for item in items if item[0] != "model.name"])
    args.given = tuple(key for key, _ in items)  # the settings given on the command line
    return args, config


def set_items(args, config, items) -> None:
    """Each (KEY, VALUE) of the command line set in ``config``, typed as the key's default; one line for a
    key the config lacks (its valid keys listed) or a value of the wrong type."""
    from pixie_jax import overrides

    for key, value in items:
        try:
            overrides.set_value(config, key, overrides.typed(config, key, value))
        except KeyError:
            from pixie_jax.validation import REPLACED

            if key in REPLACED:
                sys.exit(f"error: --config.{key}: no longer read ({REPLACED[key]})")
            sys.exit(
                f"error: {args.config} has no key {key!r}. Valid keys:\n  " + "\n  ".join(overrides.flat_keys(config))
            )
        except (ValueError, TypeError) as err:
            sys.exit(f"error: --config.{key}={value}: {err}")
