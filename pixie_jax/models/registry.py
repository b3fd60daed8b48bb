"""The models the experiments know, by ``config.model.name``: each model module's ``SPEC``
(:class:`~pixie_jax.models.spec.ModelSpec`: how to build it from a config and bind it to a run's data
and batch for the trainer, its own settings' rules, the embedding kinds it writes).
:func:`register` adds one; ``config.model.name`` may also name a model's own file or module
(docs/adding_a_model.md).

    pixie   PIXIE (eq. 9), :mod:`pixie_jax.models.pixie`; with ``features = ''`` SGNS  kinds e, v, mu, x, s, t
    vsgns   V-SGNS, :mod:`pixie_jax.models.vsgns`                       kinds e, v, x
    vae     the visual component alone, :mod:`pixie_jax.models.vae`    kinds mu, x
    ivsgns  SGNS + a map e -> x, :mod:`pixie_jax.models.ivsgns`         kinds e, v, x, fx (IV-SGNS is e+fx)
"""

from __future__ import annotations

import importlib
import importlib.util
from pathlib import Path

import ml_collections

from pixie_jax.errors import InputError, add_user_file
from pixie_jax.models import ivsgns, pixie, vae, vsgns
from pixie_jax.models.spec import ComposedSpec, ModelSpec  # also reached as registry.ModelSpec
from pixie_jax.training import sampling


def add_model_settings(config) -> bool:
    """Where ``config.model.name`` names a model with settings of its own (:attr:`ModelSpec.settings`)
    and the config has no section for them, add ``config.<its name>`` with their defaults, so that
    ``--config.<its name>.<key>`` reaches them and its rules check them; return whether it did."""
    if "model" not in config or "name" not in config.model:
        return False
    spec = get(config)
    if spec.settings is None or spec.name in config:
        return False
    config[spec.name] = ml_collections.ConfigDict(spec.settings())
    return True


def configure(config, name: str):
    """``config`` set to train the model ``name`` (as ``config.model.name`` may name it): its own settings'
    defaults as ``config.<its name>`` (:attr:`ModelSpec.settings`), its default embedding kind."""
    config.model.name = name
    spec = get(config)
    if spec.settings is not None:
        config[spec.name] = ml_collections.ConfigDict(spec.settings())
    config.embedding = spec.embedding or config.embedding
    return config


def build_sampler(config, n_visual: int, spec: ModelSpec | None = None) -> sampling.SamplerConfig:
    """The config's sampler settings with the model's own batch fields (:attr:`ModelSpec.sampler`; a
    model without them draws text centres only); ``spec`` defaults to the config's model."""
    s, spec = config.sampler, trained(spec or get(config))
    fields = spec.sampler(config, n_visual) if spec.sampler else {"visual_centres": 0, "visual_words": 0}
    return sampling.SamplerConfig(
        window=s.window,
        contexts_per_centre=s.contexts_per_centre,
        negatives=s.negatives,
        negative_group=s.negative_group,
        text_centres=fields.pop("text_centres", s.text_centres),
        samples=s.samples,
        latent=config.model.dim,
        visual_rows=n_visual,
        enumerate_window=s.enumerate_window,
        shuffle=s.shuffle,
        **fields,
    )


MODELS: dict[str, ModelSpec | ComposedSpec] = {}


def trained(spec: ModelSpec | ComposedSpec) -> ModelSpec:
    """The model a run trains for ``spec``: itself, or the base of a composed model (IV-SGNS: PIXIE's spec,
    trained without features)."""
    return MODELS[spec.base] if isinstance(spec, ComposedSpec) else spec


def register(spec: ModelSpec) -> ModelSpec:
    """Make ``spec`` trainable as ``config.model.name = spec.name``; returns it."""
    if spec.name in MODELS and MODELS[spec.name] is not spec:
        raise InputError(f"a model named {spec.name!r} is already registered")
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
        key = str(Path(name).expanduser().resolve()) if name.endswith(".py") else name  # one file, however named
        return _LOADED.get(key) or _load(name, key)
    raise InputError(
        f"unknown model.name {name!r}; choose one of {', '.join(MODELS)}, or give a model's own file "
        f"(path/to/model.py) or module (package.module) that defines SPEC"
    )


_LOADED: dict[str, ModelSpec] = {}  # model.name -> the spec its file or module defined (each loaded once)


def _load(name: str, key: str) -> ModelSpec:
    """The ``SPEC`` of the file or module ``name``, registered and kept under ``key``."""
    if name.endswith(".py"):
        path = Path(name).expanduser()
        if not path.is_file():
            raise InputError(f"model.name {name!r}: no such file")
        add_user_file(path)
        module_spec = importlib.util.spec_from_file_location(f"pixie_jax_model_{len(_LOADED)}_{path.stem}", path)
        module = importlib.util.module_from_spec(module_spec)
        module_spec.loader.exec_module(module)
    else:
        try:  # the module's file, before it runs: an exception raised there is the user's
            origin = getattr(importlib.util.find_spec(name), "origin", None)
        except (ImportError, ValueError):
            origin = None
        if origin and Path(origin).is_file():
            add_user_file(origin)
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as err:
            raise InputError(f"model.name {name!r}: no module {err.name!r} to import") from None
    spec = getattr(module, "SPEC", None)
    if not isinstance(spec, ModelSpec | ComposedSpec):
        raise InputError(
            f"model.name {name!r}: defines no SPEC (a pixie_jax.models.spec.ModelSpec, docs/adding_a_model.md)"
        )
    _LOADED[key] = register(spec)
    return spec


for _spec in (pixie.SPEC, vsgns.SPEC, vae.SPEC, ivsgns.SPEC):
    register(_spec)
