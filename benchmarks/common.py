"""What the throughput scripts share: the base config with the command line's corpus and batch, the
prepared data with and without features, and a line naming the machine."""
from __future__ import annotations

import os
import platform

import jax

from pixie_jax import experiment, overrides, train


def prepare(args):
    """(config, data, data without features) for ``args.corpus``, ``args.features``, ``args.text_centres``,
    ``args.visual_centres``; configs/pixie.py otherwise."""
    base = overrides.load_config("pixie")
    base.corpus, base.features, base.progress = args.corpus, args.features, False
    base.sampler.text_centres, base.sampler.visual_centres = args.text_centres, args.visual_centres
    data = train.prepare_data(base, log=lambda *a: None)
    return base, data, experiment.text_only(base, data)


def machine() -> str:
    return (f"{platform.machine()}, {os.cpu_count()} cores, jax {jax.__version__} on "
            f"{jax.devices()[0].device_kind} x{len(jax.devices())}")
