"""Config files and dotted-key overrides, shared by the command line, the benchmarks and the tests.

An override is 'KEY=VALUE' (on the command line ``--config.KEY=VALUE``): the value is cast to the
type of the key's current value ('True'/'False' for booleans, comma-separated items for tuples).
"""

from __future__ import annotations

import runpy
from pathlib import Path

from pixie_jax.errors import InputError

CONFIGS = Path(__file__).resolve().parent / "configs"  # shipped in the package; configs/ of a checkout links here


class ConfigFileError(InputError):
    """A config file that cannot be found or read; the message names it and says what is wrong."""


def load_config(name_or_path: str):
    """``get_config()`` of the shipped config NAME (pixie_jax/configs/NAME.py, also configs/NAME.py of a
    source checkout) or of a config file's path."""
    path = Path(name_or_path)
    if path.is_dir():
        raise ConfigFileError(
            f"{path}: a folder, not a config file (a .py file with get_config(), or the name of one in {CONFIGS})"
        )
    if not path.suffix:
        path = CONFIGS / f"{name_or_path}.py"
    if not path.is_file():
        shipped = ", ".join(sorted(p.stem for p in CONFIGS.glob("*.py"))) or "none"
        raise ConfigFileError(f"{path}: no such config file (the configs by name: {shipped})")
    try:
        namespace = runpy.run_path(str(path))
    except SyntaxError as err:
        raise ConfigFileError(f"{path}: line {err.lineno}: {err.msg}; fix the config file") from None
    if not callable(namespace.get("get_config")):
        raise ConfigFileError(
            f"{path}: defines no get_config(); a config file defines get_config() returning an "
            f"ml_collections.ConfigDict (see configs/pixie.py)"
        )
    return namespace["get_config"]()


def _parent(config, key: str):
    """(the ConfigDict holding ``key``'s last part, that part); a key the config lacks raises KeyError."""
    *path, last = key.split(".")
    target = config
    for part in path + [last]:
        if not hasattr(target, "keys") or part not in target:
            raise KeyError(f"config has no key {key!r}")
        parent, target = target, target[part]
    return parent, last


def get_value(config, key: str):
    """``config.a.b`` for ``key = 'a.b'``; a key the config lacks raises KeyError naming it."""
    parent, last = _parent(config, key)
    return parent[last]


def set_value(config, key: str, value) -> None:
    """``config.a.b = value`` for ``key = 'a.b'``; a key the config lacks raises KeyError naming it."""
    parent, last = _parent(config, key)
    parent[last] = value


def flat_keys(config, prefix: str = "") -> list[str]:
    """Every leaf key of a ConfigDict, dotted: ['corpus', 'model.dim', ...]."""
    keys = []
    for key, value in config.items():
        keys += flat_keys(value, f"{prefix}{key}.") if hasattr(value, "items") else [prefix + key]
    return keys


def typed(config, key: str, text: str):
    """``text`` cast to the type of the current value of ``key``."""
    old = get_value(config, key)
    if hasattr(old, "items"):
        inner = flat_keys(old, f"{key}.")
        raise InputError(
            f"{key} is a section of settings, not a value; set one of its keys, e.g. "
            f"{inner[0] if inner else key + '.KEY'}=VALUE"
        )
    if isinstance(old, (tuple, list)):
        return type(old)(item for item in text.split(",") if item)
    if isinstance(old, bool):
        if text not in ("True", "False"):
            raise InputError(f"{key} takes True or False, got {text!r}")
        return text == "True"
    return type(old)(text)


def apply_overrides(config, items, only_present: bool = False):
    """Apply 'KEY=VALUE' strings to ``config`` (in place; returned). With ``only_present``, keys whose
    first section the config lacks are skipped (settings meant for another model's config)."""
    for item in items:
        key, sep, text = item.partition("=")
        if not sep:
            raise InputError(f"override {item!r} is not KEY=VALUE")
        if only_present and key.split(".")[0] not in config:
            continue
        set_value(config, key, typed(config, key, text))
    return config


def paper_settings() -> dict:
    """The paper's settings as configs/paper.py sets them over configs/pixie.py: {dotted key: value}."""
    return dict(runpy.run_path(str(CONFIGS / "paper.py"))["PAPER"])
