"""Orbax checkpoints of the training state: save every N steps, keep the last k, resume exactly."""
from __future__ import annotations

from pathlib import Path

import jax
import numpy as np
import orbax.checkpoint as ocp

from pixie_jax.errors import ProjectError


class CheckpointError(ProjectError):
    """A checkpoint that is missing or cannot be read."""


def manager(directory: str | Path, keep: int = 3) -> ocp.CheckpointManager:
    options = ocp.CheckpointManagerOptions(max_to_keep=keep, create=True, enable_async_checkpointing=False)
    return ocp.CheckpointManager(Path(directory).absolute(), options=options)


def save(mgr: ocp.CheckpointManager, step: int, state) -> None:
    mgr.save(step, args=ocp.args.StandardSave(jax.device_get(state)))
    mgr.wait_until_finished()


def restore(mgr: ocp.CheckpointManager, like, step: int | None = None):
    """Restore ``step`` (default: the latest) into the structure of ``like``; return (state, step)."""
    step = mgr.latest_step() if step is None else step
    if step is None or step not in mgr.all_steps():
        raise CheckpointError(f"{mgr.directory}: no checkpoint for step {step} (have {list(mgr.all_steps())})")
    abstract = jax.tree.map(lambda x: np.zeros(np.shape(x), np.asarray(x).dtype) if hasattr(x, "shape") else x,
                            jax.device_get(like))
    try:
        state = mgr.restore(step, args=ocp.args.StandardRestore(abstract))
    except Exception as err:  # orbax raises many kinds; all mean the same to a user
        raise CheckpointError(
            f"{mgr.directory}/{step}: the checkpoint cannot be read ({type(err).__name__}: {err}). "
            f"Delete that folder to resume from an earlier one, or start a fresh --workdir") from err
    return state, step
