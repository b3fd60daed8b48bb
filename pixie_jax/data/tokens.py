"""The corpus as token ids, built by streaming and cached on disk.

Pass 1 counts the words of the streamed corpus (:func:`pixie_jax.data.corpus.iter_corpus`); pass 2 writes
the ids of the vocabulary's words to ``ids.npy``: the corpus is never held in memory, only its word
counts and one piece of text at a time. The result (``vocab.tsv``, ``ids.npy``, ``meta.json``) is kept
in ``<cache>/corpora/<key>``, the key a hash of the corpus files' paths, sizes, modification times and
inode change times (as git's index: an edit that keeps the size and puts the modification time back
still changes the last) and of the vocabulary settings, so the next run with the same corpus and
settings memory-maps the ids instead of reading the text again.

An entry is served only once it checks out: meta.json (written last) holds the sha256 of the ids and of
vocab.tsv, both hashed again when loaded (about 1 s per 10^9 bytes of ids), and every id must be a row
of the vocabulary. A damaged entry is rebuilt from the corpus, with a line saying so.
"""

from __future__ import annotations

import collections
import dataclasses
import hashlib
import json
import os
import shutil
import time
from pathlib import Path

import numpy as np
from tqdm.auto import tqdm

from pixie_jax.data import corpus as corpus_lib
from pixie_jax.data import download
from pixie_jax.data import vocab as vocab_lib
from pixie_jax.errors import InputError
from pixie_jax.files import folder_bytes, process_alive

FORMAT = 2  # bump when the normalisation or the layout of a cache entry changes


@dataclasses.dataclass(frozen=True)
class Tokens:
    vocab: vocab_lib.Vocab
    ids: np.ndarray  # int32 [T]: memory-mapped from the cache, or in memory
    digest: str  # sha256 of the ids (16 hex digits)


class CacheError(InputError):
    """A cache entry that does not check out (the message says what is wrong)."""


def cache_key(files, min_count: int, max_vocab: int | None, errors: str) -> str:
    """A hash of the files' identities (resolved path, size, modification and inode change times) and the
    settings."""
    stats = [(str(Path(f).resolve()), st.st_size, st.st_mtime_ns, st.st_ctime_ns) for f in files for st in [os.stat(f)]]
    text = json.dumps(
        {"format": FORMAT, "files": stats, "min_count": min_count, "max_vocab": max_vocab, "errors": errors}
    )
    return hashlib.sha256(text.encode()).hexdigest()[:20]


def _pieces(files, errors, progress: bool, what: str):
    """The text8-form pieces of the corpus ``files``, with a progress bar in MB of text."""
    with tqdm(desc=what, unit="MB", unit_scale=True, disable=not progress, dynamic_ncols=True) as bar:
        for piece in corpus_lib.iter_corpus(files, errors=errors):
            yield piece
            bar.update(len(piece) / 1e6)


def _count(files, min_count, max_vocab, errors, progress) -> vocab_lib.Vocab:
    counter: collections.Counter = collections.Counter()
    for piece in _pieces(files, errors, progress, "counting words"):
        counter.update(piece.split())
    return vocab_lib.vocab_from_counts(counter, min_count, max_vocab)


def _write_ids(path: Path, pieces, vocab: vocab_lib.Vocab) -> str:
    """Write the ids of ``pieces`` as an .npy of int32 [sum of the vocabulary's counts]; return their digest."""
    total = int(vocab.counts.sum())
    digest, written = hashlib.sha256(), 0
    with open(path, "wb") as f:
        np.lib.format.write_array_header_1_0(
            f, {"descr": np.lib.format.dtype_to_descr(np.dtype(np.int32)), "fortran_order": False, "shape": (total,)}
        )
        for ids in vocab_lib.encode_pieces(pieces, vocab):
            data = ids.astype("<i4").tobytes()
            digest.update(data)
            f.write(data)
            written += len(ids)
    if written != total:
        raise corpus_lib.CorpusError(
            f"the corpus changed while it was read ({written:,} tokens of the vocabulary, {total:,} counted); run again"
        )
    return digest.hexdigest()[:16]


