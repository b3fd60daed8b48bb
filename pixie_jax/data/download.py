"""Cached, verified downloads: a file is fetched once, checked, then renamed into place."""

from __future__ import annotations

import hashlib
import os
import urllib.request
from collections.abc import Callable
from pathlib import Path

from tqdm.auto import tqdm

from pixie_jax.errors import InputError, ProjectError
from pixie_jax.files import process_alive

CACHE_ENV = "PIXIE_JAX_CACHE"


class DownloadError(ProjectError):
    """A download that failed or did not verify; nothing is left in the cache."""


def cache_dir(path: str | os.PathLike | None = None, create: bool = True) -> Path:
    """The cache folder: ``path``, else $PIXIE_JAX_CACHE, else ~/.cache/pixie-jax; made if missing
    (with ``create``). A path that is a file is an :class:`InputError` naming where it came from."""
    where = "--cache-dir" if path else f"${CACHE_ENV}" if os.environ.get(CACHE_ENV) else "the default cache folder"
    folder = Path(path or os.environ.get(CACHE_ENV) or Path.home() / ".cache" / "pixie-jax")
    if folder.exists() and not folder.is_dir():
        raise InputError(f"{folder} ({where}) is a file, not a folder; name a folder for the cache")
    if create:
        folder.mkdir(parents=True, exist_ok=True)
    return folder


def remove_stale_parts(dest: Path) -> list[Path]:
    """Delete the '.NAME.part-PID' files of downloads of ``dest`` whose process is gone (killed mid-way)."""
    stale = []
    for part in dest.parent.glob(f".{dest.name}.part-*"):
        pid = part.name.rsplit("-", 1)[-1]
        if pid.isdigit() and not process_alive(int(pid)):  # not ours, or a live process: kept
            part.unlink(missing_ok=True)
            stale.append(part)
    return stale


def sha256_of(path: Path, chunk: int = 1 << 20) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(chunk):
            digest.update(block)
    return digest.hexdigest()


def fetch(
    url: str,
    dest: Path,
    *,
    expected_bytes: int | None = None,
    sha256: str | None = None,
    validate: Callable[[Path], None] | None = None,
    progress: bool = True,
    timeout: float = 60.0,
) -> Path:
    """Download ``url`` to ``dest`` unless a verified copy is already there.

    A finished download is checked (``expected_bytes``, ``sha256``, ``validate``) in a
    temporary file beside ``dest`` and renamed into place only if it passes; its sha256
    goes to ``dest.sha256``. A cached copy whose sha256 no longer matches that record
    raises :class:`DownloadError` telling the user to delete it.
    """
    dest = Path(dest)
    record = dest.with_name(dest.name + ".sha256")
    if dest.exists():
        if record.exists():
            if sha256_of(dest) != record.read_text().split()[0]:
                raise DownloadError(
                    f"{dest} does not match its recorded sha256 ({record}): the cached copy "
                    f"is corrupt; delete both files and run again to download {url} anew"
                )
            return dest
        try:  # a copy placed by hand: check it as if just downloaded
            record.write_text(f"{_verify(dest, expected_bytes, sha256, validate)}  {dest.name}\n")
        except DownloadError as err:
            raise DownloadError(f"{dest} is not a good copy of {url}: {err}; delete it and run again") from err
        return dest
    remove_stale_parts(dest)
    part = dest.with_name(f".{dest.name}.part-{os.getpid()}")
    try:
        _stream(url, part, progress, timeout)
        digest = _verify(part, expected_bytes, sha256, validate)
        os.replace(part, dest)
        record.write_text(f"{digest}  {dest.name}\n")
    except BaseException as err:
        part.unlink(missing_ok=True)
        if isinstance(err, DownloadError):
            raise DownloadError(
                f"download of {url} failed: {err}. Nothing was kept; run again to retry, "
                f"or place a good copy at {dest} yourself"
            ) from err
        if isinstance(err, (OSError, ValueError)):
            raise DownloadError(
                f"download of {url} failed ({err}). Nothing was kept; check the network "
                f"and run again, or place a copy at {dest} yourself"
            ) from err
        raise
    return dest


def _verify(path: Path, expected_bytes: int | None, sha256: str | None, validate: Callable[[Path], None] | None) -> str:
    """Check a file's size, sha256 and contents; return its sha256."""
    size = path.stat().st_size
    if expected_bytes is not None and size != expected_bytes:
        raise DownloadError(f"got {size} bytes, expected {expected_bytes}")
    digest = sha256_of(path)
    if sha256 is not None and digest != sha256:
        raise DownloadError(f"sha256 {digest} differs from the expected {sha256}")
    if validate is not None:
        validate(path)
    return digest


def _stream(url: str, part: Path, progress: bool, timeout: float) -> None:
    with urllib.request.urlopen(url, timeout=timeout) as response, open(part, "wb") as out:
        total = response.headers.get("Content-Length")
        with tqdm(
            total=int(total) if total else None,
            unit="B",
            unit_scale=True,
            desc=f"downloading {url.rsplit('/', 1)[-1]}",
            disable=not progress,
        ) as bar:
            while block := response.read(1 << 20):
                out.write(block)
                bar.update(len(block))
