"""Reading corpora: plain, compressed, folders, text8; and text8-style normalisation.

A corpus is a sequence of tokens in text8 form (lower-case a-z words, single spaces).
:func:`iter_corpus` streams it in pieces (a corpus larger than memory passes through);
:func:`load_corpus` joins them into one ``str``, the form :func:`pixie_jax.data.vocab.encode` reads.
"""

from __future__ import annotations

import bz2
import codecs
import functools
import gzip
import itertools
import lzma
import os
import re
import unicodedata
import zipfile
import zlib
from collections.abc import Iterator
from pathlib import Path

from pixie_jax.data import download
from pixie_jax.errors import InputError

TEXT8_URL = "http://mattmahoney.net/dc/text8.zip"
# The size every published copy of text8.zip has (TensorFlow's word2vec tutorial checks it too).
TEXT8_ZIP_BYTES = 31_344_016
TEXT8_BYTES = 100_000_000

_DIGITS = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine")
_DIGIT_TABLE = {ord(str(d)): f" {name} " for d, name in enumerate(_DIGITS)}
_NON_LETTERS = re.compile(r"[^a-z]+")
_NOT_TEXT8 = re.compile(r"[^a-z ]|  ")
_PG_START = re.compile(r"^\*\*\* ?START OF (THE|THIS) PROJECT GUTENBERG.*$", re.MULTILINE | re.IGNORECASE)
_PG_END = re.compile(r"^\*\*\* ?END OF (THE|THIS) PROJECT GUTENBERG.*$", re.MULTILINE | re.IGNORECASE)


class CorpusError(InputError):
    """A corpus that cannot be read; the message names the file."""


def normalise(raw: str) -> str:
    """Turn raw text into text8 form.

    lower case; NFKD with combining marks dropped (``é -> e``); each digit spelled
    out (``7 -> " seven "``); every run of characters outside a-z becomes one space;
    no leading or trailing space. This is how gutenberg8 was made from its books.
    Text already in that form (text8 itself) is only stripped, without copies.
    """
    if not _NOT_TEXT8.search(raw):
        return raw.strip()
    text = unicodedata.normalize("NFKD", raw.lower())
    if not text.isascii():
        text = "".join(ch for ch in text if not unicodedata.combining(ch))
    text = text.translate(_DIGIT_TABLE)
    return _NON_LETTERS.sub(" ", text).strip()


def strip_gutenberg_boilerplate(raw: str) -> str:
    """Keep the text between Project Gutenberg's ``*** START OF`` and ``*** END OF`` lines.

    Text without those markers is returned unchanged.
    """
    start, end = _PG_START.search(raw), _PG_END.search(raw)
    if start is None or end is None or end.start() < start.end():
        return raw
    return raw[start.end() : end.start()]


def _open_text(path: Path):
    suffix = path.suffix.lower()
    opener = {".gz": gzip.open, ".xz": lzma.open, ".lzma": lzma.open, ".bz2": bz2.open}.get(suffix, open)
    return opener(path, "rb")


def read_file(path: str | os.PathLike, errors: str = "strict") -> str:
    """Decode one file (plain, .gz, .xz, .bz2, or a .zip of text files) as UTF-8, whole.

    ``errors='strict'`` raises :class:`CorpusError` naming the file and line of undecodable bytes;
    ``'replace'`` substitutes U+FFFD (later normalised away).
    """
    return "".join(_decoded_blocks(Path(path), errors))[:-1]  # a .zip's members joined by one space


def _raw_streams(path: Path) -> Iterator:
    """Binary streams of a file's text: its members for a .zip (sorted), else the (decompressed) file."""
    if path.suffix.lower() == ".zip":
        with zipfile.ZipFile(path) as zf:
            for name in sorted(n for n in zf.namelist() if not n.endswith("/")):
                with zf.open(name) as f:
                    yield f
    else:
        with _open_text(path) as f:
            yield f


def _decoded_blocks(path: Path, errors: str, block_bytes: int = 1 << 24) -> Iterator[str]:
    """The UTF-8 text of ``path`` in blocks of about ``block_bytes`` (a .zip's members each end a block
    with a space, as separate files do)."""
    try:
        for stream in _raw_streams(path):
            decoder = codecs.getincrementaldecoder("utf-8")(errors)
            lines = 1
            for block in itertools.chain(iter(lambda: stream.read(block_bytes), b""), [None]):  # noqa: B023 - called within the iteration
                pending = len(decoder.getstate()[0])
                try:  # None: the end of the stream, where a cut multi-byte character is an error too
                    yield decoder.decode(block, final=False) if block is not None else decoder.decode(b"", True) + " "
                except UnicodeDecodeError as err:
                    line = lines + (block or b"")[: max(err.start - pending, 0)].count(b"\n")
                    raise CorpusError(
                        f"{path}: line {line} is not valid UTF-8 ({err.reason}); re-encode the file as UTF-8, or "
                        f"replace such bytes with --config.corpus_errors=replace"
                    ) from err
                lines += (block or b"").count(b"\n")
    except (OSError, EOFError, lzma.LZMAError, zipfile.BadZipFile, zlib.error) as err:
        raise CorpusError(f"{path}: cannot read ({err})") from err


