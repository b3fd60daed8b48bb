"""Retrieval: the triplet losses, recall, data formats, and learning on a generated task."""
import warnings

import jax.numpy as jnp
import numpy as np
import pytest

from pixie_jax.evaluate import retrieval as R


def test_triplet_losses_by_hand():
    s = np.array([[0.9, 0.5, 0.1], [0.8, 0.3, 0.0], [0.2, 0.2, 0.6]])
    m = 0.2
    by_hand = 0.0
    for i in range(3):
        for j in range(3):
            if i != j:
                by_hand += max(0, m - s[i, i] + s[i, j]) + max(0, m - s[j, j] + s[i, j])
    assert float(R.triplet_loss(jnp.asarray(s), m)) == pytest.approx(by_hand, rel=1e-6)
    hard = sum(max(max(0, m - s[i, i] + s[i, j]) for j in range(3) if j != i) for i in range(3)) + \
        sum(max(max(0, m - s[j, j] + s[i, j]) for i in range(3) if i != j) for j in range(3))
    assert float(R.triplet_loss(jnp.asarray(s), m, hardest=True)) == pytest.approx(hard, rel=1e-6)


def test_recalls_count_any_caption_of_an_image():
    images = np.eye(3)
    captions = np.array([[0, 1.0, 0], [1.0, 0, 0], [0, 0, 1.0], [0, 0.9, 0.1]])
    caption_image = np.array([0, 1, 2, 1])  # caption 0 is wrong for image 0, caption 3 right for image 1
    r = R.recalls(images, captions, caption_image, ks=(1, 2))
    assert r["i2t_R@1"] == pytest.approx(100 / 3)   # image 2 only
    assert r["t2i_R@1"] == pytest.approx(50.0)      # captions 2 and 3


def test_precomputed_format_and_count_mismatch(tmp_path):
    np.save(tmp_path / "test_ims.npy", np.ones((2, 4)))
    (tmp_path / "test_caps.txt").write_text("A dog runs.\n" * 10)
    split = R.load_precomputed(tmp_path, "test")
    assert split.captions[0] == ["a", "dog", "runs"] and list(split.caption_image) == [0] * 5 + [1] * 5
    (tmp_path / "test_caps.txt").write_text("A dog runs.\n" * 9)
    with pytest.raises(R.RetrievalDataError, match="9 captions for 2 images.*expected 5 per image"):
        R.load_precomputed(tmp_path, "test")


def test_captions_without_known_words_are_dropped_with_a_count():
    split = R.Split(np.ones((3, 2)), [["a", "zz"], ["zz"], ["b"]], np.arange(3))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        ids, lengths, kept = R.encode_captions(split, ["a", "b"], max_len=4)
    assert list(kept) == [0, 2] and list(lengths) == [1, 1] and ids[0, 0] == 1 and ids[1, 0] == 2
    assert any("1 of 3 captions have no word" in str(w.message) for w in caught)


def _generated(n, rng, words, proj):
    caps = [list(rng.choice(words, size=rng.integers(2, 5), replace=False)) for _ in range(n)]
    index = {w: i for i, w in enumerate(words)}
    images = np.stack([proj[[index[w] for w in c]].sum(0) for c in caps]) + rng.normal(scale=0.1, size=(n, 16))
    return R.Split(images.astype(np.float32), caps, np.arange(n))


def test_loss_falls_and_recall_is_far_above_chance():
    rng = np.random.default_rng(0)
    words = [f"w{i}" for i in range(40)]
    proj = rng.normal(size=(40, 16))
    table = rng.normal(size=(40, 12)).astype(np.float32)
    splits = {"train": _generated(400, rng, words, proj), "test": _generated(100, rng, words, proj)}
    cfg = R.RetrievalConfig(size=64, epochs=12, decay_every=8, batch_size=50, learning_rate=3e-3)
    _, results, losses = R.train_and_evaluate(words, table, splits, cfg, log=lambda *a: None)
    assert losses[-1] < 0.5 * losses[0]
    assert results["test"]["i2t_R@10"] > 50 and results["test"]["t2i_R@10"] > 50  # chance: 10%


def test_bin_retrieval_on_the_precomputed_format(tmp_path):
    import json
    import subprocess
    import sys
    from conftest import ROOT
    from pixie_jax import io
    rng = np.random.default_rng(1)
    words = [f"x{chr(97 + i)}" for i in range(26)]  # letters only: captions are normalised to a-z
    proj = rng.normal(size=(26, 8))
    for split, n in (("train", 60), ("dev", 20), ("test", 20)):
        caps = [list(rng.choice(words, size=3, replace=False)) for _ in range(n * 5)]
        ims = np.stack([proj[[words.index(w) for w in caps[5 * i]]].sum(0) for i in range(n)])
        np.save(tmp_path / f"{split}_ims.npy", ims)
        (tmp_path / f"{split}_caps.txt").write_text("\n".join(" ".join(c) for c in caps) + "\n")
    io.save_embeddings(tmp_path / "emb.npz", words, np.zeros(26), e=rng.normal(size=(26, 6)))
    emb = f"toy={tmp_path / 'emb.npz'}"
    out = subprocess.run([sys.executable, str(ROOT / "bin" / "retrieval"), "--embeddings", emb,
                          "--data", f"precomputed:{tmp_path}", "--config", str(ROOT / "configs" / "retrieval.py"),
                          "--config.size=16", "--config.epochs=2", "--config.batch_size=50",
                          f"--workdir={tmp_path / 'run'}"], capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    assert "toy:e" in out.stdout and "i2t_R@10" in out.stdout
    report = json.loads((tmp_path / "run" / "retrieval.json").read_text())
    assert set(report["toy:e"]["mean"]) == {f"{d}_R@{k}" for d in ("i2t", "t2i") for k in (1, 5, 10)}
    assert (tmp_path / "run" / "toy" / "model_fold0.msgpack").stat().st_size > 0
