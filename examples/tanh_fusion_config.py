"""PIXIE with the tanh fusion of tanh_fusion.py, from the command line:

    bin/train --config examples/tanh_fusion_config.py --workdir runs/tanh

``model.name`` is the model's own file: the registry loads it and trains its ``SPEC``.
"""

from pathlib import Path

from pixie_jax.overrides import load_config


def get_config():
    c = load_config("pixie")
    c.model.name = str(Path(__file__).resolve().with_name("tanh_fusion.py"))
    return c
