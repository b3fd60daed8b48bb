"""IV-SGNS with the nonlinear map: one tanh hidden layer, mean squared error, Adam (configs/ivsgns.py)."""

import pathlib
import runpy

_IVSGNS = runpy.run_path(str(pathlib.Path(__file__).with_name("ivsgns.py")))


def get_config():
    c = _IVSGNS["get_config"]()
    c.ivsgns.map = "nonlinear"
    return c
