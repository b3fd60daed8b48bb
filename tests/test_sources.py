"""Several image sources: label mapping, weights, per-source coverage, quality checks."""

import warnings

import numpy as np
import pytest

from pixie_jax.data import feature_files as F
from pixie_jax.visual import quality
from pixie_jax.visual import word_features as WF

CHIHUAHUA, RETRIEVER, GOOSE = "n02085620", "n02099601", "n01855672"


def _src(name, wnids, means, counts, labels=()):
    return WF.ClassFeatures(name, tuple(wnids), np.asarray(means, np.float32), np.asarray(counts), tuple(labels))


def test_labels_map_through_overrides_then_first_sense(wn, tmp_path):
    (tmp_path / "o.tsv").write_text("# fixes\nanimals/birds/goose-2\tn01855672\nmystery\t\n")
    overrides = WF.read_overrides(tmp_path / "o.tsv")
    assert overrides == {"animals/birds/goose-2": GOOSE, "mystery": ""}
    cf = _src(
        "s",
        ["", "", "", CHIHUAHUA],
        np.eye(4, 2),
        [1, 1, 1, 1],
        ["animals/birds/goose-2", "golden retriever, golden", "mystery", "chihuahua"],
    )
    mapped, stats = WF.map_labels(cf, wn, overrides)
    assert mapped.wnids == (GOOSE, RETRIEVER, "", CHIHUAHUA)
    assert stats == {"given": 1, "overridden": 2, "automatic": 1, "unmapped": 0}
    untouched, stats = WF.map_labels(cf, wn, {}, automatic=False)
    assert untouched.wnids == ("", "", "", CHIHUAHUA) and stats["unmapped"] == 3
    (tmp_path / "bad.tsv").write_text("goose\tgoose.n.01\n")
    with pytest.raises(F.FeatureFileError, match=r"bad.tsv: line 1: expected 'label<TAB>nXXXXXXXX'"):
        WF.read_overrides(tmp_path / "bad.tsv")


def test_sources_pool_by_photo_count_with_weights_and_report_per_source(wn):
    a = _src("a", [CHIHUAHUA, GOOSE], [[1.0, 0], [0, 1.0]], [1, 2])
    b = _src("b", [RETRIEVER, GOOSE], [[3.0, 0], [0, 3.0]], [3, 2])
    wf, cov = WF.build_word_features(["dog", "goose", "chihuahua"], [a, b], wn, WF.ClosureRule())
    got = dict(zip(wf.words, wf.features))
    np.testing.assert_allclose(got["dog"], [(1 + 9) / 4, 0])
    np.testing.assert_allclose(got["goose"], [0, (2 + 6) / 4])
    by = {s.name: s for s in cov.sources}
    assert (by["a"].visual_words, by["a"].words_gained) == (3, 1)  # chihuahua only through a
    assert (by["b"].visual_words, by["b"].words_gained) == (2, 0)
    wf2, _ = WF.build_word_features(["dog", "goose"], [a, b], wn, WF.ClosureRule(), weights={"b": 3.0})
    np.testing.assert_allclose(dict(zip(wf2.words, wf2.features))["dog"], [(1 + 27) / 10, 0])
    wf3, cov3 = WF.build_word_features(["dog", "goose"], [a, b], wn, WF.ClosureRule(), weights={"b": 0})
    np.testing.assert_allclose(dict(zip(wf3.words, wf3.features))["dog"], [1, 0])
    assert [s.name for s in cov3.sources] == ["a"]
    with pytest.raises(ValueError, match="unknown sources"):
        WF.build_word_features(["dog"], [a], wn, WF.ClosureRule(), weights={"c": 1})
    c = _src("c", [GOOSE], [[1.0, 2, 3]], [1])
    with pytest.raises(F.FeatureFileError, match="different feature sizes"):
        WF.build_word_features(["goose"], [a, c], wn, WF.ClosureRule())


def test_zero_counts_are_dropped_with_a_warning(tmp_path):
    np.savez(
        tmp_path / "s.npz",
        wnids=np.array([GOOSE, CHIHUAHUA]),
        labels=np.array(["goose", "chihuahua"]),
        mean=np.ones((2, 3)),
        counts=np.array([0, 4]),
    )
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        cf = WF.load_class_features(tmp_path / "s.npz")
    assert cf.wnids == (CHIHUAHUA,) and list(cf.counts) == [4]
    assert any("1 classes with a photo count of 0 were dropped" in str(w.message) for w in caught)


def test_quality_checks_find_separable_classes_and_disagreeing_sources():
    rng = np.random.default_rng(0)
    centres = np.eye(3, 8) * 5 + 1
    cls = np.repeat(np.arange(3), 10)
    images = centres[cls] + rng.normal(scale=0.3, size=(30, 8))
    cf = WF.ClassFeatures("s", ("n1", "n2", "n3"), centres.astype(np.float32), np.array([10, 10, 10]), (), images, cls)
    acc, n = quality.nearest_class_accuracy(cf)
    assert acc == 1.0 and n == 30
    noisy = WF.ClassFeatures(
        "s", ("n1", "n2", "n3"), centres.astype(np.float32), np.array([10, 10, 10]), (), rng.normal(size=(30, 8)), cls
    )
    assert quality.nearest_class_accuracy(noisy)[0] < 0.7
    other = WF.ClassFeatures(
        "t", ("n1", "n3", "n9"), np.stack([centres[0], centres[1], centres[2]]).astype(np.float32), np.array([1, 1, 1])
    )
    agreement = quality.source_agreement([cf, other])
    assert [(w, a, b) for _, w, a, b in agreement] == [("n3", "s", "t"), ("n1", "s", "t")]
    assert agreement[1][0] == pytest.approx(1.0) and agreement[0][0] < 0.5


def test_command_line_tools_on_real_sources(tmp_path, wn):
    import subprocess
    import sys

    from conftest import ROOT, shared

    caltech = shared("extra_visual", "caltech101", "features.npz")
    tux = shared("extra_visual", "tuxpaint_stamps", "features.npz")
    (tmp_path / "vocab.tsv").write_text("dog\t10\nmotorcycle\t9\nyak\t8\nidea\t7\n")
    out = subprocess.run(
        [
            sys.executable,
            str(ROOT / "bin" / "build-visual-features"),
            "--source",
            str(caltech),
            "--source",
            f"tux={tux}",
            "--weight",
            "tux=0.5",
            "--vocab",
            str(tmp_path / "vocab.tsv"),
            "--out",
            str(tmp_path / "w.npz"),
        ],
        capture_output=True,
        text=True,
    )
    assert out.returncode == 0, out.stderr
    assert "caltech101 (weight 1): 100 classes (4 without a WordNet id), 8,242 photos" in out.stdout
    assert "rule: paper: a noun synset among ImageNet's 21,843" in out.stdout
    assert "tux (weight 0.5): 439 classes (193 without a WordNet id)" in out.stdout
    wf = F.load_word_features(tmp_path / "w.npz")
    assert "motorcycle" in wf.words and "idea" not in wf.words
    check = subprocess.run(
        [sys.executable, str(ROOT / "bin" / "check-visual-sources"), "--source", str(caltech)],
        capture_output=True,
        text=True,
    )
    assert check.returncode == 0, check.stderr
    assert "caltech101: 100 classes; nearest-class accuracy (leave one out): " in check.stdout
    acc = float(check.stdout.split("leave one out): ")[1].split("%")[0])
    assert acc > 80
