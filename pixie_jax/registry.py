"""The models the trainer and the experiments know, by ``config.model.name``.

A model is a :class:`ModelSpec`: how to build it from a config, its loss on a batch's gathered rows,
what its batches draw, and the embedding kinds it writes. The generic trainer
(:mod:`pixie_jax.train`) runs any of them; :func:`register` adds one (docs/adding_a_model.md).

    pixie   PIXIE (eq. 9); with ``features = ''`` it is SGNS              kinds e, v, mu, x, s, t
    vsgns   V-SGNS, :mod:`pixie_jax.baselines.vsgns`                       kinds e, v, x
    vae     the visual component alone, :mod:`pixie_jax.baselines.vae`    kinds mu, x
    ivsgns  SGNS + a map e -> x, :mod:`pixie_jax.baselines.ivsgns`         kinds e, v, x, fx (IV-SGNS is e+fx)
"""
from __future__ import annotations

import dataclasses
import importlib
import importlib.util
from pathlib import Path
from typing import Any, Callable

import numpy as np

from pixie_jax import embeddings, io, objective, sampling
from pixie_jax.baselines import ivsgns, vae, vsgns
from pixie_jax.model import FUSIONS, Pixie


@dataclasses.dataclass(frozen=True)
class ModelSpec:
    """What the trainer and the experiments need to know about one model.

    ``loss(model, params, rows, batch, features, vae_words, visual_weight) -> (loss, metrics)`` is the
    minibatch estimate of the objective from the rows of e and v the batch gathers
    (:func:`pixie_jax.objective.gather_rows`; ``params`` holds the other parameters), pre-weighted
    so that devices' shares add up, with lambda = ``visual_weight`` (:func:`pixie_jax.objective.visual_weight`)
    where the model has a visual term; ``metrics`` must contain ``loss``.
    """

    name: str
    build: Callable[[Any, int], Any]        # (config, vocabulary size) -> model with init(key) -> params
    loss: Callable
    arrays: Callable                        # (model, params, data) -> {kind: [V, d], 'mask': [V]}
    kinds: tuple[str, ...]                  # the kinds ``arrays`` (and ``finish``) write
    scored: tuple[str, ...]                 # the kinds worth scoring when there are visual words
    sampler: Callable | None = None         # (config, n_visual) -> SamplerConfig fields beyond the config's
    device_features: Callable | None = None  # (model, scaled features) -> the feature array the loss reads
    total_steps: Callable | None = None     # (config, steps_per_call) -> steps (default: config.epochs passes)
    text_only: bool = False                 # trained on the corpus without its features
    pretrained: Callable | None = None      # (config, data, log) -> arrays, or None to train
    finish: Callable | None = None          # (config, arrays, keys, log) -> arrays, after training
    visual_only: Callable | None = None     # (model, params, data) -> arrays of words with features, no text


def pixie_sampler(config, n_visual: int) -> dict:
    """PIXIE's batch: text and visual centres, and the VAE term's word draws (none without features)."""
    s = config.sampler
    return {"visual_centres": s.visual_centres if n_visual else 0, "visual_words": s.visual_words if n_visual else 0}


def build_pixie(config, vocab_size: int, cls=Pixie) -> Pixie:
    m = config.model
    if m.fusion not in FUSIONS:
        raise ValueError(f"unknown fusion {m.fusion!r}; choose one of {sorted(FUSIONS)}")
    return cls(vocab_size, m.dim, m.features, m.hidden, FUSIONS[m.fusion])


def build_vsgns(config, vocab_size: int) -> vsgns.VSgns:
    if config.vsgns.model not in ("A", "B"):
        raise ValueError(f"vsgns.model must be 'A' (fixed projection) or 'B' (learned map), got {config.vsgns.model!r}")
    m = config.model
    return vsgns.VSgns(vocab_size, m.dim, m.features, config.vsgns.gamma, config.vsgns.model == "B")


def vsgns_sampler(config, n_visual: int) -> dict:
    """SGNS's centres and, per visual centre, ``vsgns.negatives`` visual words for the margin term."""
    return {"visual_centres": config.sampler.visual_centres if n_visual else 0, "visual_words": 0,
            "margin_negatives": config.vsgns.negatives if n_visual else 0}


def sgns_file_vectors(path, vocab_words) -> np.ndarray:
    """Kind e of an embeddings file, rows in ``vocab_words`` order; every word must be there."""
    arrays = io.load_embeddings(path)
    index = {w: i for i, w in enumerate(arrays["words"])}
    missing = [w for w in vocab_words if w not in index]
    if missing:
        raise ValueError(f"{path}: {len(missing)} vocabulary words are missing (first {missing[0]!r}); "
                         f"train the SGNS embeddings on the same corpus, min_count and max_vocab")
    return np.asarray(arrays["e"], np.float32)[[index[w] for w in vocab_words]]


