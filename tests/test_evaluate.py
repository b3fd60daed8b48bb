import json
import subprocess
import sys

import numpy as np
import pytest
from conftest import ROOT

from pixie_jax.data import embedding_files
from pixie_jax.evaluate import kinds


def _arrays():
    rng = np.random.default_rng(0)
    return {
        "words": ["a", "b", "c"],
        "mask": np.array([1.0, 0, 1]),
        "e": rng.normal(size=(3, 4)),
        "x": rng.normal(size=(3, 2)) * 100,
    }


def test_concatenation_normalises_each_part():
    arrays = _arrays()
    ex = kinds.vectors(arrays, "e+x")
    assert ex.shape == (3, 6)
    np.testing.assert_allclose(np.linalg.norm(ex[:, :4], axis=1), 1, rtol=1e-6)
    np.testing.assert_allclose(np.linalg.norm(ex[:, 4:], axis=1), 1, rtol=1e-6)
    assert kinds.settings_for("x") == ("visual",) and kinds.settings_for("e+mu") == ("all", "visual")


def test_combine_aligns_files_by_word():
    sgns = {"words": ["a", "b", "c"], "mask": np.zeros(3), "e": np.array([[3.0, 4], [1, 0], [0, 2]])}
    cnn = {"words": ["c", "a", "z"], "mask": np.ones(3), "x": np.array([[0.0, 5], [2, 0], [1, 1]])}
    words, vecs, mask = kinds.combine({"sgns": sgns, "cnn": cnn}, "sgns:e+cnn:x")
    assert words == ["a", "b", "c"] and mask.tolist() == [1, 0, 1]  # 'b' has no features
    np.testing.assert_allclose(vecs, [[0.6, 0.8, 1, 0], [1, 0, 0, 0], [0, 1, 0, 1]])
    # without visual-only parts the first file's mask decides
    _, _, mask = kinds.combine({"cnn": cnn, "sgns": sgns}, "sgns:e+sgns:e")
    assert mask.tolist() == [0, 0, 0]
    with pytest.raises(kinds.KindError, match="NAME:KIND with NAME one of sgns, cnn; got 'vae:mu'"):
        kinds.combine({"sgns": sgns, "cnn": cnn}, "sgns:e+vae:mu")


def test_missing_kind_lists_what_the_file_has():
    with pytest.raises(kinds.KindError, match="no kind 't'; they have e, x"):
        kinds.vectors(_arrays(), "e+t")


def test_bin_evaluate_scores_and_writes_json(tmp_path):
    words = ["w0", "w1", "w2", "w3", "w4", "w5"]
    angles = np.linspace(0, 1.4, 6)
    e = np.stack([np.cos(angles), np.sin(angles)], 1)
    embedding_files.save_embeddings(tmp_path / "emb.npz", words, [1, 1, 1, 1, 0, 0], e=e, x=e[:, ::-1])
    (tmp_path / "bench").mkdir()
    (tmp_path / "bench" / "toy.txt").write_text("".join(f"w0\t{w}\t{10 - i}\n" for i, w in enumerate(words[1:], 1)))
    out = subprocess.run(
        [
            sys.executable,
            str(ROOT / "bin" / "evaluate"),
            "--embeddings",
            f"toy={tmp_path / 'emb.npz'}",
            "--benchmarks",
            str(tmp_path / "bench"),
            "--kind",
            "e",
            "x",
            "--json",
            str(tmp_path / "s.json"),
            "--neighbours",
            "w2",
            "--pairs",
            "w0,w5",
            "--report",
            str(tmp_path / "report"),
        ],
        capture_output=True,
        text=True,
    )
    assert out.returncode == 0, out.stderr
    line = next(ln for ln in out.stdout.splitlines() if "toy:e (visual):" in ln)
    near = line.split(": ", 1)[1].split(", ")
    assert set(near[:2]) == {"w1", "w3"} and set(near[2:4]) == {"w0", "w4"} and near[4] == "w5"  # by angle
    assert f"w0,w5: {np.cos(1.4):.2f}" in out.stdout
    assert "toy:e [all]" in out.stdout and "toy:x [visual]" in out.stdout and "toy:x [all]" not in out.stdout
    report = (tmp_path / "report" / "report.md").read_text()
    assert "toy:e [all]" in report and "![rho, all pairs](rho_all.png)" in report
    for png in ("rho_all.png", "rho_visual.png", "map_0.png", "map_1.png"):
        assert (tmp_path / "report" / png).read_bytes()[:4] == b"\x89PNG"
    rows = json.loads((tmp_path / "s.json").read_text())
    e_all = next(r for r in rows if r["kind"] == "e" and r["setting"] == "all")
    assert e_all["rho"] == pytest.approx(1.0) and e_all["used"] == 5 and e_all["total"] == 5
    e_vis = next(r for r in rows if r["kind"] == "e" and r["setting"] == "visual")
    assert e_vis["used"] == 3 and e_vis["rho"] == pytest.approx(1.0)
    embedding_files.save_embeddings(tmp_path / "text.npz", words[::-1], np.zeros(6), e=e[::-1, ::-1])
    combined = subprocess.run(
        [
            sys.executable,
            str(ROOT / "bin" / "evaluate"),
            "--embeddings",
            f"t={tmp_path / 'text.npz'}",
            f"v={tmp_path / 'emb.npz'}",
            "--kind",
            "e",
            "--benchmarks",
            str(tmp_path / "bench"),
            "--combine",
            "CNN+SGNS=t:e+v:x",
        ],
        capture_output=True,
        text=True,
    )
    assert combined.returncode == 0, combined.stderr
    row = next(ln for ln in combined.stdout.splitlines() if ln.startswith("toy"))
    # t:e is e with the word order and the axes reversed: same cosines; 3 of the 5 pairs are visual
    assert "CNN+SGNS:t:e+v:x [visual]" in combined.stdout and "1.000 (60%)" in row, combined.stdout
    bad = subprocess.run(
        [sys.executable, str(ROOT / "bin" / "evaluate"), "--embeddings", str(tmp_path / "emb.npz"), "--kind", "s"],
        capture_output=True,
        text=True,
    )
    assert bad.returncode != 0 and "no kind 's'; they have e, x" in bad.stderr


def test_feature_files_score_as_the_cnn_baseline(tmp_path):
    from pixie_jax.data.feature_files import WordFeatures, save_word_features

    save_word_features(tmp_path / "f.npz", WordFeatures(("a", "b"), np.ones((2, 3), np.float32)))
    arrays = embedding_files.load_embeddings(tmp_path / "f.npz")
    assert kinds.available(arrays) == ["x"] and arrays["mask"].tolist() == [1, 1]
    from pixie_jax.evaluate import compare

    with pytest.raises(
        embedding_files.EmbeddingFileError,
        match=r"f.npz: no word embeddings \(kind e, s or t\) in it, only x; "
        r"name the kind to score with --kind",
    ):
        compare.load([str(tmp_path / "f.npz")])
    assert [e.label for e in compare.load([f"f={tmp_path / 'f.npz'}"], kinds=["x"])[0]] == ["f:x"]
    with pytest.raises(embedding_files.EmbeddingFileError, match=rf"{tmp_path}: a folder, not an embeddings file"):
        embedding_files.load_embeddings(tmp_path)
