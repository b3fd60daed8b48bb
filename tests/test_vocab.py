import jax
import numpy as np
import pytest

from pixie_jax.data import vocab
from pixie_jax.training import sampling


def test_vocab_counts_order_and_limits():
    text = "b a c a b a d d d d e"
    v = vocab.build_vocab(text, min_count=2, max_size=None)
    assert v.words == ("d", "a", "b") and list(v.counts) == [4, 3, 2]
    assert vocab.build_vocab(text, min_count=1, max_size=2).words == ("d", "a")
    with pytest.raises(vocab.VocabError, match="no word occurs 9"):
        vocab.build_vocab(text, min_count=9)


def test_encode_drops_unknown_words_and_handles_chunks(monkeypatch):
    v = vocab.build_vocab("x y y z z z", min_count=2)
    assert list(vocab.encode("x y z q z", v)) == [v.index("y"), v.index("z"), v.index("z")]
    monkeypatch.setattr(vocab, "_CHUNK_CHARS", 7)  # chunk edges inside and between long tokens
    text = "aaaaaaaaaaaa b cc aaaaaaaaaaaa b cc b"
    counts = vocab.count_words(text)
    assert counts == {"aaaaaaaaaaaa": 2, "b": 3, "cc": 2}
    v2 = vocab.build_vocab(text, 1)
    assert [v2.words[i] for i in vocab.encode(text, v2)] == text.split()


def test_vocab_save_load_and_bad_file(tmp_path):
    v = vocab.build_vocab("a a b b b c", 1)
    v.save(tmp_path / "v.tsv")
    w = vocab.Vocab.load(tmp_path / "v.tsv")
    assert w.words == v.words and list(w.counts) == list(v.counts)
    (tmp_path / "bad.tsv").write_text("a\t3\nb three\n")
    with pytest.raises(vocab.VocabError, match=r"bad.tsv: line 2: expected 'word<TAB>count'"):
        vocab.Vocab.load(tmp_path / "bad.tsv")
    (tmp_path / "dup.tsv").write_text("a\t3\na\t2\n")
    with pytest.raises(vocab.VocabError, match="'a' is listed more than once"):
        vocab.Vocab.load(tmp_path / "dup.tsv")


def test_keep_probabilities_match_word2vec():
    counts = np.array([1000, 100, 10, 1])
    t = 1e-2
    total = counts.sum()
    expected = [min(1.0, (np.sqrt(c / (t * total)) + 1) * t * total / c) for c in counts]
    np.testing.assert_allclose(vocab.keep_probabilities(counts, t), expected, rtol=1e-6)
    assert vocab.keep_probabilities(counts, t)[0] < 0.5 and vocab.keep_probabilities(counts, t)[-1] == 1.0
    assert (vocab.keep_probabilities(counts, 0) == 1).all()


def test_alias_table_is_exact_and_sampled_correctly():
    counts = np.array([500, 120, 40, 40, 7, 1, 1, 300])
    p = vocab.noise_distribution(counts)
    np.testing.assert_allclose(p, counts**0.75 / (counts**0.75).sum())
    table = vocab.alias_table(p)
    np.testing.assert_allclose(table.probabilities(), p, atol=1e-7)
    draws = np.asarray(sampling.alias_sample(jax.random.key(0), table.prob, table.alias, (400_000,)))
    freq = np.bincount(draws, minlength=len(p)) / len(draws)
    se = np.sqrt(p * (1 - p) / len(draws))
    assert (np.abs(freq - p) < 5 * se + 1e-6).all()
