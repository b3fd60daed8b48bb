"""Train the model a config names (``config.model.name``) and collect its embedding arrays.

    pixie   PIXIE (eq. 9); with ``features = ''`` it is SGNS           kinds e, v, mu, x, s, t
    vsgns   V-SGNS, :mod:`pixie_jax.baselines.vsgns`                    kinds e, v, x
    vae     the visual component alone, :mod:`pixie_jax.baselines.vae` kinds mu, x
    ivsgns  SGNS + a map e -> x, :mod:`pixie_jax.baselines.ivsgns`      kinds e, v, x, fx (IV-SGNS is e+fx)
"""
from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np

from pixie_jax import io, outputs, train
from pixie_jax.baselines import ivsgns, vae

KINDS = {"pixie": ("e", "v", "mu", "x", "s", "t"), "vsgns": ("e", "v", "x"), "vae": ("mu", "x"),
         "ivsgns": ("e", "v", "x", "fx")}
SCORED = {"pixie": ("e", "s", "t"), "vsgns": ("e",), "vae": ("mu",), "ivsgns": ("e", "e+fx")}


@dataclasses.dataclass
class Result:
    arrays: dict                 # kind -> [V, d] over data.vocab, and 'mask'
    data: train.TrainingData
    kinds: tuple[str, ...]       # the kinds worth scoring
    visual_only: dict | None = None  # arrays for the words with features but no text


def check_embedding(config) -> None:
    """``config.embedding`` must name kinds (or a+b concatenations) the model writes; checked before training."""
    name = train.model_name(config)
    missing = [p for p in config.embedding.split("+") if p not in KINDS[name]]
    if missing:
        raise ValueError(f"embedding {config.embedding!r}: model {name!r} writes kinds {', '.join(KINDS[name])} "
                         f"(or concatenations such as 'e+x'), not {missing[0]!r}")


def text_only(config, data: train.TrainingData) -> train.TrainingData:
    """``data`` without its visual features (same vocabulary and corpus)."""
    cfg = config.copy_and_resolve_references()
    cfg.features = ""
    return dataclasses.replace(data, **train.visual_fields(cfg, data.vocab, log=lambda *_: None))


def sgns_vectors(path, vocab_words) -> np.ndarray:
    """Kind e of an embeddings file, rows in ``vocab_words`` order; every word must be there."""
    arrays = io.load_embeddings(path)
    index = {w: i for i, w in enumerate(arrays["words"])}
    missing = [w for w in vocab_words if w not in index]
    if missing:
        raise ValueError(f"{path}: {len(missing)} vocabulary words are missing (first {missing[0]!r}); "
                         f"train the SGNS embeddings on the same corpus, min_count and max_vocab")
    return np.asarray(arrays["e"], np.float32)[[index[w] for w in vocab_words]]


def run(config, workdir, data: train.TrainingData | None = None, log=print, devices=None) -> Result:
    """Train the model ``config`` names in ``workdir`` (reading the data unless given)."""
    name = train.model_name(config)
    check_embedding(config)
    data = data or train.prepare_data(config, log)
    model = train.build_model(config, len(data.vocab))
    visual_only = None
    if name == "vae":
        params = vae.train(config, data, workdir, log)
        arrays = outputs.visual_arrays(data) | {"mu": outputs.encoder_means(model, params, data)}
        if data.visual_only_words:
            visual_only = outputs.visual_only_embeddings(model, params, data)
    elif name == "ivsgns":
        if config.ivsgns.sgns:
            log(f"IV-SGNS: text embeddings from {config.ivsgns.sgns}")
            text = {"e": sgns_vectors(config.ivsgns.sgns, data.vocab.words)}
        else:
            text, _ = train.train(config, Path(workdir), data=text_only(config, data), log=log, devices=devices)
        arrays = outputs.visual_arrays(data) | {k: np.asarray(text[k]) for k in ("e", "v") if k in text}
        arrays["fx"] = ivsgns.imagined_features(config, arrays["e"], arrays["mask"], arrays["x"])
        log(f"IV-SGNS: {config.ivsgns.map} map fitted on {int(arrays['mask'].sum()):,} visual words")
    else:
        params, _ = train.train(config, workdir, data=data, log=log, devices=devices)
        arrays = outputs.embedding_arrays(model, params, data)
        if name == "pixie" and data.visual_only_words and data.scaling is not None:
            visual_only = outputs.visual_only_embeddings(model, params, data, text_dim=model.dim)
    kinds = SCORED[name] if data.n_visual else ("e",)
    return Result(arrays, data, kinds, visual_only)


def run_and_write(config, workdir, log=print, devices=None) -> Result:
    """:func:`run`, then :func:`pixie_jax.outputs.write_outputs`."""
    result = run(config, workdir, log=log, devices=devices)
    outputs.write_outputs(config, workdir, result.arrays, result.data, result.kinds, result.visual_only, log=log)
    return result
