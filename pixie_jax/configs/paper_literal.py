"""configs/paper.py with the paper's literal optimizer: Adam 1e-3 constant for every parameter.

Warning: at this batch it learns almost nothing in a few passes (3 passes of the bundled corpus at
N = 64: MEN 0.058, against 0.460 with configs/paper.py's optimizer; docs/studies/per_pass.md). Kept
to reproduce the paper's setting as written.
"""

import pathlib
import runpy

_PAPER = runpy.run_path(str(pathlib.Path(__file__).with_name("paper.py")))


def get_config():
    c = _PAPER["get_config"]()
    c.optimizer.learning_rate = 1e-3
    c.optimizer.schedule = "constant"
    c.optimizer.adam_b2 = 0.999
    return c
