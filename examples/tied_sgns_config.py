"""SGNS with one tied table (examples/tied_sgns.py) on the bundled corpus, configs/sgns.py's recipe."""

from pathlib import Path

from pixie_jax.overrides import load_config


def get_config():
    c = load_config("sgns")
    c.model.name = str(Path(__file__).resolve().with_name("tied_sgns.py"))
    return c
