"""Orbax checkpoints of the training state: save every N steps, keep the last k, resume exactly. Each
step's folder holds a checksum of the state it was written from (:data:`CHECKSUM`); a resume takes the
newest step that verifies, and moves a damaged one aside to ``damaged/``."""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import re
import shutil
import sys
import threading
import time
from pathlib import Path

import jax
import numpy as np
import orbax.checkpoint as ocp

from pixie_jax.errors import ProjectError
from pixie_jax.files import folder_bytes


class CheckpointError(ProjectError):
    """A checkpoint that is missing or cannot be read."""


CHECKSUM = "pixie_checksum.json"  # in a step's folder: {"sha256": state_digest of the state saved}
DAMAGED = "damaged"  # the folder (beside the steps) where a resume moves checkpoints that do not verify


def state_digest(state) -> str:
    """SHA-256 over ``state``'s leaves in tree order: each one's dtype, shape and bytes."""
    h = hashlib.sha256()
    for leaf in jax.tree.leaves(state):
        a = np.ascontiguousarray(np.asarray(leaf))
        h.update(f"{a.dtype.str}{a.shape}".encode())
        h.update(a.tobytes())
    return h.hexdigest()


def write_checksum(directory: str | Path, step: int, state) -> None:
    """Record :func:`state_digest` of ``state`` in the folder of ``step`` (after orbax has written it)."""
    path = Path(directory) / str(step) / CHECKSUM
    tmp = path.with_name(f".{CHECKSUM}.tmp")
    tmp.write_text(json.dumps({"sha256": state_digest(state)}), encoding="utf-8")
    os.replace(tmp, path)


def verify(directory: str | Path, step: int, state) -> None:
    """Raise :class:`CheckpointError` unless ``state``, restored from ``step``, has the digest recorded when
    it was written. A step written before checksums were recorded (no file) passes."""
    path = Path(directory) / str(step) / CHECKSUM
    if not path.exists():
        return
    try:
        recorded = json.loads(path.read_text(encoding="utf-8"))["sha256"]
    except (OSError, ValueError, KeyError, TypeError) as err:
        raise CheckpointError(f"{path}: its checksum record cannot be read ({err})") from None
    if state_digest(state) != recorded:
        raise CheckpointError(f"{Path(directory) / str(step)}: its arrays do not match the checksum written with them")


def manager(directory: str | Path, keep: int = 3) -> ocp.CheckpointManager:
    options = ocp.CheckpointManagerOptions(
        max_to_keep=keep, create=True, enable_async_checkpointing=False, cleanup_tmp_directories=True
    )
    mgr = ocp.CheckpointManager(Path(directory).absolute(), options=options)
    # orbax removes earlier runs' temporary folders in a thread of its own; a run stopped at once (Ctrl-C
    # at its first step) would leave that thread running into the interpreter's shutdown, where it fails
    # with a logged traceback. Let it finish here: it lists one folder.
    pending = getattr(mgr, "_cleanup_tmp_directory_future", None)
    if pending is not None:
        pending.result()
    return mgr


@contextlib.contextmanager
def _orbax_quiet():
    """Silence the tracebacks orbax's writer threads log before the failure reaches the caller."""
    logger = logging.getLogger("absl")
    level = logger.level
    logger.setLevel(logging.CRITICAL)
    try:
        yield
    finally:
        logger.setLevel(level)


class _MainThreadOnly:
    """A stream that drops what other threads write. After a failed write, tensorstore's writer threads
    print a traceback per cancelled write ('Event loop is closed'); the failure itself is raised, once."""

    def __init__(self, stream):
        self.stream = stream

    def write(self, text):
        return self.stream.write(text) if threading.current_thread() is threading.main_thread() else len(text)

    def __getattr__(self, name):
        return getattr(self.stream, name)


def check_space(directory: str | Path, state, latest: int | None = None) -> None:
    """Raise :class:`CheckpointError` unless the disk of ``directory`` has room for a checkpoint of
    ``state``: a tenth more than the checkpoint of step ``latest`` takes there (orbax compresses), or
    before any, the state's array bytes plus a fifth; and 1 MB for orbax's own files."""
    written = Path(directory) / str(latest)
    need = (
        1.1 * folder_bytes(written) if latest is not None and written.is_dir() else 1.2 * state_bytes(state)
    ) + 2**20
    free = shutil.disk_usage(Path(directory)).free
    if free < need:
        raise CheckpointError(
            f"{directory}: {free / 2**20:,.1f} MB free on its disk, a checkpoint needs about "
            f"{need / 2**20:,.1f} MB; free space or choose another --workdir, then run the same "
            f"command (training resumes from the last checkpoint kept)"
        )


def prune(mgr: ocp.CheckpointManager, keep: int) -> list[int]:
    """Delete all but the newest ``keep`` checkpoints (a run resumed with a lower keep_checkpoints, or
    one killed between a save and orbax's own clean-up); return the steps deleted."""
    gone = sorted(mgr.all_steps())[:-keep]
    for step in gone:
        mgr.delete(step)
    return gone


