"""The run's independent random streams, all derived from ``config.seed`` here and nowhere else.

    stream i = fold_in(key(seed), i):  0 batches (then fold_in(., step)), 1 subsampling (fold_in(., pass)),
                                       2 parameter initialisation, 4 fitting IV-SGNS's nonlinear map

(3 was the standalone VAE loop's batches; the numbers stay fixed so that runs reproduce across versions.)
"""

from __future__ import annotations

from typing import NamedTuple

import jax


class StreamKeys(NamedTuple):
    sample: jax.Array  # batches: fold_in(sample, step)
    subsample: jax.Array  # the subsampling of each pass: fold_in(subsample, pass)
    init: jax.Array  # parameter initialisation
    fit: jax.Array  # post-training fits (IV-SGNS's nonlinear map)


def stream_keys(seed: int) -> StreamKeys:
    root = jax.random.key(seed)
    return StreamKeys(*(jax.random.fold_in(root, i) for i in (0, 1, 2, 4)))
