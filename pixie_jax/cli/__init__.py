"""Command-line entry points: parse the arguments (argparse), call a library function, print. One module
per group of commands (train, visual, evaluate), beside how a command ends (running), the shared
arguments (arguments) and the processes of a run (processes, supervise).

Installed, they are the console scripts ``pixie-train``, ``pixie-evaluate``, ``pixie-propagation``,
``pixie-retrieval``, ``pixie-extract-features``, ``pixie-build-visual-features``,
``pixie-check-visual-sources`` and ``pixie-cache``; the scripts in bin/ call the same functions from a
source checkout.
"""

from pixie_jax.cli.arguments import config_parser, parse_config
from pixie_jax.cli.evaluate import evaluate_main, propagation_main, retrieval_main
from pixie_jax.cli.processes import check_distributed_args, interrupts_stop_at_once
from pixie_jax.cli.running import BUG, command, user_frame
from pixie_jax.cli.train import cache_main, train_main
from pixie_jax.cli.visual import build_visual_features_main, check_visual_sources_main, extract_features_main

__all__ = [
    "BUG",
    "build_visual_features_main",
    "cache_main",
    "check_distributed_args",
    "check_visual_sources_main",
    "command",
    "config_parser",
    "evaluate_main",
    "extract_features_main",
    "interrupts_stop_at_once",
    "parse_config",
    "propagation_main",
    "retrieval_main",
    "train_main",
    "user_frame",
]
