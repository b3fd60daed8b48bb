"""The fastText-style subword skip-gram (examples/subword.py) on the bundled corpus, configs/sgns.py's recipe."""

from pathlib import Path

from pixie_jax.overrides import load_config


def get_config():
    c = load_config("sgns")
    c.model.name = str(Path(__file__).resolve().with_name("subword.py"))
    return c
