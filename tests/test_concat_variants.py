"""The labelled extensions of eq. (11): a weighted visual block, and mu filled in from e."""

import numpy as np
import pytest

from pixie_jax.core import vectors
from pixie_jax.evaluate import concat_variants as CV


def arrays(seed=0, n=40, k=3):
    rng = np.random.default_rng(seed)
    e = rng.normal(size=(n, k)).astype(np.float32)
    a = rng.normal(size=(k, k))
    mask = (np.arange(n) < n // 2).astype(np.float32)
    mu = ((e @ a + 0.5) * mask[:, None]).astype(np.float32)  # mu = A^T e + b on the visual words, 0 elsewhere
    return {"e": e, "mu": mu, "mask": mask, "a": a}


def test_weight_one_is_eq_11_and_other_weights_scale_the_visual_block():
    arr = arrays()
    t = np.asarray(vectors.embedding_t(arr["e"], arr["mu"], arr["mask"]))
    np.testing.assert_allclose(CV.weighted(arr, 1.0), t, rtol=1e-6)
    half = CV.weighted(arr, 0.5)
    np.testing.assert_allclose(half[:, :3], arr["e"])
    np.testing.assert_allclose(half[:, 3:], 0.5 * arr["mu"])


def test_filled_mu_keeps_the_visual_words_and_predicts_the_others_from_e():
    arr = arrays()
    out = CV.filled(arr, alpha=1e-6)
    visual = arr["mask"] > 0
    np.testing.assert_allclose(out[visual, 3:], arr["mu"][visual])
    np.testing.assert_allclose(out[~visual, 3:], arr["e"][~visual] @ arr["a"] + 0.5, atol=1e-4)  # exact map recovered
    arr["s"] = arr["e"] + arr["mu"]
    np.testing.assert_allclose(CV.whole(arr), np.concatenate([arr["s"], arr["mu"]], axis=1))
    assert set(CV.variants(arr)) == {
        "t (eq. 11)",
        "t, visual block x0.5 (extension)",
        "t, visual block x2 (extension)",
        "t with s for e (extension)",
        "t, mu filled from e (extension)",
    }
    with pytest.raises(ValueError, match="needs words with features"):
        CV.filled({**arr, "mask": np.zeros_like(arr["mask"])})