def ivsgns_pretrained(config, data, log):
    """IV-SGNS's text embeddings from ``config.ivsgns.sgns`` if it names a file (else None: train SGNS)."""
    if not config.ivsgns.sgns:
        return None
    log(f"IV-SGNS: text embeddings from {config.ivsgns.sgns}")
    return embeddings.visual_arrays(data) | {"e": sgns_file_vectors(config.ivsgns.sgns, data.vocab.words)}


def ivsgns_finish(config, arrays: dict, keys, log) -> dict:
    """The imagined features fx = f(e) of every word, f fitted on the visual words."""
    fx = ivsgns.imagined_features(config, arrays["e"], arrays["mask"], arrays["x"], keys.fit)
    log(f"IV-SGNS: {config.ivsgns.map} map fitted on {int(arrays['mask'].sum()):,} visual words")
    return arrays | {"fx": fx}


def build_sampler(config, n_visual: int, spec: ModelSpec | None = None) -> sampling.SamplerConfig:
    """The config's sampler settings with the model's own batch fields (:attr:`ModelSpec.sampler`; a
    model without them draws text centres only); ``spec`` defaults to the config's model."""
    s, spec = config.sampler, spec or get(config)
    fields = spec.sampler(config, n_visual) if spec.sampler else {"visual_centres": 0, "visual_words": 0}
    return sampling.SamplerConfig(
        window=s.window, contexts_per_centre=s.contexts_per_centre, negatives=s.negatives,
        negative_group=s.negative_group, text_centres=fields.pop("text_centres", s.text_centres),
        samples=s.samples, latent=config.model.dim, visual_rows=n_visual,
        enumerate_window=s.enumerate_window, corpus_order=s.corpus_order,
        corpus_streams=s.corpus_streams, shuffle=s.shuffle, **fields)


MODELS: dict[str, ModelSpec] = {}


def register(spec: ModelSpec) -> ModelSpec:
    """Make ``spec`` trainable as ``config.model.name = spec.name``; returns it."""
    if spec.name in MODELS and MODELS[spec.name] is not spec:
        raise ValueError(f"a model named {spec.name!r} is already registered")
    MODELS[spec.name] = spec
    return spec


def get(config) -> ModelSpec:
    """The spec ``config.model.name`` names (default 'pixie'): a registered name, or a model of one's own
    as a Python file (``path/to/model.py``) or an importable module (``package.module``) whose ``SPEC``
    is its :class:`ModelSpec`."""
    name = config.model.get("name", "pixie")
    if name in MODELS:
        return MODELS[name]
    if name.endswith(".py") or "." in name:
        return _LOADED.get(name) or _load(name)
    raise ValueError(f"unknown model.name {name!r}; choose one of {', '.join(MODELS)}, or give a model's own file "
                     f"(path/to/model.py) or module (package.module) that defines SPEC")


_LOADED: dict[str, ModelSpec] = {}  # model.name -> the spec its file or module defined (each loaded once)


def _load(name: str) -> ModelSpec:
    """The ``SPEC`` of the file or module ``name``, registered."""
    if name.endswith(".py"):
        path = Path(name).expanduser()
        if not path.is_file():
            raise ValueError(f"model.name {name!r}: no such file")
        module_spec = importlib.util.spec_from_file_location(f"pixie_jax_model_{len(_LOADED)}_{path.stem}", path)
        module = importlib.util.module_from_spec(module_spec)
        module_spec.loader.exec_module(module)
    else:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as err:
            raise ValueError(f"model.name {name!r}: no module {err.name!r} to import") from None
    spec = getattr(module, "SPEC", None)
    if not isinstance(spec, ModelSpec):
        raise ValueError(f"model.name {name!r}: defines no SPEC (a pixie_jax.registry.ModelSpec, "
                         f"docs/adding_a_model.md)")
    _LOADED[name] = register(spec)
    return spec


register(ModelSpec("pixie", build_pixie, objective.rows_loss, embeddings.pixie_arrays,
                   kinds=("e", "v", "mu", "x", "s", "t"), scored=("e", "s", "t"), sampler=pixie_sampler,
                   visual_only=lambda model, params, data: embeddings.visual_only_embeddings(
                       model, params, data, text_dim=model.dim)))
register(ModelSpec("vsgns", build_vsgns, vsgns.rows_loss, embeddings.table_arrays, kinds=("e", "v", "x"),
                   scored=("e",), sampler=vsgns_sampler,
                   device_features=lambda model, features: model.target_features(features)))
register(ModelSpec("vae", lambda config, v: build_pixie(config, v, vae.Vae), vae.rows_loss, embeddings.vae_arrays,
                   kinds=("mu", "x"), scored=("mu",), sampler=vae.sampler_fields, total_steps=vae.total_steps,
                   visual_only=embeddings.visual_only_embeddings))
register(ModelSpec("ivsgns", build_pixie, objective.rows_loss, embeddings.table_arrays, kinds=("e", "v", "x", "fx"),
                   scored=("e", "e+fx"), sampler=pixie_sampler, text_only=True, pretrained=ivsgns_pretrained,
                   finish=ivsgns_finish))
