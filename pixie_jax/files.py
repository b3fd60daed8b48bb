"""Writing files so that a failure never leaves a half-written one behind; sizes and owners of what
interrupted writes leave."""

from __future__ import annotations

import contextlib
import os
import tempfile
import zipfile
import zlib
from pathlib import Path

import numpy as np

from pixie_jax.errors import InputError


def folder_bytes(folder: str | os.PathLike) -> int:
    """Bytes of the files under ``folder``."""
    return sum(p.stat().st_size for p in Path(folder).rglob("*") if p.is_file())


def process_alive(pid: int) -> bool:
    """Whether a process ``pid`` exists (one of another user counts as alive)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


@contextlib.contextmanager
def atomic_write(path: str | os.PathLike, mode: str = "w"):
    """Open a temporary file beside ``path``; rename it onto ``path`` only if the block succeeds."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(tmp, 0o666 & ~umask)  # mkstemp makes 0600 files; give the usual permissions
    try:
        with os.fdopen(fd, mode, **({} if "b" in mode else {"encoding": "utf-8"})) as f:
            yield f
        os.replace(tmp, path)
    except BaseException as err:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        if isinstance(err, OSError) and not err.filename and err.errno:  # a failed write names no file: name it
            raise type(err)(err.errno, err.strerror or str(err), str(path)) from err
        raise


def save_npz(path: str | os.PathLike, compressed: bool = True, **arrays) -> None:
    """np.savez(_compressed) through :func:`atomic_write`."""
    with atomic_write(path, "wb") as f:
        (np.savez_compressed if compressed else np.savez)(f, **arrays)


class ArrayFileError(InputError):
    """An .npz or .npy file that cannot be read; the message names it."""


def load_arrays(path: str | os.PathLike) -> dict[str, np.ndarray]:
    """Every array of an .npz (or the one array of an .npy, as ``{'array': ...}``), read now.

    A truncated file, or one that is not a NumPy file (or holds pickled objects), raises
    :class:`ArrayFileError` naming the file, instead of numpy's or zipfile's own exception.
    """
    path = Path(path)
    if not path.exists():
        raise ArrayFileError(f"{path}: no such file")
    try:
        loaded = np.load(path, allow_pickle=False)
        if isinstance(loaded, np.ndarray):
            return {"array": loaded}
        with loaded:
            return {k: loaded[k] for k in loaded.files}
    except (OSError, EOFError, ValueError, zipfile.BadZipFile, zlib.error) as err:
        reason = "not a NumPy .npz or .npy file" if "pickle" in str(err) else str(err)
        raise ArrayFileError(
            f"{path}: cannot be read ({reason}); it may be cut short by an interrupted copy or "
            f"download, or be another kind of file: copy or build it again"
        ) from err
