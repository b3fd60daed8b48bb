"""VAE: PIXIE's encoder and decoder trained on the visual features alone (no text; docs/baselines.md).
The embedding of a visual word is mu_phi(x_w) (kind mu). The corpus is read only for its
vocabulary, so that the VAE sees exactly the visual words PIXIE sees.
"""

import pathlib
import runpy

from pixie_jax.models import registry

_PIXIE = runpy.run_path(str(pathlib.Path(__file__).with_name("pixie.py")))


def get_config():
    return registry.configure(_PIXIE["get_config"](), "vae")  # the model's settings: pixie_jax/models/vae.py
