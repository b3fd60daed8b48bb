"""VAE: PIXIE's encoder and decoder trained on the visual features alone (no text; docs/baselines.md).
The embedding of a visual word is mu_phi(x_w) (kind mu). The corpus is read only for its
vocabulary, so that the VAE sees exactly the visual words PIXIE sees.
"""
import pathlib
import runpy

import ml_collections

_PIXIE = runpy.run_path(str(pathlib.Path(__file__).with_name("pixie.py")))


def get_config():
    c = _PIXIE["get_config"]()
    c.model.name = "vae"
    c.vae = ml_collections.ConfigDict()
    c.vae.steps = 4000         # of sampler.visual_words words each, about as many as PIXIE's default run takes
    c.embedding = "mu"
    return c
