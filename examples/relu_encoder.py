"""A research variant in one line: PIXIE with ReLU units in its encoder and decoder.

bin/train --config configs/pixie.py --config.model.name=examples/relu_encoder.py --workdir runs/relu
"""

import dataclasses

import jax

from pixie_jax.models import pixie

SPEC = dataclasses.replace(
    pixie.SPEC, name="pixie_relu", build=lambda config, size: pixie.build(config, size)._replace(activation=jax.nn.relu)
)