def file_digest(path: Path) -> str:
    """sha256 of a file's bytes (16 hex digits)."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(1 << 24):
            digest.update(block)
    return digest.hexdigest()[:16]


def ids_digest(ids: np.ndarray) -> str:
    """sha256 of the ids as little-endian int32 (16 hex digits), read in pieces of 64 MB."""
    digest, step = hashlib.sha256(), 1 << 24
    for start in range(0, len(ids), step):
        digest.update(np.ascontiguousarray(ids[start : start + step], dtype="<i4").data)
    return digest.hexdigest()[:16]


def verify_entry(folder: Path) -> Tokens:
    """The cache entry in ``folder``, checked: format, token count, the digests of ids.npy and vocab.tsv
    recorded in meta.json, and every id a row of the vocabulary. Raises :class:`CacheError` (or
    OSError) saying what does not check out."""
    try:
        meta = json.loads((folder / "meta.json").read_text(encoding="utf-8"))
    except ValueError as err:
        raise CacheError(f"meta.json is not valid JSON ({err})") from err
    if meta.get("format") != FORMAT:
        raise CacheError(f"format {meta.get('format')}, this version writes {FORMAT}")
    if file_digest(folder / "vocab.tsv") != meta.get("vocab_digest"):
        raise CacheError("vocab.tsv differs from the one written")
    vocab = vocab_lib.Vocab.load(folder / "vocab.tsv")
    ids = np.load(folder / "ids.npy", mmap_mode="r")
    if ids.dtype != np.int32 or ids.ndim != 1 or len(ids) != meta.get("tokens") or len(ids) != int(vocab.counts.sum()):
        raise CacheError(f"ids.npy holds {ids.shape} {ids.dtype}, not the {meta.get('tokens')} int32 ids written")
    digest, lo, hi = _scan_ids(folder / "ids.npy", ids.offset, len(ids))
    if digest != meta.get("digest"):
        raise CacheError("ids.npy differs from the ids written")
    if len(ids) and (lo < 0 or hi >= len(vocab)):
        raise CacheError(f"ids.npy holds ids outside the {len(vocab):,}-word vocabulary")
    return Tokens(vocab, ids, meta["digest"])


def _scan_ids(path: Path, offset: int, count: int) -> tuple[str, int, int]:
    """(:func:`ids_digest`, min, max) of the ``count`` int32 ids at ``offset`` of ``path``, read in pieces
    of 64 MB with plain reads, so the check leaves none of the file mapped into the process."""
    digest, lo, hi = hashlib.sha256(), np.iinfo(np.int32).max, np.iinfo(np.int32).min
    buffer = np.empty(1 << 24, "<i4")
    with open(path, "rb") as f:
        f.seek(offset)
        left = count
        while left:
            piece = buffer[: min(left, len(buffer))]
            if f.readinto(memoryview(piece).cast("B")) != piece.nbytes:
                raise CacheError(f"ids.npy ends before its {count:,} ids")
            digest.update(piece.data)
            lo, hi = min(lo, int(piece.min())), max(hi, int(piece.max()))
            left -= len(piece)
    return digest.hexdigest()[:16], lo, hi


def _load_entry(folder: Path, log=None) -> Tokens | None:
    """The entry in ``folder`` if it is complete (meta.json is written last) and checks out, else None
    (with a line to ``log`` when an entry exists but is damaged)."""
    if not (folder / "meta.json").exists():
        return None
    try:
        return verify_entry(folder)
    except (OSError, ValueError) as err:
        if log is not None:
            log(f"token cache {folder} is damaged ({err}); building it again from the corpus")
        return None


@dataclasses.dataclass(frozen=True)
class Entry:
    """One folder of ``<cache>/corpora``: a token cache entry, or a temporary one left by a killed build."""

    folder: Path
    source: str  # the corpus as named ('bundled', 'text8', a path); '' if unknown
    bytes: int
    stale: str  # why no run can use it any more ('' when one can)


def _read_meta(folder: Path) -> dict | None:
    try:
        return json.loads((folder / "meta.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def _why_stale(folder: Path, meta: dict | None) -> str:
    if folder.name.endswith(".tmp"):
        pid = folder.name.rsplit(".", 2)[-2]
        return "" if pid.isdigit() and process_alive(int(pid)) else "a build that was stopped"
    if meta is None:
        return "incomplete"
    if meta.get("format") != FORMAT:
        return f"written by another version (format {meta.get('format')})"
    missing = [f for f in meta.get("files", []) if not Path(f).is_file()]
    if missing:
        return f"{missing[0]} is gone"
    if cache_key(meta["files"], meta.get("min_count"), meta.get("max_vocab"), meta.get("errors")) != folder.name:
        return "its corpus has changed since"
    return ""


def cache_entries(cache_dir=None) -> list[Entry]:
    """The token cache's entries, largest first, each with its size and whether it is stale (its corpus
    files changed or gone, another format, or left half-built by a stopped process)."""
    root = download.cache_dir(cache_dir, create=False) / "corpora"
    out = []
    for folder in sorted(root.iterdir()) if root.is_dir() else []:
        if folder.is_dir():
            meta = _read_meta(folder)
            out.append(Entry(folder, (meta or {}).get("source", ""), folder_bytes(folder), _why_stale(folder, meta)))
    return sorted(out, key=lambda e: -e.bytes)


def remove_entries(entries) -> int:
    """Delete the entries' folders; return the bytes freed."""
    freed = 0
    for entry in entries:
        shutil.rmtree(entry.folder, ignore_errors=True)
        freed += entry.bytes
    return freed


