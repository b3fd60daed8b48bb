"""VAE: PIXIE's visual component alone, trained without text; a word's embedding is mu_phi(x_w).

    J_VAE = 1/|V_x| sum_{w in V_x} -( E_{z ~ q_phi(z|x_w)} log p_theta(x_w|z) - KL(q_phi(z|x_w) || N(0, I)) )

the visual term of eq. (9) with the same encoder and decoder (:mod:`pixie_jax.model`),
estimated on B words drawn uniformly per step with J reparameterised samples each, as PIXIE
estimates it, and minimised with the config's network optimizer.
"""
from __future__ import annotations

import functools
import json
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
import optax
from tqdm.auto import tqdm

from pixie_jax import train as train_lib
from pixie_jax.model import Pixie, visual_elbo


def init_networks(model: Pixie, key) -> dict:
    """The encoder and decoder parameters of :meth:`Pixie.init` (no word tables)."""
    return {k: v for k, v in model.init(key).items() if k in ("encoder", "decoder")}


def loss(model: Pixie, params, x, eps):
    """Minus the mean ELBO of the rows of ``x``; metrics: log-likelihood and KL means."""
    elbo, log_lik, kl = visual_elbo(model, params, x, eps)
    return -elbo.mean(), {"loss": -elbo.mean(), "visual_log_lik": log_lik.mean(), "visual_kl": kl.mean()}


def make_train_chunk(model: Pixie, optimizer, batch: int, samples: int, steps: int):
    """jit(chunk)(params, opt_state, key, start, features) -> (params, opt_state, metrics [steps])."""
    grad = jax.grad(functools.partial(loss, model), has_aux=True)

    def body(carry, step, key, features):
        params, opt_state = carry
        k_rows, k_eps = jax.random.split(jax.random.fold_in(key, step))
        rows = jax.random.randint(k_rows, (batch,), 0, features.shape[0])
        eps = jax.random.normal(k_eps, (batch, samples, model.dim))
        grads, metrics = grad(params, features[rows], eps)
        updates, opt_state = optimizer.update(grads, opt_state, params)
        return (optax.apply_updates(params, updates), opt_state), metrics

    @functools.partial(jax.jit, donate_argnums=(0, 1))
    def chunk(params, opt_state, key, start, features):
        f = functools.partial(body, key=key, features=features)
        (params, opt_state), metrics = jax.lax.scan(f, (params, opt_state), start + jnp.arange(steps))
        return params, opt_state, metrics

    return chunk


def train(config, data, workdir, log=print) -> dict:
    """Train the encoder and decoder on ``data.features`` for ``config.vae.steps`` steps; return their parameters."""
    if not data.n_visual:
        raise ValueError("the VAE needs visual features: set --config.features")
    model = train_lib.build_model(config, len(data.vocab))
    spc = config.steps_per_call
    total = max(spc, -(-config.vae.steps // spc) * spc)
    optimizer = train_lib.network_optimizer(config, total)
    init_key = train_lib.step_keys(config.seed).init
    step_key = jax.random.fold_in(jax.random.key(config.seed), 3)
    params = init_networks(model, init_key)
    opt_state = optimizer.init(params)
    chunk = make_train_chunk(model, optimizer, config.sampler.visual_words, config.sampler.samples, spc)
    features = jnp.asarray(data.features)
    workdir = Path(workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    log(f"training the VAE alone: {total:,} steps of {config.sampler.visual_words} of {data.n_visual:,} visual words")
    with open(workdir / "metrics.jsonl", "w", encoding="utf-8") as out, \
            tqdm(total=total, unit="step", disable=not config.progress, dynamic_ncols=True) as bar:
        for first in range(0, total, spc):
            params, opt_state, metrics = chunk(params, opt_state, step_key, jnp.int32(first), features)
            record = {k: float(np.mean(v)) for k, v in jax.device_get(metrics).items()}
            if not np.isfinite(record["loss"]):
                raise train_lib.TrainingError(f"the VAE's loss became non-finite between steps {first} and "
                                              f"{first + spc}; lower optimizer.network_learning_rate")
            out.write(json.dumps(record | {"step": first + spc}) + "\n")
            bar.update(spc)
            bar.set_postfix(loss=f"{record['loss']:.1f}")
    return jax.device_get(params)
