"""Read a legacy (pre-zip) torch ``state_dict`` file into numpy arrays, without torch.

The legacy format is a run of pickles: a magic number, the protocol version, system
info, the object itself (tensors refer to storages through persistent ids), the list of
storage keys, then each storage's raw bytes preceded by its 8-byte element count.
"""

from __future__ import annotations

import collections
import io
import pickle
import struct
from pathlib import Path

import numpy as np

from pixie_jax.errors import InputError

MAGIC = 0x1950A86A20F9469CFC6C
_DTYPES = {
    "FloatStorage": np.float32,
    "DoubleStorage": np.float64,
    "HalfStorage": np.float16,
    "LongStorage": np.int64,
    "IntStorage": np.int32,
    "ShortStorage": np.int16,
    "CharStorage": np.int8,
    "ByteStorage": np.uint8,
    "BoolStorage": np.bool_,
}


class TorchFileError(InputError):
    """A file that is not a legacy torch state dict of tensors, or holds anything else."""


class _StorageType:
    def __init__(self, name):
        self.dtype = np.dtype(_DTYPES[name])


class _TensorRef:
    """Where a tensor's values lie: a storage key, an offset, a shape and strides (in elements)."""

    def __init__(self, storage, offset, shape, strides):
        self.key, self.offset, self.shape, self.strides = storage, offset, tuple(shape), tuple(strides)


def _rebuild_tensor_v2(storage, offset, shape, strides, *_):
    return _TensorRef(storage, offset, shape, strides)


class _PlainUnpickler(pickle.Unpickler):
    """Plain data only (numbers, strings, lists, dicts, tuples): the file's magic number, protocol, system
    info and storage keys. Any class or persistent id is refused, so a crafted file runs no code."""

    def find_class(self, module, name):
        raise TorchFileError(f"unsupported object in the torch file's header: {module}.{name}")

    def persistent_load(self, pid):
        raise TorchFileError(f"unsupported persistent id {pid!r} in the torch file's header")


def _plain(buf) -> object:
    return _PlainUnpickler(buf).load()


class _Unpickler(pickle.Unpickler):
    """The state dict itself: ordered dicts of tensors, each a storage key, offset, shape and strides."""

    def find_class(self, module, name):
        if module == "collections" and name == "OrderedDict":
            return collections.OrderedDict
        if module == "torch._utils" and name in ("_rebuild_tensor_v2", "_rebuild_tensor"):
            return _rebuild_tensor_v2
        if module == "torch" and name in _DTYPES:
            return _StorageType(name)
        raise TorchFileError(f"unsupported object in the torch file: {module}.{name}")

    def persistent_load(self, pid):
        # ('storage', storage_type, key, location, numel[, view_metadata])
        if not (isinstance(pid, tuple) and pid and pid[0] == "storage"):
            raise TorchFileError(f"unsupported persistent id {pid!r}")
        return (pid[2], pid[1].dtype)


def load_state_dict(path: str | Path) -> dict[str, np.ndarray]:
    """{name: array} of a legacy torch file; raises :class:`TorchFileError` for anything else."""
    path = Path(path)
    with open(path, "rb") as f:
        data = f.read()
    if data[:2] == b"PK":
        raise TorchFileError(f"{path}: a zip-format torch file; only the legacy format is supported")
    buf = io.BytesIO(data)
    try:
        if _plain(buf) != MAGIC:
            raise TorchFileError(f"{path}: not a legacy torch file (bad magic number)")
        _plain(buf)  # protocol version
        _plain(buf)  # system info
        obj = _Unpickler(buf).load()
        keys = _plain(buf)
    except TorchFileError as err:
        raise TorchFileError(f"{path}: {err}; only a state dict of tensors is read") from None
    except (pickle.UnpicklingError, EOFError, ValueError, TypeError, IndexError, KeyError) as err:
        raise TorchFileError(f"{path}: cannot parse ({err})") from err
    if not isinstance(obj, dict) or not isinstance(keys, list):
        raise TorchFileError(f"{path}: not a state dict of tensors")
    refs = {name: t for name, t in obj.items() if isinstance(t, _TensorRef)}
    dtypes = {t.key[0]: t.key[1] for t in refs.values()}
    storages = {}
    for key in keys:
        (numel,) = struct.unpack("<q", buf.read(8))
        dtype = np.dtype(dtypes.get(key, np.float32))
        storages[key] = np.frombuffer(buf.read(numel * dtype.itemsize), dtype=dtype)
    out = {}
    for name, t in refs.items():
        flat = storages[t.key[0]]
        itemsize = flat.dtype.itemsize
        out[name] = np.lib.stride_tricks.as_strided(
            flat[t.offset :], shape=t.shape, strides=tuple(s * itemsize for s in t.strides)
        ).copy()
    return out
