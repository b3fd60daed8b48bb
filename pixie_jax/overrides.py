"""Config files and dotted-key overrides, shared by the command line, the benchmarks and the tests.

An override is 'KEY=VALUE' (on the command line ``--config.KEY=VALUE``): the value is cast to the
type of the key's current value ('True'/'False' for booleans; for tuples, comma-separated items or a
Python list or tuple literal).
"""

from __future__ import annotations

import ast
import runpy
from pathlib import Path

import ml_collections

from pixie_jax.errors import InputError, add_user_file

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
    if path.resolve().parent != CONFIGS:
        add_user_file(path)
    try:
        namespace = runpy.run_path(str(path))
    except SyntaxError as err:
        raise ConfigFileError(f"{path}: line {err.lineno}: {err.msg}; fix the config file") from None
    expected = "a config file defines get_config() returning an ml_collections.ConfigDict (see configs/pixie.py)"
    if not callable(namespace.get("get_config")):
        raise ConfigFileError(f"{path}: defines no get_config(); {expected}")
    config = namespace["get_config"]()
    if not isinstance(config, ml_collections.ConfigDict):
        raise ConfigFileError(f"{path}: get_config() returned {type(config).__name__}, not a ConfigDict; {expected}")
    return config


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
        return type(old)(_items(key, text))
    if isinstance(old, bool):
        if text not in ("True", "False"):
            raise InputError(f"{key} takes True or False, got {text!r}")
        return text == "True"
    return type(old)(text)


def _items(key: str, text: str) -> list:
    """The items of a list setting: a Python list or tuple literal (``('a', 'b')``, ``[1, 2]``), or
    comma-separated items (``a,b``; surrounding spaces and quotes dropped)."""
    text = text.strip()
    if text and text[0] in "([":
        try:
            value = ast.literal_eval(text)
        except (ValueError, SyntaxError):
            raise InputError(
                f"{key}: {text!r} is not a Python list or tuple; give one, e.g. ('a', 'b'), or comma-separated items, "
                f"e.g. a,b"
            ) from None
        if not isinstance(value, (list, tuple)):
            raise InputError(f"{key}: {text!r} is a {type(value).__name__}, not a list or tuple")
        return list(value)
    items = (item.strip() for item in text.split(","))
    return [
        item[1:-1] if len(item) > 1 and item[0] == item[-1] and item[0] in "'\"" else item for item in items if item
    ]


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