def save(mgr: ocp.CheckpointManager, step: int, state) -> None:
    """Write the checkpoint of ``step`` if the disk has room for it (:func:`check_space`); a write that
    fails all the same raises :class:`CheckpointError` and leaves no partial checkpoint (the earlier
    ones are kept). During a save, and after a failed one, only the main thread writes to stderr."""
    check_space(mgr.directory, state, mgr.latest_step())
    stderr = sys.stderr
    try:
        sys.stderr = _MainThreadOnly(stderr)
        with _orbax_quiet():
            host = jax.device_get(state)
            mgr.save(step, args=ocp.args.StandardSave(host))
            mgr.wait_until_finished()
            if jax.process_index() == 0:
                write_checksum(mgr.directory, step, host)
        sys.stderr = stderr
    except Exception as err:  # orbax and tensorstore raise many kinds (ValueError, OSError, ...) for one failure
        try:  # the writer threads that did not fail may still be writing: let them end before cleaning up
            mgr.wait_until_finished()
        except Exception:
            pass
        remove_partials(mgr)
        code = getattr(err, "errno", None) or next(iter(re.findall(r"os_error_code='(\d+)'", str(err))), None)
        reason = (
            f"{os.strerror(int(code))}, errno {code}"
            if code
            else (str(err).splitlines() or [type(err).__name__])[0][-300:]
        )
        kept = list(mgr.all_steps())
        raise CheckpointError(
            f"{mgr.directory}: cannot write the checkpoint of step {step} ({reason}); "
            f"{f'the checkpoint of step {max(kept)} is kept' if kept else 'no earlier checkpoint exists'}. Free "
            f"space on that disk (or choose another --workdir) and run the same command to resume"
        ) from err


def remove_partials(mgr: ocp.CheckpointManager, settle: float = 1.0, deadline: float = 30.0) -> None:
    """Delete the partial checkpoints (``N.orbax-checkpoint-tmp*``) a failed write left in ``mgr``'s folder;
    call when no write is in flight. A writer thread of the failed write may still add a file or a folder
    after a removal, so once there was one the folder is watched until none has appeared for ``settle``
    seconds (at most ``deadline`` seconds in all). Without partials it returns at once."""
    pattern = "*.orbax-checkpoint-tmp*"
    if not any(Path(mgr.directory).glob(pattern)):
        return
    quiet_since = time.monotonic()
    end = quiet_since + deadline
    while time.monotonic() < end:
        partials = list(Path(mgr.directory).glob(pattern))
        for partial in partials:
            shutil.rmtree(partial, ignore_errors=True)
        now = time.monotonic()
        if partials:
            quiet_since = now
        elif now - quiet_since >= settle:
            return
        time.sleep(0.1)


def state_bytes(state) -> int:
    """Bytes of the arrays of ``state``: about the size of one checkpoint."""
    return sum(getattr(x, "nbytes", 0) for x in jax.tree.leaves(state))


def restore(mgr: ocp.CheckpointManager, like, step: int | None = None):
    """Restore ``step`` (default: the latest) into the structure of ``like`` (arrays or
    jax.ShapeDtypeStruct); return (state on the host, step)."""
    step = mgr.latest_step() if step is None else step
    if step is None or step not in mgr.all_steps():
        raise CheckpointError(f"{mgr.directory}: no checkpoint for step {step} (have {list(mgr.all_steps())})")
    abstract = jax.tree.map(lambda x: np.zeros(x.shape, x.dtype) if hasattr(x, "shape") else x, like)
    try:
        state = mgr.restore(step, args=ocp.args.StandardRestore(abstract))
    except Exception as err:  # orbax raises many kinds; all mean the same to a user
        raise CheckpointError(
            f"{mgr.directory}/{step}: the checkpoint cannot be read ({type(err).__name__}: {err}). "
            f"Delete that folder to resume from an earlier one, or start a fresh --workdir"
        ) from err
    return state, step


def restore_verified(mgr: ocp.CheckpointManager, like, log=print):
    """The newest checkpoint that reads and verifies (:func:`verify`): (state on the host, step), or
    (None, None) where none does. Each newer step that fails is named in one line of ``log`` and moved
    to ``damaged/`` beside the steps (by process 0), so that the run continues from the one restored."""
    restored = None
    damaged = []
    for step in sorted(mgr.all_steps(), reverse=True):
        try:
            state, _ = restore(mgr, like, step)
        except CheckpointError as err:
            cause = err.__cause__ or err
            damaged.append((step, f"it cannot be read: {type(cause).__name__}: {str(cause).splitlines()[0][:200]}"))
            continue
        try:
            verify(mgr.directory, step, state)
        except CheckpointError as err:
            damaged.append((step, str(err).split(": ", 1)[-1]))
            continue
        restored = state, step
        break
    for step, why in damaged:
        where = Path(mgr.directory) / DAMAGED / str(step)
        if jax.process_index() == 0:
            where.parent.mkdir(exist_ok=True)
            shutil.rmtree(where, ignore_errors=True)
            os.replace(Path(mgr.directory) / str(step), where)
        after = f"resuming from step {restored[1]:,}" if restored else "no earlier checkpoint verifies: starting afresh"
        log(f"the checkpoint of step {step:,} is damaged ({why}); moved to {where}; {after}")
    if damaged:
        if jax.process_count() > 1:
            from jax.experimental import multihost_utils

            multihost_utils.sync_global_devices("pixie_jax damaged checkpoints moved")
        mgr.reload()
    return restored or (None, None)
