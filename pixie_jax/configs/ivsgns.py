"""IV-SGNS (Collell et al., 2017; docs/baselines.md): SGNS, then a ridge regression from e_w to the
visual features x_w fitted on the visual words; every word is embedded as [e_w, f(e_w)], each
part L2-normalised (kind e+fx). configs/ivsgns_nonlinear.py uses a one-hidden-layer network.
--config.ivsgns.sgns=run/embeddings.npz fits the map on existing SGNS embeddings instead of training.
"""
import pathlib
import runpy

import ml_collections

_PIXIE = runpy.run_path(str(pathlib.Path(__file__).with_name("pixie.py")))


def get_config():
    c = _PIXIE["get_config"]()
    c.model.name = "ivsgns"
    c.ivsgns = ml_collections.ConfigDict()
    c.ivsgns.map = "linear"          # or 'nonlinear'
    c.ivsgns.ridge = 1.0             # alpha of the linear map
    c.ivsgns.hidden = 300            # tanh units of the nonlinear map
    c.ivsgns.steps = 2000            # full-batch Adam steps of the nonlinear map
    c.ivsgns.learning_rate = 1e-3
    c.ivsgns.sgns = ""               # an embeddings.npz with kind e on the same vocabulary; '' trains SGNS
    c.embedding = "e+fx"
    return c
