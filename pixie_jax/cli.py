"""Command-line entry points (the scripts in bin/ are thin wrappers around these)."""
from __future__ import annotations

import sys

from absl import app, flags
from ml_collections import config_flags


def _quiet():
    from absl import logging
    logging.set_verbosity(logging.WARNING)


def _train(argv):
    del argv
    _quiet()
    from pixie_jax import outputs, train
    cfg, workdir = flags.FLAGS.config, flags.FLAGS.workdir
    try:
        params, data = train.train(cfg, workdir)
    except (train.TrainingError, ValueError, OSError) as err:
        sys.exit(f"error: {err}")
    outputs.write_outputs(cfg, workdir, train.build_model(cfg, len(data.vocab)), params, data)


def train_main():
    config_flags.DEFINE_config_file("config", None, "a config file, e.g. configs/pixie.py", lock_config=True)
    flags.DEFINE_string("workdir", "runs/default", "where checkpoints, metrics and embeddings go")
    flags.mark_flags_as_required(["config"])
    app.run(_train)
