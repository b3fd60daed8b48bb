"""IV-SGNS (Collell et al., 2017): "imagined" visual features predicted from text embeddings.

A map f is fitted on the visual words from trained SGNS embeddings e_w to their features x_w,
then every word, visual or not, is embedded as [e_w / |e_w|, f(e_w) / |f(e_w)|]
(kind ``e+fx`` of the embeddings file).

    linear:    f(e) = W^T e + b,  (W, b) = argmin sum_w |W^T e_w + b - x_w|^2 + alpha |W|^2   (ridge; b free)
    nonlinear: f(e) = W2^T tanh(W1^T e + b1) + b2,  mean squared error minimised by Adam (full batch)
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import optax

from pixie_jax.core.vectors import fit_linear, predict_linear
from pixie_jax.data import embedding_files
from pixie_jax.errors import InputError
from pixie_jax.models import embeddings, pixie
from pixie_jax.models.spec import ComposedSpec


def init_mlp(key, dim: int, hidden: int, features: int) -> dict:
    k1, k2 = jax.random.split(key)
    return {
        "w1": jax.random.normal(k1, (dim, hidden)) / np.sqrt(dim),
        "b1": jnp.zeros(hidden),
        "w2": jax.random.normal(k2, (hidden, features)) / np.sqrt(hidden),
        "b2": jnp.zeros(features),
    }


def mlp(params, e):
    """f(e) = W2^T tanh(W1^T e + b1) + b2."""
    return jnp.tanh(e @ params["w1"] + params["b1"]) @ params["w2"] + params["b2"]


def fit_mlp(
    key, e: np.ndarray, x: np.ndarray, hidden: int = 300, steps: int = 2000, learning_rate: float = 1e-3
) -> dict:
    """Adam on the mean squared error over all the rows (full batch), the output bias started at mean(x)."""
    params = init_mlp(key, e.shape[1], hidden, x.shape[1])
    params["b2"] = jnp.asarray(x.mean(0))
    optimizer = optax.adam(learning_rate)
    e, x = jnp.asarray(e, jnp.float32), jnp.asarray(x, jnp.float32)
    mse = lambda p: jnp.mean((mlp(p, e) - x) ** 2)  # noqa: E731

    def step(carry, _):
        p, state = carry
        value, grads = jax.value_and_grad(mse)(p)
        updates, state = optimizer.update(grads, state, p)
        return (optax.apply_updates(p, updates), state), value

    train = jax.jit(lambda p, s: jax.lax.scan(step, (p, s), None, length=steps))
    (params, _), _ = train(params, optimizer.init(params))
    return jax.device_get(params)


MAPS = ("linear", "nonlinear")  # ivsgns.map: the maps imagined_features fits


def imagined_features(config, e: np.ndarray, mask: np.ndarray, x: np.ndarray, key) -> np.ndarray:
    """f(e_w) for every row of ``e``, f fitted on the rows where ``mask`` is set (``x`` their features)
    with ``config.ivsgns`` (``map``: 'linear' or 'nonlinear', whose initialisation draws from ``key``)."""
    c = config.ivsgns
    rows = np.flatnonzero(np.asarray(mask) > 0)
    if len(rows) < 2:
        raise InputError(f"IV-SGNS needs at least 2 visual words to fit its map, got {len(rows)}")
    if c.map == "linear":
        return predict_linear(fit_linear(e[rows], x[rows], c.ridge), e)
    if c.map == "nonlinear":
        params = fit_mlp(key, e[rows], x[rows], c.hidden, c.steps, c.learning_rate)
        return np.asarray(mlp(params, jnp.asarray(e, jnp.float32)))
    raise InputError(f"ivsgns.map must be 'linear' or 'nonlinear', got {c.map!r}")


def sgns_file_vectors(path, vocab_words) -> np.ndarray:
    """Kind e of an embeddings file, rows in ``vocab_words`` order; every word must be there."""
    arrays = embedding_files.load_embeddings(path)
    index = {w: i for i, w in enumerate(arrays["words"])}
    missing = [w for w in vocab_words if w not in index]
    if missing:
        raise InputError(
            f"{path}: {len(missing)} vocabulary words are missing (first {missing[0]!r}); "
            f"train the SGNS embeddings on the same corpus, min_count and max_vocab"
        )
    return np.asarray(arrays["e"], np.float32)[[index[w] for w in vocab_words]]


def pretrained(config, data, log):
    """IV-SGNS's text embeddings from ``config.ivsgns.sgns`` if it names a file (else None: train SGNS)."""
    if not config.ivsgns.sgns:
        return None
    log(f"IV-SGNS: text embeddings from {config.ivsgns.sgns}")
    return embeddings.visual_arrays(data) | {"e": sgns_file_vectors(config.ivsgns.sgns, data.vocab.words)}


def fit_map(config, arrays: dict, keys, log) -> dict:
    """The imagined features fx = f(e) of every word, f fitted on the visual words."""
    fx = imagined_features(config, arrays["e"], arrays["mask"], arrays["x"], keys.fit)
    log(f"IV-SGNS: {config.ivsgns.map} map fitted on {int(arrays['mask'].sum()):,} visual words")
    return arrays | {"fx": fx}


def settings() -> dict:
    """config.ivsgns: IV-SGNS's own settings and their defaults."""
    return {
        "map": "linear",  # or 'nonlinear'
        "ridge": 1.0,  # alpha of the linear map
        "hidden": 300,  # tanh units of the nonlinear map
        "steps": 2000,  # full-batch Adam steps of the nonlinear map
        "learning_rate": 1e-3,
        "sgns": "",
    }  # an embeddings.npz with kind e on the same vocabulary; '' trains SGNS


SPEC = ComposedSpec(
    "ivsgns",
    "pixie",  # without features: SGNS
    fit_map,
    kinds=("e", "v", "x", "fx"),
    scored_kinds=("e", "e+fx"),
    existing=pretrained,
    settings=settings,
    embedding="e+fx",
    rules=(*pixie.RULES, ("ivsgns.steps", 1, True), ("ivsgns.hidden", 1, True), ("ivsgns.ridge", 0, True)),
    choices=(*pixie.CHOICES, ("ivsgns.map", MAPS)),
)
