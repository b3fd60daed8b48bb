"""A research variant in one file: PIXIE with a nonlinear fusion, f(e, v, z) = v . (e + tanh(z W)).

Import this file, then train it like any model: ``config.model.name = "pixie_tanh"``
(docs/adding_a_model.md). W [K, K] starts at the identity, so the variant starts near eq. (5).
"""

import dataclasses

import jax.numpy as jnp

from pixie_jax.core.model import Fusion, Pixie
from pixie_jax.models import pixie, registry

TANH = Fusion(init=lambda k: {"w": jnp.eye(k)}, combine=lambda p, e, z: e + jnp.tanh(z @ p["w"]))


def build(config, vocab_size: int) -> Pixie:
    m = config.model
    return Pixie(vocab_size, m.dim, m.features, m.hidden, TANH)


SPEC = registry.register(dataclasses.replace(pixie.SPEC, name="pixie_tanh", build=build))