def iter_files(path: Path) -> Iterator[Path]:
    """The files of a folder, recursively and in sorted order, skipping hidden ones."""
    for root, dirs, files in os.walk(path):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        for name in sorted(files):
            if not name.startswith("."):
                yield Path(root) / name


def corpus_files(source: str | os.PathLike, cache_dir: str | os.PathLike | None = None) -> list[Path]:
    """The files of the corpus ``source`` names: ``"text8"`` (downloaded once into the cache, see
    :func:`text8_path`), ``"bundled"`` (the sample shipped with the package), a file, or a folder."""
    if str(source) == "text8":
        return [text8_path(cache_dir)]
    if str(source) == "bundled":
        from pixie_jax.data import resources

        source = resources.corpus_path()
    path = Path(source)
    if not path.exists():
        raise CorpusError(f"{path}: no such file or folder (give a text file, a folder, 'text8' or 'bundled')")
    files = list(iter_files(path)) if path.is_dir() else [path]
    if not files:
        raise CorpusError(f"{path}: the folder has no files")
    return files


def iter_corpus(
    source: str | os.PathLike | list[Path],
    *,
    normalise_text: bool = True,
    errors: str = "strict",
    cache_dir: str | os.PathLike | None = None,
    block_bytes: int = 1 << 24,
) -> Iterator[str]:
    """The corpus ``source`` names (see :func:`corpus_files`; or the list of files it gave) in text8 form,
    as pieces of about ``block_bytes`` that each end on a token boundary: a corpus larger than memory
    streams through.

    Already-normalised text (text8, gutenberg8) passes through :func:`normalise` unchanged, so
    normalising is safe; turn it off only to keep exotic tokens.
    """
    clean = normalise if normalise_text else (lambda text: " ".join(text.split()))
    any_token = False
    files = source if isinstance(source, list) else corpus_files(source, cache_dir)
    for file in files:
        carry = ""  # each file's text ends with a space, so nothing is left over at its end
        for text in _decoded_blocks(file, errors, block_bytes):
            text = carry + text
            cut = max(text.rfind(" "), text.rfind("\n"))  # whitespace always separates tokens
            carry = text[cut + 1 :]
            piece = clean(text[: cut + 1])
            if piece:
                any_token = True
                yield piece
    if not any_token:
        raise CorpusError(f"{', '.join(map(str, files))}: the corpus is empty (no word made of letters a-z)")


def load_corpus(
    source: str | os.PathLike,
    *,
    normalise_text: bool = True,
    errors: str = "strict",
    cache_dir: str | os.PathLike | None = None,
) -> str:
    """The corpus named by ``source`` as one text8-form string (:func:`iter_corpus`, joined)."""
    return " ".join(iter_corpus(source, normalise_text=normalise_text, errors=errors, cache_dir=cache_dir))


def text8_path(
    cache_dir: str | os.PathLike | None = None,
    url: str = TEXT8_URL,
    expected_bytes: int | None = TEXT8_ZIP_BYTES,
    member_bytes: int = TEXT8_BYTES,
    progress: bool = True,
) -> Path:
    """Path of text8.zip in the cache, downloading it the first time.

    The download goes to a temporary file that is checked (size, zip integrity with
    each member's CRC, one member ``text8`` of 10^8 bytes) before it is renamed into
    place, so an interrupted or corrupt download leaves nothing behind. Its sha256 is
    written beside it and checked on every later use.
    """
    cache = download.cache_dir(cache_dir)
    return download.fetch(
        url,
        cache / "text8.zip",
        expected_bytes=expected_bytes,
        validate=functools.partial(_validate_text8_zip, member_bytes=member_bytes),
        progress=progress,
    )


def _validate_text8_zip(path: Path, member_bytes: int) -> None:
    try:
        with zipfile.ZipFile(path) as zf:
            bad = zf.testzip()
            names = zf.namelist()
            sizes = [zf.getinfo(n).file_size for n in names]
    except zipfile.BadZipFile as err:
        raise download.DownloadError(f"not a zip file ({err})") from err
    if bad is not None:
        raise download.DownloadError(f"member {bad!r} fails its CRC check")
    if names != ["text8"] or sizes != [member_bytes]:
        raise download.DownloadError(
            f"expected one member 'text8' of {member_bytes} bytes, found {list(zip(names, sizes))}"
        )
