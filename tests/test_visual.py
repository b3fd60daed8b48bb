"""CNN extractor against the reference features; WordNet mapping; word-level features."""

import warnings

import numpy as np
import pytest
from conftest import shared

from pixie_jax.visual import efficientnet, extract, torch_pickle, word_features, wordnet


def test_torch_file_reads_without_torch():
    sd = torch_pickle.load_state_dict(efficientnet.weights_path())
    assert len(sd) == 296
    assert sum(v.size for v in sd.values()) == 4_694_073
    assert sd["_conv_stem.weight"].shape == (32, 3, 3, 3) and sd["_fc.weight"].shape == (1000, 1280)


def test_torch_file_errors(tmp_path):
    (tmp_path / "z.pth").write_bytes(b"PK\x03\x04rest")
    with pytest.raises(torch_pickle.TorchFileError, match="zip-format"):
        torch_pickle.load_state_dict(tmp_path / "z.pth")


def test_extractor_matches_reference_features_and_classifier(tmp_path):
    folder = shared("imagenet_sample_images")
    ref = np.load(shared("imagenet_sample_features", "efficientnet_lite0_pool1280.npz"))
    files = sorted(folder.glob("n*.JPEG"))[::125]  # 8 photos, colour and size vary
    feats, kept, skipped = extract.extract_features(files, batch_size=4, progress=False)
    assert len(kept) == 8 and not skipped
    index = {w: i for i, w in enumerate(ref["wnids"])}
    rows = [index[p.name[:9]] for p in kept]
    a, b = feats.astype(np.float64), ref["features"][rows].astype(np.float64)
    cos = (a * b).sum(1) / np.linalg.norm(a, axis=1) / np.linalg.norm(b, axis=1)
    assert cos.min() >= 0.999, cos
    correct, total = extract.top1_accuracy(feats, [p.name[:9] for p in kept], ref["wnids"])
    assert total == 8 and correct >= 6


def test_corrupt_images_are_skipped_with_a_count(tmp_path):
    src = sorted(shared("imagenet_sample_images").glob("n*.JPEG"))[:2]
    for p in src:
        (tmp_path / p.name).write_bytes(p.read_bytes())
    (tmp_path / "n99999999_broken.jpg").write_bytes(src[0].read_bytes()[:300])
    (tmp_path / "n99999998_text.jpg").write_text("not an image")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        summary = extract.extract_folder(tmp_path, tmp_path / "out.npz", batch_size=2, progress=False)
    assert summary == {"images": 4, "extracted": 2, "skipped": 2, "out": str(tmp_path / "out.npz")}
    assert sum("skipped unreadable image" in str(w.message) for w in caught) == 2
    z = np.load(tmp_path / "out.npz")
    assert list(z["wnids"]) == [p.name[:9] for p in src] and z["features"].shape == (2, 1280)


def test_wordnet_maps_words_to_imagenet_ids(wn):
    goose = wordnet.noun_synsets(wn, "goose")[0]
    assert wordnet.wnid(goose) == "n01855672"
    assert wordnet.noun_synsets(wn, "geese")[0] == goose
    below = wordnet.wnids_below(wn, ["n01855672", "n02085620", "n02099601"])  # goose, chihuahua, golden retriever
    dog = wordnet.wnid(wordnet.noun_synsets(wn, "dog")[0])
    assert below[dog] == {"n02085620", "n02099601"}
    assert below["n01855672"] == {"n01855672"}


def test_word_features_average_photos_and_back_off(wn):
    wnids = ("n02085620", "n02099601", "n01855672")  # chihuahua, golden retriever, goose
    src = word_features.ClassFeatures(
        "test", wnids, np.array([[1.0, 0], [3.0, 0], [0, 8.0]], np.float32), np.array([1, 3, 2])
    )
    wf, cov = word_features.build_word_features(
        ["dog", "goose", "idea", "retriever"], [src], wn, word_features.ClosureRule()
    )
    assert wf.words == ("dog", "goose", "retriever")
    np.testing.assert_allclose(wf.features[0], [(1 * 1 + 3 * 3) / 4, 0])  # photo-weighted mean
    np.testing.assert_allclose(wf.features[1], [0, 8])
    assert cov.visual_words == 3 and cov.photos_per_word_median == 3
    # back-off: 'retriever' (3 photos) gains its hypernyms' classes up to 'dog' when it needs 4
    wf2, cov2 = word_features.build_word_features(
        ["retriever"], [src], wn, word_features.ClosureRule(backoff_min_images=4)
    )
    np.testing.assert_allclose(wf2.features[0], [2.5, 0])
    assert cov2.backed_off == 1


def test_wordnet_dict_folder_is_read_and_missing_one_explained(tmp_path):
    if not (wordnet.DEBIAN_DIR / "data.noun").exists():
        pytest.skip("no WordNet dict folder installed")
    reader = wordnet.load_wordnet(wordnet.DEBIAN_DIR, cache_dir=tmp_path)
    assert reader.get_version() == "3.0"
    with pytest.raises(wordnet.WordNetError, match="apt-get install wordnet-base"):
        wordnet.load_wordnet(tmp_path / "nowhere")
