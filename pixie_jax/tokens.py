"""The corpus as token ids, built by streaming and cached on disk.

Pass 1 counts the words of the streamed corpus (:func:`pixie_jax.corpus.iter_corpus`); pass 2 writes
the ids of the vocabulary's words to ``ids.npy``: the corpus is never held in memory, only its word
counts and one piece of text at a time. The result (``vocab.tsv``, ``ids.npy``, ``meta.json``) is kept
in ``<cache>/corpora/<key>``, the key a hash of the corpus files' paths, sizes and modification times
and of the vocabulary settings, so the next run with the same corpus and settings memory-maps the ids
instead of reading the text again.
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

from pixie_jax import corpus as corpus_lib, download, vocab as vocab_lib

FORMAT = 1  # bump when the normalisation or the layout of a cache entry changes


@dataclasses.dataclass(frozen=True)
class Tokens:
    vocab: vocab_lib.Vocab
    ids: np.ndarray   # int32 [T]: memory-mapped from the cache, or in memory
    digest: str       # sha256 of the ids (16 hex digits)


def cache_key(files, min_count: int, max_vocab: int | None, errors: str) -> str:
    """A hash of the files' identities (resolved path, size, modification time) and the settings."""
    stats = [(str(Path(f).resolve()), st.st_size, st.st_mtime_ns) for f in files for st in [os.stat(f)]]
    text = json.dumps({"format": FORMAT, "files": stats, "min_count": min_count, "max_vocab": max_vocab,
                       "errors": errors})
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
        np.lib.format.write_array_header_1_0(f, {"descr": np.lib.format.dtype_to_descr(np.dtype(np.int32)),
                                                 "fortran_order": False, "shape": (total,)})
        for ids in vocab_lib.encode_pieces(pieces, vocab):
            data = ids.astype("<i4").tobytes()
            digest.update(data)
            f.write(data)
            written += len(ids)
    if written != total:
        raise corpus_lib.CorpusError(f"the corpus changed while it was read ({written:,} tokens of the vocabulary, "
                                     f"{total:,} counted); run again")
    return digest.hexdigest()[:16]


def _load_entry(folder: Path) -> Tokens | None:
    """A complete cache entry (meta.json is written last), else None."""
    try:
        meta = json.loads((folder / "meta.json").read_text(encoding="utf-8"))
        vocab = vocab_lib.Vocab.load(folder / "vocab.tsv")
        ids = np.load(folder / "ids.npy", mmap_mode="r")
    except (OSError, ValueError):
        return None
    if meta.get("format") != FORMAT or len(ids) != meta.get("tokens") or len(ids) != int(vocab.counts.sum()):
        return None
    return Tokens(vocab, ids, meta["digest"])


def tokenise(source, min_count: int = 5, max_vocab: int | None = 50_000, errors: str = "strict",
             cache_dir=None, cache: bool = True, progress: bool = False, log=print) -> Tokens:
    """The vocabulary and token ids of the corpus ``source`` (:func:`pixie_jax.corpus.corpus_files`),
    from the cache when an entry for these files and settings exists, else by two streamed passes
    (written to the cache when ``cache``)."""
    files = corpus_lib.corpus_files(source, cache_dir)
    folder = download.cache_dir(cache_dir) / "corpora" / cache_key(files, min_count, max_vocab, errors)
    if cache and (hit := _load_entry(folder)) is not None:
        log(f"corpus {source}: token ids from the cache {folder}")
        return hit
    t0 = time.time()
    vocab = _count(files, min_count, max_vocab, errors, progress)
    pieces = _pieces(files, errors, progress, "writing token ids")
    if not cache:
        ids = vocab_lib.encode_stream(pieces, vocab)
        return Tokens(vocab, ids, hashlib.sha256(ids.astype("<i4").tobytes()).hexdigest()[:16])
    tmp = folder.with_name(f".{folder.name}.{os.getpid()}.tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    try:
        vocab.save(tmp / "vocab.tsv")
        digest = _write_ids(tmp / "ids.npy", pieces, vocab)
        (tmp / "meta.json").write_text(json.dumps({"format": FORMAT, "tokens": int(vocab.counts.sum()),
                                                   "digest": digest, "source": str(source),
                                                   "files": [str(f) for f in files]}), encoding="utf-8")
        if _load_entry(folder) is None:
            shutil.rmtree(folder, ignore_errors=True)  # an incomplete entry
        try:
            os.replace(tmp, folder)
        except OSError:  # another process (of a multi-process run, say) has just written the same entry
            shutil.rmtree(tmp, ignore_errors=True)
    except OSError as err:
        shutil.rmtree(tmp, ignore_errors=True)
        raise corpus_lib.CorpusError(f"{folder.parent}: cannot write the corpus's token ids ({err.strerror or err}); "
                                     f"free space there, set --config.cache_dir to another disk, or "
                                     f"--config.corpus_cache=False to keep them in memory") from err
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    log(f"corpus {source}: token ids written to the cache {folder} ({time.time() - t0:.1f} s)")
    if (entry := _load_entry(folder)) is None:
        raise corpus_lib.CorpusError(f"{folder}: the token cache entry cannot be read back; delete it and run again")
    return entry
