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
    hard = sum(max(max(0, m - s[i, i] + s[i, j]) for j in range(3) if j != i) for i in range(3)) + sum(
        max(max(0, m - s[j, j] + s[i, j]) for i in range(3) if i != j) for j in range(3)
    )
    assert float(R.triplet_loss(jnp.asarray(s), m, hardest=True)) == pytest.approx(hard, rel=1e-6)


def test_recalls_count_any_caption_of_an_image():
    images = np.eye(3)
    captions = np.array([[0, 1.0, 0], [1.0, 0, 0], [0, 0, 1.0], [0, 0.9, 0.1]])
    caption_image = np.array([0, 1, 2, 1])  # caption 0 is wrong for image 0, caption 3 right for image 1
    r = R.recalls(images, captions, caption_image, ks=(1, 2))
    assert r["i2t_R@1"] == pytest.approx(100 / 3)  # image 2 only
    assert r["t2i_R@1"] == pytest.approx(50.0)  # captions 2 and 3


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

    from pixie_jax.data import embedding_files

    rng = np.random.default_rng(1)
    words = [f"x{chr(97 + i)}" for i in range(26)]  # letters only: captions are normalised to a-z
    proj = rng.normal(size=(26, 8))
    for split, n in (("train", 60), ("dev", 20), ("test", 20)):
        caps = [list(rng.choice(words, size=3, replace=False)) for _ in range(n * 5)]
        ims = np.stack([proj[[words.index(w) for w in caps[5 * i]]].sum(0) for i in range(n)])
        np.save(tmp_path / f"{split}_ims.npy", ims)
        (tmp_path / f"{split}_caps.txt").write_text("\n".join(" ".join(c) for c in caps) + "\n")
    embedding_files.save_embeddings(tmp_path / "emb.npz", words, np.zeros(26), e=rng.normal(size=(26, 6)))
    emb = f"toy={tmp_path / 'emb.npz'}"
    out = subprocess.run(
        [
            sys.executable,
            str(ROOT / "bin" / "retrieval"),
            "--embeddings",
            emb,
            "--data",
            f"precomputed:{tmp_path}",
            "--config",
            str(ROOT / "configs" / "retrieval.py"),
            "--config.size=16",
            "--config.epochs=2",
            "--config.batch_size=50",
            f"--workdir={tmp_path / 'run'}",
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert out.returncode == 0, out.stderr[-2000:]
    assert "toy:e" in out.stdout and "i2t_R@10" in out.stdout
    report = json.loads((tmp_path / "run" / "retrieval.json").read_text())
    assert set(report["toy:e"]["mean"]) == {f"{d}_R@{k}" for d in ("i2t", "t2i") for k in (1, 5, 10)}
    assert (tmp_path / "run" / "toy" / "model_fold0.msgpack").stat().st_size > 0


def test_bin_retrieval_checks_its_arguments_before_wordnet(tmp_path, capsys):
    from conftest import ROOT

    from pixie_jax import cli

    features = tmp_path / "photos.npz"
    np.savez(features, features=np.zeros((1, 2)))
    common = ["--config", str(ROOT / "configs" / "retrieval.py"), "--workdir", str(tmp_path / "run")]
    cases = [
        (
            [
                "--embeddings",
                str(tmp_path / "missing.npz"),
                "--data",
                f"imagenet-gloss:{features}",
                "--wordnet",
                str(tmp_path / "no wordnet"),
            ],
            "missing.npz: no such embeddings file",
        ),
        (
            ["--embeddings", str(tmp_path / "missing.npz"), "--data", f"imagenet-gloss:{tmp_path / 'none.npz'}"],
            "none.npz does not exist",
        ),
        (["--embeddings", str(features), "--data", "flickr:x"], "--data must be imagenet-gloss:FEATURES.npz"),
    ]
    for args, message in cases:
        with pytest.raises(SystemExit) as stop:
            cli.retrieval_main(args + common)
        assert message in str(stop.value.code)


def test_learning_rate_drops_tenfold_every_decay_period():
    cfg = R.RetrievalConfig(learning_rate=2e-4, decay_every=10, epochs=30)
    rate = R.learning_rate(cfg, batches_per_epoch=7)
    expected = {0: 2e-4, 69: 2e-4, 70: 2e-5, 139: 2e-5, 140: 2e-6, 209: 2e-6}
    for step, value in expected.items():
        np.testing.assert_allclose(float(rate(step)), value, rtol=1e-6)
    # no drop at the last epoch boundary (range(decay_every, epochs, decay_every) excludes epochs)
    cfg = R.RetrievalConfig(learning_rate=1.0, decay_every=15, epochs=30)
    np.testing.assert_allclose(float(R.learning_rate(cfg, 2)(10**6)), 0.1, rtol=1e-6)


def test_padding_row_and_shifted_caption_ids():
    table = np.arange(6, dtype=np.float32).reshape(3, 2) + 1
    padded = np.asarray(R.with_padding_row(table))
    np.testing.assert_array_equal(padded[0], [0, 0])
    np.testing.assert_array_equal(padded[1:], table)
    split = R.Split(np.zeros((1, 4)), [["b", "zzz", "c", "a"]], np.zeros(1, int))
    ids, lengths, kept = R.encode_captions(split, ["a", "b", "c"], max_len=5)
    np.testing.assert_array_equal(ids, [[2, 3, 1, 0, 0]])  # unknown words dropped, the rest shifted by one
    assert lengths.tolist() == [3] and kept.tolist() == [0]
    np.testing.assert_array_equal(padded[ids[0, :3]], table[[1, 2, 0]])


def _letters(i: int) -> str:
    return "".join(chr(ord("a") + int(d)) for d in str(i))


class _Synset:
    def __init__(self, offset):
        self.offset = offset

    def definition(self):
        return f"Gloss of class {_letters(self.offset)}."


class _WordNet:
    def synset_from_pos_and_offset(self, pos, offset):
        assert pos == "n"
        return _Synset(offset)


def test_imagenet_gloss_split_is_by_class_and_folds_are_disjoint(tmp_path):
    n = 350
    wnids = np.array([f"n{i:08d}" for i in range(n)])
    np.savez(tmp_path / "f.npz", features=np.arange(n, dtype=np.float32)[:, None] * np.ones((1, 3)), wnids=wnids)
    splits = [R.imagenet_gloss_splits(tmp_path / "f.npz", _WordNet(), fold=k) for k in range(3)]
    for s in splits:
        rows = {name: s[name].images[:, 0].astype(int) for name in ("train", "val", "test")}
        assert [len(rows[k]) for k in ("train", "val", "test")] == [150, 100, 100]
        assert sorted(np.concatenate(list(rows.values())).tolist()) == list(range(n))  # a partition of the classes
        for name, idx in rows.items():
            assert [" ".join(c) for c in s[name].captions] == [f"gloss of class {_letters(i)}" for i in idx]
    tests = [set(s["test"].images[:, 0].astype(int).tolist()) for s in splits]
    assert not (tests[0] & tests[1]) and not (tests[1] & tests[2]) and not (tests[0] & tests[2])
    assert splits[1]["val"].images[:, 0].tolist() != splits[0]["val"].images[:, 0].tolist()
