"""What the throughput scripts share: the base config with the command line's corpus and batch, the
prepared data with and without features, gensim on the same tokens, and a line naming the machine."""

from __future__ import annotations

import os
import platform

import jax

from pixie_jax import overrides
from pixie_jax.data import training_data as data_lib
from pixie_jax.errors import InputError

ROWS = {"once": "on", "every": "off"}  # a benchmark's --rows -> config.distinct_rows


def add_rows_option(parser, default) -> None:
    """``--rows once every``: each distinct table row once a step (config.distinct_rows on), every entry on
    its own (off), or both, measured one after the other."""
    parser.add_argument(
        "--rows",
        nargs="+",
        choices=tuple(ROWS),
        default=list(default),
        help="each distinct table row once a step (config.distinct_rows=on) and/or every entry on its own (off); "
        "default: %(default)s",
    )


def checked_config(items, corpus: str | None = None, what: str = "--set"):
    """configs/pixie.py with the KEY=VALUE ``items`` applied and (where given) ``corpus``, checked as
    bin/train checks it (every key known, every value in range) and its corpus found, before anything
    is read or trained: an :class:`InputError` names what is wrong."""
    from pixie_jax import experiment
    from pixie_jax.data import corpus as corpus_lib

    config = overrides.load_config("pixie")
    try:
        overrides.apply_overrides(config, items)
    except KeyError as err:
        raise InputError(f"{what}: {err.args[0]}; the keys are those of configs/pixie.py") from None
    except (ValueError, TypeError) as err:
        raise InputError(f"{what}: {err}") from None
    if corpus is not None:
        config.corpus = corpus
    experiment.check(config, embedding=False)
    if config.corpus != "text8":  # text8 is downloaded when first read
        corpus_lib.corpus_files(config.corpus)
    return config


def prepare(args):
    """(config, data, data without features) for ``args.corpus``, ``args.features``, ``args.text_centres``,
    ``args.visual_centres``; configs/pixie.py otherwise."""
    base = overrides.load_config("pixie")
    base.corpus, base.features, base.progress = args.corpus, args.features, False
    base.sampler.text_centres, base.sampler.visual_centres = args.text_centres, args.visual_centres
    data = data_lib.prepare_data(base, log=lambda *a: None)
    return base, data, data_lib.text_only(base, data)


def machine() -> str:
    return (
        f"{platform.machine()}, {os.cpu_count()} cores, jax {jax.__version__} on "
        f"{jax.devices()[0].device_kind} x{len(jax.devices())}"
    )


def gensim_sentences(data) -> list[list[str]]:
    """The prepared token ids as gensim's sentences: the words in runs of 10,000 (word2vec's cap)."""
    words = data.vocab.words
    tokens = [words[i] for i in data.ids]
    return [tokens[i : i + 10_000] for i in range(0, len(tokens), 10_000)]


def gensim_skipgram(config, sg: int = 1, subwords: tuple[int, int, int] | None = None):
    """An untrained gensim Word2Vec with ``config``'s skip-gram settings (dimension, window, negatives,
    subsampling threshold, seed), every word of the sentences kept, all cores; ``sg=0``: CBOW (the mean
    of the contexts, gensim's default ``cbow_mean``); ``subwords`` (min_n, max_n, buckets): gensim's
    FastText with those hashed character n-grams instead."""
    from gensim.models import FastText, Word2Vec

    settings = dict(
        vector_size=config.model.dim,
        window=config.sampler.window,
        sg=sg,
        hs=0,
        negative=config.sampler.negatives,
        sample=config.subsample,
        min_count=1,
        workers=os.cpu_count() or 1,
        seed=config.seed,
    )
    if subwords is None:
        return Word2Vec(**settings)
    min_n, max_n, buckets = subwords
    return FastText(**settings, min_n=min_n, max_n=max_n, bucket=buckets)
