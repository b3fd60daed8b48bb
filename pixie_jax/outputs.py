"""What a training run writes: embeddings.npz, the chosen embedding as word2vec text, a similarity table."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from pixie_jax.data import embedding_files
from pixie_jax.evaluate import kinds as kinds_lib
from pixie_jax.evaluate import similarity
from pixie_jax.files import atomic_write
from pixie_jax.training import metrics_log


def write_outputs(
    config, workdir, arrays: dict, data, kinds=("e",), visual_only: dict | None = None, log=print
) -> dict:
    """Write embeddings.npz, embeddings.txt (``config.embedding``) and similarity.json (``kinds``) into
    ``workdir``; ``visual_only`` arrays go to visual_only_embeddings.npz. Return the scores."""
    workdir = Path(workdir)
    arrays = dict(arrays)
    mask = arrays.pop("mask")
    embedding_files.save_embeddings(workdir / "embeddings.npz", data.vocab.words, mask, **arrays)
    named = arrays | {"words": list(data.vocab.words), "mask": mask}
    embedding_files.save_word2vec_text(
        workdir / "embeddings.txt", data.vocab.words, kinds_lib.vectors(named, config.embedding)
    )
    data.vocab.save(workdir / "vocab.tsv")
    if visual_only:
        embedding_files.save_embeddings(
            workdir / "visual_only_embeddings.npz",
            data.visual_only_words,
            np.ones(len(data.visual_only_words)),
            **visual_only,
        )
        log(
            f"wrote {workdir / 'visual_only_embeddings.npz'} ({len(data.visual_only_words)} words with features "
            f"but no text: {', '.join(sorted(visual_only))})"
        )
    log(
        f"wrote {workdir / 'embeddings.npz'} (kinds {', '.join(sorted(arrays))}; {int(mask.sum())} visual words) "
        f"and {workdir / 'embeddings.txt'} ({config.embedding}, word2vec text)"
    )
    if not config.benchmarks:
        return {}
    benches = similarity.load_benchmarks(config.benchmarks)
    results = {
        k: similarity.evaluate(data.vocab.words, kinds_lib.vectors(named, k), mask, benches, kinds_lib.settings_for(k))
        for k in kinds
    }
    log(similarity.format_table(results))
    with atomic_write(workdir / "similarity.json", "w") as f:
        json.dump({k: [s.__dict__ | {"coverage": s.coverage} for s in v] for k, v in results.items()}, f, indent=1)
    metrics_log.log_scores(workdir, results)
    return results
