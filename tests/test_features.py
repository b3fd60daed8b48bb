import numpy as np
import pytest

from pixie_jax.data import feature_files as F


def test_npz_and_text_files_load_the_same(tmp_path):
    wf = F.WordFeatures(("cat", "dog"), np.array([[1.0, 2.0, 3.0], [4.0, 5.0, 6.5]], np.float32), {"src": "x"})
    F.save_word_features(tmp_path / "f.npz", wf)
    from pixie_jax.data.embedding_files import save_word2vec_text

    save_word2vec_text(tmp_path / "f.txt", wf.words, wf.features)
    a, b = F.load_word_features(tmp_path / "f.npz"), F.load_word_features(tmp_path / "f.txt")
    assert a.words == b.words == ("cat", "dog") and a.provenance == {"src": "x"}
    np.testing.assert_allclose(a.features, b.features)
    (tmp_path / "plain.txt").write_text("cat 1 2 3\ndog 4 5 6.5\n")  # no header
    np.testing.assert_allclose(F.load_word_features(tmp_path / "plain.txt").features, wf.features)


@pytest.mark.parametrize(
    "content,message",
    [
        ("cat 1 2 3\ndog 4 5\n", r"bad.txt: line 2: 2 values where earlier lines have 3"),
        ("cat 1 2 3\ndog 4 x 6\n", r"bad.txt: line 2: 'x' is not a number; expected an .npz or word2vec text"),
        ('{"config": {}, "data": {}}\n', r"bad.txt: line 1: '\{\},' is not a number"),
        ("cat\n", r"bad.txt: line 1: 'cat' and no values"),
        (b"cat 1 2\n\x98\xff 1 2\n", r"bad.txt: line 2: not UTF-8 text"),
        ("cat 1 2 3\ndog 4 nan 6\n", r"bad.txt: row 1 \(word 'dog'\) has NaN or inf"),
        ("cat 1 2 3\ncat 4 5 6\n", r"bad.txt: word 'cat' appears more than once"),
        ("", r"bad.txt: an empty file, no vector rows"),
    ],
)
def test_bad_feature_files(tmp_path, content, message):
    path = tmp_path / "bad.txt"
    path.write_bytes(content) if isinstance(content, bytes) else path.write_text(content)
    with pytest.raises(F.FeatureFileError, match=message):
        F.load_word_features(path)


def test_a_folder_is_named_as_a_folder(tmp_path):
    with pytest.raises(F.FeatureFileError, match=rf"{tmp_path}: a folder, not a feature file"):
        F.load_word_features(tmp_path)


def test_bad_npz(tmp_path):
    np.savez(tmp_path / "x.npz", words=np.array(["a"]), feats=np.zeros((1, 2)))
    with pytest.raises(F.FeatureFileError, match=r"missing array\(s\) \['features'\]"):
        F.load_word_features(tmp_path / "x.npz")
    np.savez(tmp_path / "y.npz", words=np.array(["a", "b"]), features=np.array([[1.0, np.inf], [0, 0]]))
    with pytest.raises(F.FeatureFileError, match="row 0 .word 'a'. has NaN or inf"):
        F.load_word_features(tmp_path / "y.npz")


def test_failed_write_leaves_nothing(tmp_path):
    wf = F.WordFeatures(("a", "a"), np.zeros((2, 3), np.float32))
    with pytest.raises(F.FeatureFileError):
        F.save_word_features(tmp_path / "out.npz", wf)
    assert list(tmp_path.iterdir()) == []


def test_min_max_scaling_fits_training_words():
    x = np.array([[0.0, 5.0, 1.0], [2.0, 7.0, 1.0]], np.float32)
    s = F.MinMaxScaling.fit(x)
    np.testing.assert_allclose(s.apply(x), [[0, 0, 0], [1, 1, 0]])
    np.testing.assert_allclose(s.apply(np.array([[4.0, 6.0, 3.0]])), [[1, 0.5, 1]])


def test_bundled_features_cover_the_bundled_vocabulary():
    wf = F.load_word_features("bundled")
    assert wf.features.shape == (len(wf.words), 1280) and len(wf.words) > 1000
    assert {"dog", "goose", "church", "piano"} <= set(wf.words)
    assert wf.provenance["coverage"]["visual_words"] == len(wf.words)
    # the paper's rule: roots such as entity and object, visual under the closure rule, are not
    assert wf.provenance["rule"].startswith("paper") and not {"entity", "object", "abstraction"} & set(wf.words)
