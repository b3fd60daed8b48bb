"""WordNet 3.0 through NLTK, and the map word -> noun synsets -> ImageNet ids (wnids).

Where NLTK's own ``wordnet`` corpus is installed it is used. Otherwise a WordNet 3.0
``dict`` folder is read (``--wordnet DIR``, $PIXIE_JAX_WORDNET, or Debian's
/usr/share/wordnet from the package ``wordnet-base``); the ``lexnames`` file that Debian
lacks ships with this package.
"""

from __future__ import annotations

import os
import shutil
import warnings
from pathlib import Path

from pixie_jax.data import download
from pixie_jax.errors import ProjectError

WORDNET_ENV = "PIXIE_JAX_WORDNET"
DEBIAN_DIR = Path("/usr/share/wordnet")
_LEXNAMES = Path(__file__).resolve().parent.parent / "data" / "wordnet" / "lexnames"
_NEEDED = ("data.noun", "index.noun", "noun.exc")

HOW_TO_GET = (
    "WordNet 3.0 is needed. Either install NLTK's copy (python -m nltk.downloader wordnet), "
    "or install a WordNet 3.0 dict folder (Debian/Ubuntu: apt-get install wordnet-base, which puts one at "
    f"/usr/share/wordnet) and pass it with --wordnet DIR or ${WORDNET_ENV}."
)


class WordNetError(ProjectError):
    pass


def wnid(synset) -> str:
    """The ImageNet id of a noun synset: 'n' + its 8-digit WordNet 3.0 offset."""
    return f"n{synset.offset():08d}"


def load_wordnet(dict_dir: str | os.PathLike | None = None, cache_dir=None):
    """A WordNet 3.0 reader: NLTK's own corpus if installed (and no folder given), else a dict folder."""
    if dict_dir is None and not os.environ.get(WORDNET_ENV):
        try:
            from nltk.corpus import wordnet

            wordnet.ensure_loaded()
            return wordnet
        except LookupError:
            pass
    folder = Path(dict_dir or os.environ.get(WORDNET_ENV) or DEBIAN_DIR)
    if not all((folder / f).exists() for f in _NEEDED):
        raise WordNetError(f"no WordNet dict folder at {folder}. {HOW_TO_GET}")
    return _reader_for(_prepared_copy(folder, cache_dir))


def _prepared_copy(folder: Path, cache_dir) -> Path:
    """A real copy of the dict folder with ``lexnames`` added (NLTK refuses links leaving its root)."""
    if (folder / "lexnames").exists():
        return folder
    target = download.cache_dir(cache_dir) / "wordnet-dict"
    if not (target / "lexnames").exists():
        tmp = target.with_name(f".wordnet-dict.{os.getpid()}")
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir(parents=True)
        for item in folder.iterdir():
            if item.is_file():
                shutil.copyfile(item, tmp / item.name)
        shutil.copyfile(_LEXNAMES, tmp / "lexnames")
        shutil.rmtree(target, ignore_errors=True)
        os.replace(tmp, target)
    return target


def _reader_for(folder: Path):
    import nltk
    from nltk.corpus.reader.wordnet import WordNetCorpusReader

    class _Reader(WordNetCorpusReader):
        def map_wn(self, version="wordnet"):  # no OMW mapping for a local WordNet 3.0
            return None

    if str(folder) not in nltk.data.path:
        nltk.data.path.append(str(folder))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        reader = _Reader(str(folder), None)
    if reader.get_version() != "3.0":
        raise WordNetError(f"{folder} holds WordNet {reader.get_version()}; ImageNet ids need WordNet 3.0")
    return reader


def synset_of(wn, wnid_: str):
    """The noun synset of a WordNet id ``nXXXXXXXX``."""
    return wn.synset_from_pos_and_offset("n", int(wnid_[1:]))


def noun_synsets(wn, word: str):
    """The noun synsets of ``word`` (NLTK applies its morphological rules: 'geese' -> goose)."""
    return wn.synsets(word, pos="n")


def _ancestors(synset):
    return synset.closure(lambda s: s.hypernyms() + s.instance_hypernyms())


def wnids_below(wn, wnids) -> dict[str, set[str]]:
    """For every synset s, the given wnids found at s or among its hyponyms (transitively).

    Built bottom-up: each wnid is added to itself and to all its hypernyms.
    """
    below: dict[str, set[str]] = {}
    for w in wnids:
        synset = synset_of(wn, w)
        for s in [synset, *_ancestors(synset)]:
            below.setdefault(wnid(s), set()).add(w)
    return below


def hypernym_wnids(wn, synset_ids) -> list[str]:
    """The direct hypernyms (and instance hypernyms) of the given synsets, as wnids."""
    out = []
    for w in synset_ids:
        s = synset_of(wn, w)
        out += [wnid(h) for h in s.hypernyms() + s.instance_hypernyms()]
    return list(dict.fromkeys(out))


def wnids_within(wn, wnid_: str, depth: int | None) -> set[str]:
    """``wnid_`` and its hyponyms (and instance hyponyms) down to ``depth`` levels (None: all)."""
    found, frontier, level = {wnid_}, [synset_of(wn, wnid_)], 0
    while frontier and (depth is None or level < depth):
        level += 1
        frontier = list(
            {
                wnid(h): h for s in frontier for h in s.hyponyms() + s.instance_hyponyms() if wnid(h) not in found
            }.values()
        )
        found.update(wnid(h) for h in frontier)
    return found