def tokenise(
    source,
    min_count: int = 5,
    max_vocab: int | None = 50_000,
    errors: str = "strict",
    cache_dir=None,
    cache: bool = True,
    progress: bool = False,
    log=print,
) -> Tokens:
    """The vocabulary and token ids of the corpus ``source`` (:func:`pixie_jax.data.corpus.corpus_files`),
    from the cache when an entry for these files and settings exists, else by two streamed passes
    (written to the cache when ``cache``)."""
    files = corpus_lib.corpus_files(source, cache_dir)
    folder = download.cache_dir(cache_dir) / "corpora" / cache_key(files, min_count, max_vocab, errors)
    if cache and (hit := _load_entry(folder, log)) is not None:
        log(f"corpus {source}: token ids from the cache {folder}")
        return hit
    t0 = time.time()
    vocab = _count(files, min_count, max_vocab, errors, progress)
    pieces = _pieces(files, errors, progress, "writing token ids")
    if not cache:
        ids = vocab_lib.encode_stream(pieces, vocab)
        return Tokens(vocab, ids, ids_digest(ids))
    tmp = folder.with_name(f".{folder.name}.{os.getpid()}.tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    try:
        vocab.save(tmp / "vocab.tsv")
        digest = _write_ids(tmp / "ids.npy", pieces, vocab)
        (tmp / "meta.json").write_text(
            json.dumps(
                {
                    "format": FORMAT,
                    "tokens": int(vocab.counts.sum()),
                    "digest": digest,
                    "vocab_digest": file_digest(tmp / "vocab.tsv"),
                    "source": str(source),
                    "min_count": min_count,
                    "max_vocab": max_vocab,
                    "errors": errors,
                    "files": [str(f) for f in files],
                }
            ),
            encoding="utf-8",
        )
        if _load_entry(folder) is None:
            shutil.rmtree(folder, ignore_errors=True)  # an incomplete entry
        try:
            os.replace(tmp, folder)
        except OSError:  # another process (of a multi-process run, say) has just written the same entry
            shutil.rmtree(tmp, ignore_errors=True)
    except OSError as err:
        shutil.rmtree(tmp, ignore_errors=True)
        raise corpus_lib.CorpusError(
            f"{folder.parent}: cannot write the corpus's token ids ({err.strerror or err}); "
            f"free space there, set --config.cache_dir to another disk, or "
            f"--config.corpus_cache=False to keep them in memory"
        ) from err
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    log(f"corpus {source}: token ids written to the cache {folder} ({time.time() - t0:.1f} s)")
    try:
        return verify_entry(folder)
    except (OSError, ValueError) as err:
        raise corpus_lib.CorpusError(
            f"{folder}: the token cache entry just written does not check out ({err}); delete it and run again"
        ) from err
