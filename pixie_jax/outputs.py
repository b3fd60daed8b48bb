"""What a training run writes: embeddings.npz, the chosen embedding as word2vec text, a similarity table."""
from __future__ import annotations

import json
from pathlib import Path

import jax.numpy as jnp
import numpy as np

from pixie_jax import io
from pixie_jax.evaluate import similarity
from pixie_jax.files import atomic_write
from pixie_jax.model import Pixie, embedding_s, embedding_t


def embedding_arrays(model: Pixie, params, data) -> dict:
    """e, v, mu, x, s, t and the visual mask for every vocabulary word."""
    v_size = len(data.vocab)
    mask = (data.vis_index >= 0).astype(np.float32)
    mu = np.zeros((v_size, model.dim), np.float32)
    x = np.zeros((v_size, data.raw_features.shape[1]), np.float32)
    if data.n_visual:
        rows = np.flatnonzero(mask)
        mu_vis, _ = model.encode(params, jnp.asarray(data.features[data.vis_index[rows]]))
        mu[rows] = np.asarray(mu_vis)
        x[rows] = data.raw_features[data.vis_index[rows]]
    e = np.asarray(params["e"])
    return {"e": e, "v": np.asarray(params["v"]), "mu": mu, "x": x,
            "s": np.asarray(embedding_s(e, mu, mask)), "t": np.asarray(embedding_t(e, mu, mask)), "mask": mask}


def visual_only_embeddings(model: Pixie, params, data) -> dict:
    """Words with features but outside the vocabulary have no text: e_w = 0, so
    s_w = mu_phi(x_w) and t_w = [0, mu_phi(x_w)], with x_w scaled as the training words were."""
    mu = np.asarray(model.encode(params, jnp.asarray(data.scaling.apply(data.visual_only_features)))[0])
    zeros = np.zeros_like(mu)
    return {"mu": mu, "s": mu, "t": np.concatenate([zeros, mu], axis=1), "x": data.visual_only_features}


def write_outputs(config, workdir, model: Pixie, params, data, log=print) -> dict:
    """Write embeddings.npz, embeddings.txt and similarity.json into ``workdir``; return the scores."""
    workdir = Path(workdir)
    arrays = embedding_arrays(model, params, data)
    mask = arrays.pop("mask")
    io.save_embeddings(workdir / "embeddings.npz", data.vocab.words, mask, **arrays)
    io.save_word2vec_text(workdir / "embeddings.txt", data.vocab.words, arrays[config.embedding])
    data.vocab.save(workdir / "vocab.tsv")
    if data.visual_only_words and data.scaling is not None:
        only = visual_only_embeddings(model, params, data)
        io.save_embeddings(workdir / "visual_only_embeddings.npz", data.visual_only_words,
                           np.ones(len(data.visual_only_words)), **only)
        log(f"wrote {workdir / 'visual_only_embeddings.npz'} ({len(data.visual_only_words)} words with features "
            f"but no text: s = mu(x), t = [0, mu(x)])")
    log(f"wrote {workdir / 'embeddings.npz'} (kinds e, v, mu, x, s, t; {int(mask.sum())} visual words) and "
        f"{workdir / 'embeddings.txt'} ({config.embedding}, word2vec text)")
    if not config.benchmarks:
        return {}
    benches = similarity.load_benchmarks(config.benchmarks)
    kinds = ["e"] if not data.n_visual else ["e", "s", "t"]
    results = {k: similarity.evaluate(data.vocab.words, arrays[k], mask, benches) for k in kinds}
    log(similarity.format_table(results))
    with atomic_write(workdir / "similarity.json", "w") as f:
        json.dump({k: [s.__dict__ | {"coverage": s.coverage} for s in v] for k, v in results.items()}, f, indent=1)
    return results
