"""Word vectors in the formats other tools write, recognised by their content: word2vec's binary format
(the published Google News vectors, ``Word2Vec.save_word2vec_format(binary=True)``) and gensim's saved
``KeyedVectors`` or ``Word2Vec`` models.

word2vec binary: a header line ``V K``, then per word its UTF-8 bytes, a space, K little-endian float32
and (in most writers) a newline. gensim's saved models are pickles, and unpickling runs code: they are
read only through gensim (an optional extra), only from a file the user names, never by this package's
own unpickling.
"""

from __future__ import annotations

import mmap
import os
from pathlib import Path

import numpy as np

from pixie_jax.errors import InputError

PICKLE_START = (b"\x80",)  # pickle protocols 2 and above start with PROTO


class VectorFileError(InputError):
    """A vector file that cannot be read; the message names it."""


def sniff(path: str | os.PathLike) -> str:
    """'npz', 'gensim' (a pickle), 'word2vec-binary' or 'text', from the first bytes of ``path``."""
    with open(path, "rb") as f:
        head = f.read(1 << 20)  # enough for the header and a first text line of any width
    if head[:2] == b"PK":
        return "npz"
    if head[:1] in PICKLE_START:
        return "gensim"
    line, _, rest = head.partition(b"\n")
    fields = line.split()
    if len(fields) == 2 and all(x.isdigit() for x in fields) and rest:
        first = rest.partition(b"\n")[0].split()  # text: 'word v1 ... vK'
        if len(first) != int(fields[1]) + 1 or not all(_is_number(x) for x in first[1:]):
            return "word2vec-binary"
    return "text"


def _is_number(field: bytes) -> bool:
    try:
        float(field)
    except ValueError:
        return False
    return True


def read_word2vec_binary(path: str | os.PathLike) -> tuple[list[str], np.ndarray]:
    """(words, vectors [V, K] float32) of a word2vec binary file; :class:`VectorFileError` names what is wrong."""
    path = Path(path)
    with open(path, "rb") as f, mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as data:
        end = data.find(b"\n")
        try:
            count, dim = (int(x) for x in data[:end].split())
        except ValueError:
            raise VectorFileError(f"{path}: line 1: expected 'count dimension', got {data[:end][:60]!r}") from None
        width = 4 * dim
        words, vectors, pos = [], np.empty((count, dim), np.float32), end + 1
        for i in range(count):
            while pos < len(data) and data[pos : pos + 1] in (b"\n", b"\r"):  # the newline ending the last vector
                pos += 1
            space = data.find(b" ", pos)
            if space < 0 or space + 1 + width > len(data):
                raise VectorFileError(
                    f"{path}: its header promises {count:,} vectors of {dim}, the file ends within vector {i + 1:,}; "
                    f"it may be cut short: copy or download it again"
                )
            try:
                words.append(data[pos:space].decode("utf-8"))
            except UnicodeDecodeError:
                words.append(data[pos:space].decode("latin-1"))  # some published files hold a few such words
            vectors[i] = np.frombuffer(data, np.float32, dim, space + 1)
            pos = space + 1 + width
    return words, vectors


def read_gensim(path: str | os.PathLike) -> tuple[list[str], np.ndarray]:
    """(words, vectors) of a gensim ``KeyedVectors`` (or a model holding them as ``wv``) saved with
    ``.save()``, loaded by gensim itself. The file is a pickle: loading it runs code, so only a file the
    user named reaches here."""
    try:
        from gensim.utils import SaveLoad
    except ImportError:
        raise VectorFileError(
            f"{path}: a saved gensim model (a pickle); reading it needs gensim: pip install gensim "
            f"(or pip install -e '.[gensim]'), or save the vectors with save_word2vec_format"
        ) from None
    try:
        model = SaveLoad.load(str(path))
    except Exception as err:  # gensim and pickle raise many kinds for a file they cannot read
        raise VectorFileError(f"{path}: gensim cannot load it ({type(err).__name__}: {err})") from None
    vectors = getattr(model, "wv", model)
    if not hasattr(vectors, "index_to_key") or not hasattr(vectors, "vectors"):
        raise VectorFileError(f"{path}: a gensim {type(model).__name__}, which holds no word vectors")
    return list(vectors.index_to_key), np.asarray(vectors.vectors, np.float32)
