"""V-SGNS (Lazaridou et al., 2015, multimodal skip-gram model A; docs/baselines.md): SGNS plus a
max-margin term pulling e_w towards a fixed K-dim projection of x_w for every occurrence of a
visual word. Same corpus, features, sampler and optimizer as configs/pixie.py.
--config.vsgns.model=B learns a linear map M from the word space to the feature space instead.
"""

import pathlib
import runpy

from pixie_jax.models import registry

_PIXIE = runpy.run_path(str(pathlib.Path(__file__).with_name("pixie.py")))


def get_config():
    return registry.configure(_PIXIE["get_config"](), "vsgns")  # the model's settings: pixie_jax/models/vsgns.py
