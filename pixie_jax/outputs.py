"""What a training run writes: embeddings.npz, the chosen embedding as word2vec text, a similarity table."""
from __future__ import annotations

import json
from pathlib import Path

import jax.numpy as jnp
import numpy as np

from pixie_jax import io
from pixie_jax.evaluate import kinds as kinds_lib, similarity
from pixie_jax.files import atomic_write
from pixie_jax.model import Pixie, embedding_s, embedding_t


def visual_arrays(data) -> dict:
    """The visual mask m_w and raw features x_w (zero rows for words without them) over the vocabulary."""
    mask = (data.vis_index >= 0).astype(np.float32)
    x = np.zeros((len(data.vocab), data.raw_features.shape[1]), np.float32)
    rows = np.flatnonzero(mask)
    x[rows] = data.raw_features[data.vis_index[rows]]
    return {"x": x, "mask": mask}


def encoder_means(model: Pixie, params, data) -> np.ndarray:
    """mu_phi(x_w) for the words with features, zero rows for the others."""
    mu = np.zeros((len(data.vocab), model.dim), np.float32)
    rows = np.flatnonzero(data.vis_index >= 0)
    if len(rows):
        mu[rows] = np.asarray(model.encode(params, jnp.asarray(data.features[data.vis_index[rows]]))[0])
    return mu


def embedding_arrays(model, params, data) -> dict:
    """e, v, x and the visual mask for every vocabulary word; for PIXIE also mu, s and t."""
    arrays = visual_arrays(data) | {"e": np.asarray(params["e"]), "v": np.asarray(params["v"])}
    if isinstance(model, Pixie):
        mu, mask = encoder_means(model, params, data), arrays["mask"]
        arrays |= {"mu": mu, "s": np.asarray(embedding_s(arrays["e"], mu, mask)),
                   "t": np.asarray(embedding_t(arrays["e"], mu, mask))}
    return arrays


def visual_only_embeddings(model: Pixie, params, data, text_dim: int | None = None) -> dict:
    """Words with features but outside the vocabulary have no text: e_w = 0, so
    s_w = mu_phi(x_w) and t_w = [0, mu_phi(x_w)], with x_w scaled as the training words were.
    ``text_dim=None`` (a model without text) gives mu and x only."""
    mu = np.asarray(model.encode(params, jnp.asarray(data.scaling.apply(data.visual_only_features)))[0])
    if text_dim is None:
        return {"mu": mu, "x": data.visual_only_features}
    zeros = np.zeros((len(mu), text_dim), np.float32)
    return {"mu": mu, "s": mu, "t": np.concatenate([zeros, mu], axis=1), "x": data.visual_only_features}


def write_outputs(config, workdir, arrays: dict, data, kinds=("e",), visual_only: dict | None = None,
                  log=print) -> dict:
    """Write embeddings.npz, embeddings.txt (``config.embedding``) and similarity.json (``kinds``) into
    ``workdir``; ``visual_only`` arrays go to visual_only_embeddings.npz. Return the scores."""
    workdir = Path(workdir)
    arrays = dict(arrays)
    mask = arrays.pop("mask")
    io.save_embeddings(workdir / "embeddings.npz", data.vocab.words, mask, **arrays)
    named = arrays | {"words": list(data.vocab.words), "mask": mask}
    io.save_word2vec_text(workdir / "embeddings.txt", data.vocab.words, kinds_lib.vectors(named, config.embedding))
    data.vocab.save(workdir / "vocab.tsv")
    if visual_only:
        io.save_embeddings(workdir / "visual_only_embeddings.npz", data.visual_only_words,
                           np.ones(len(data.visual_only_words)), **visual_only)
        log(f"wrote {workdir / 'visual_only_embeddings.npz'} ({len(data.visual_only_words)} words with features "
            f"but no text: {', '.join(sorted(visual_only))})")
    log(f"wrote {workdir / 'embeddings.npz'} (kinds {', '.join(sorted(arrays))}; {int(mask.sum())} visual words) "
        f"and {workdir / 'embeddings.txt'} ({config.embedding}, word2vec text)")
    if not config.benchmarks:
        return {}
    benches = similarity.load_benchmarks(config.benchmarks)
    results = {k: similarity.evaluate(data.vocab.words, kinds_lib.vectors(named, k), mask, benches,
                                      kinds_lib.settings_for(k)) for k in kinds}
    log(similarity.format_table(results))
    with atomic_write(workdir / "similarity.json", "w") as f:
        json.dump({k: [s.__dict__ | {"coverage": s.coverage} for s in v] for k, v in results.items()}, f, indent=1)
    return results
