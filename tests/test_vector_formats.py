"""Evaluation reads the vectors people already have: word2vec's binary format and gensim's saved models,
written by gensim itself and recognised by content, not by suffix; --pairs and --neighbours case-fold."""

import numpy as np
import pytest

from pixie_jax import cli
from pixie_jax.data import embedding_files, vector_formats

gensim = pytest.importorskip("gensim")


@pytest.fixture(scope="module")
def model(tmp_path_factory):
    from gensim.models import Word2Vec

    sentences = [["King", "queen", "man", "woman", "royal", "crown"] * 3, ["man", "woman", "child", "King"] * 4] * 20
    return Word2Vec(sentences, vector_size=12, window=2, min_count=1, epochs=3, seed=0, workers=1)


@pytest.mark.parametrize("how", ["binary", "text", "keyedvectors", "model"])
def test_files_gensim_writes_are_read_by_content(model, tmp_path, how):
    path = tmp_path / "vectors.unknown_suffix"
    if how in ("binary", "text"):
        model.wv.save_word2vec_format(str(path), binary=how == "binary")
    elif how == "keyedvectors":
        model.wv.save(str(path))
    else:
        model.save(str(path))
    expected = {"binary": "word2vec-binary", "text": "text", "keyedvectors": "gensim", "model": "gensim"}[how]
    assert vector_formats.sniff(path) == expected
    arrays = embedding_files.load_embeddings(path)
    order = [arrays["words"].index(w.casefold()) for w in model.wv.index_to_key]
    rtol = 0 if how != "text" else 1e-5  # text holds the values rounded
    np.testing.assert_allclose(arrays["e"][order], model.wv.vectors, rtol=rtol, atol=1e-6 if rtol else 0)
    assert "king" in arrays["words"]  # case-folded as every evaluation reads words


def test_a_binary_file_cut_short_is_named(model, tmp_path):
    path = tmp_path / "vectors.bin"
    model.wv.save_word2vec_format(str(path), binary=True)
    path.write_bytes(path.read_bytes()[:-20])
    with pytest.raises(vector_formats.VectorFileError, match=r"vectors.bin: its header promises 7 vectors of 12"):
        vector_formats.read_word2vec_binary(path)


def test_pairs_and_neighbours_case_fold_the_words_typed(model, tmp_path, capsys):
    path = tmp_path / "vectors.bin"
    model.wv.save_word2vec_format(str(path), binary=True)
    cli.evaluate_main(["--embeddings", f"w2v={path}", "--pairs", "KING,Queen", "--neighbours", "King"])
    out = capsys.readouterr().out
    pair = next(line for line in out.splitlines() if line.strip().startswith("king,queen:"))
    assert pair.split(":")[1].strip() != "-", out
    assert "king (concreteness n/a)" in out and "not in the vocabulary" not in out
