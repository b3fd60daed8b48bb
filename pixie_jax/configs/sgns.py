"""SGNS: PIXIE without visual features (eq. 2), same corpus and sampler as configs/pixie.py."""

import pathlib
import runpy

_PIXIE = runpy.run_path(str(pathlib.Path(__file__).with_name("pixie.py")))


def get_config():
    c = _PIXIE["get_config"]()
    c.features = ""
    c.embedding = "e"
    return c
