"""IV-SGNS (Collell et al., 2017; docs/baselines.md): SGNS, then a ridge regression from e_w to the
visual features x_w fitted on the visual words; every word is embedded as [e_w, f(e_w)], each
part L2-normalised (kind e+fx). configs/ivsgns_nonlinear.py uses a one-hidden-layer network.
--config.ivsgns.sgns=run/embeddings.npz fits the map on existing SGNS embeddings instead of training.
"""

import pathlib
import runpy

from pixie_jax.models import registry

_PIXIE = runpy.run_path(str(pathlib.Path(__file__).with_name("pixie.py")))


def get_config():
    return registry.configure(_PIXIE["get_config"](), "ivsgns")  # the model's settings: pixie_jax/models/ivsgns.py
