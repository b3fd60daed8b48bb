"""Bad input gives one error that names the file (and line), what is wrong and what to do, before
anything is trained or written: damaged array files, word2vec files cut short, corpora that are not
UTF-8, vocabularies and feature files that cannot train, settings outside their range."""

import numpy as np
import pytest
from conftest import tiny_config

from pixie_jax import experiment, propagation, validation
from pixie_jax.data import embedding_files
from pixie_jax.data import feature_files as F
from pixie_jax.data.training_data import DataError, prepare_data
from pixie_jax.evaluate import retrieval
from pixie_jax.files import ArrayFileError, load_arrays
from pixie_jax.visual import word_features


def quiet(*_):
    pass


def damaged(tmp_path, name):
    """A valid npz cut in half (an interrupted copy), and a text file named like an npz."""
    good = tmp_path / f"good_{name}"
    np.savez(good, words=np.array(["a", "b"]), features=np.eye(2), wnids=np.array(["n1", "n2"]))
    cut = tmp_path / f"cut_{name}"
    cut.write_bytes(good.read_bytes()[: good.stat().st_size // 2])
    text = tmp_path / f"text_{name}"
    text.write_text("a 1 2\nb 3 4\n")
    return cut, text


@pytest.mark.parametrize(
    "reader", [embedding_files.load_embeddings, F.load_word_features, word_features.load_class_features, load_arrays]
)
def test_damaged_npz_files_are_named(tmp_path, reader):
    cut, text = damaged(tmp_path, "x.npz")
    with pytest.raises(ArrayFileError, match=rf"{cut}: cannot be read \(File is not a zip file\).*cut short"):
        reader(cut)
    with pytest.raises(ArrayFileError, match=rf"{text}: cannot be read \(not a NumPy .npz or .npy file\)"):
        reader(text)


def test_damaged_npy_of_precomputed_retrieval_data_is_named(tmp_path):
    np.save(tmp_path / "train_ims.npy", np.eye(3))
    (tmp_path / "train_caps.txt").write_text("a\n" * 15)
    assert retrieval.load_precomputed(tmp_path, "train").images.shape == (3, 3)
    whole = (tmp_path / "train_ims.npy").read_bytes()
    (tmp_path / "train_ims.npy").write_bytes(whole[:100])
    with pytest.raises(ArrayFileError, match=r"train_ims.npy: cannot be read"):
        retrieval.load_precomputed(tmp_path, "train")


def test_word2vec_file_shorter_than_its_header(tmp_path):
    path = tmp_path / "vectors.txt"
    path.write_text("3 2\ncat 1 2\ndog 3 4\n")
    with pytest.raises(
        F.FeatureFileError,
        match=r"vectors.txt: its header promises 3 rows of 2 values, the file "
        r"has 2 rows of 2; it may be cut short",
    ):
        embedding_files.load_embeddings(path)
    path.write_text("2 2\ncat 1 2\ndog 3 4\n")
    assert embedding_files.load_embeddings(path)["words"] == ["cat", "dog"]


def test_a_corpus_that_is_not_utf8_names_the_option_that_reads_it(tmp_path):
    corpus = tmp_path / "latin1.txt"
    corpus.write_bytes(("caf\xe9 " * 50 + "the cat sat on the mat " * 50).encode("latin-1"))
    with pytest.raises(ValueError, match=r"latin1.txt: line 1 .*not valid UTF-8.*--config.corpus_errors=replace"):
        prepare_data(tiny_config(corpus), log=quiet)
    data = prepare_data(tiny_config(corpus, corpus_errors="replace"), log=quiet)
    assert "caf" in data.vocab.words and "cat" in data.vocab.words


def test_a_one_word_vocabulary_cannot_train(tmp_path):
    corpus = tmp_path / "one.txt"
    corpus.write_text("word " * 1000)
    with pytest.raises(
        DataError,
        match=r"one.txt: the vocabulary has 1 word\(s\) \(word\) at min_count=1; "
        r"skip-gram needs at least two distinct words",
    ):
        experiment.run(tiny_config(corpus), tmp_path / "run", log=quiet)
    assert not (tmp_path / "run" / "checkpoints").exists()


def test_features_that_match_no_vocabulary_word_are_refused(corpus_file, tmp_path):
    feats = tmp_path / "other.txt"
    feats.write_text("zebra 1 2 3 4 5 6\nyak 6 5 4 3 2 1\n")
    with pytest.raises(
        DataError,
        match=r"other.txt: none of its 2 words \(e.g. zebra, yak\) is a word of the "
        r"vocabulary.*--config.features= to train text only",
    ):
        experiment.run(tiny_config(corpus_file, feats), tmp_path / "run", log=quiet)


@pytest.mark.parametrize("fraction", [-0.5, 0.0, 1.0, 1.5])
def test_propagation_fraction_outside_zero_one_is_refused(tmp_path, fraction):
    with pytest.raises(ValueError, match=rf"held-out fraction must be between 0 and 1 \(exclusive\), got {fraction}"):
        propagation.run(tiny_config(tmp_path / "no corpus yet.txt"), tmp_path / "run", fraction, log=quiet)
    assert not (tmp_path / "run").exists()


def test_settings_with_fixed_choices_are_checked(tmp_path):
    cfg = tiny_config(tmp_path / "none.txt", corpus_errors="skip", **{"optimizer.schedule": "cosine"})
    with pytest.raises(
        validation.ConfigError,
        match=r"corpus_errors = 'skip' \(must be one of 'strict', 'replace', "
        r"'ignore'\); optimizer.schedule = 'cosine'",
    ):
        experiment.run(cfg, tmp_path / "run", log=quiet)
