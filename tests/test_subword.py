"""examples/subword.py, the fastText-style subword skip-gram trained from outside the package on ragged
rows: its n-grams and hashes against gensim's FastText, its loss against an enumeration, row-sparse SGD on
the bags' rows as dense SGD, each row once as every entry, 4 devices with sharded tables as one, and a rare
form of a word placed by its n-grams."""

import json
import sys

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from conftest import ROOT, tiny_config, topic_corpus

from pixie_jax import experiment
from pixie_jax.models import registry
from pixie_jax.training import rows

sys.path.insert(0, str(ROOT / "examples"))
import subword

SUBWORD = str(ROOT / "examples" / "subword.py")


def quiet(*args, **kwargs):
    pass


def test_ngrams_and_their_buckets_are_fasttexts_as_gensim_computes_them():
    fasttext = pytest.importorskip("gensim.models.fasttext")
    assert subword.fnv1a("") == 2166136261 and subword.fnv1a("a") == 0xE40C292C  # FNV-1a's published values
    words = ["where", "a", "gutenberg", "co"]
    lists = subword.word_rows(words, 1000)
    assert subword.ngrams("where")[:3] == ["<wh", "<whe", "<wher"] and "where>" in subword.ngrams("where")
    for w, word in enumerate(words):
        mine = lists.members[lists.offsets[w] : lists.offsets[w + 1]]
        assert mine[0] == w  # the word's own row first
        assert sorted(mine[1:] - len(words)) == sorted(fasttext.ft_ngram_hashes(word, 3, 6, 1000)), word
    e = np.random.default_rng(0).normal(size=(len(words) + 1000, 5)).astype(np.float32)
    np.testing.assert_allclose(subword.vector_of(e, "where", len(words), 1000), e[mine_of(lists, 0)[1:]].mean(0))
    np.testing.assert_allclose(subword.word_vectors(e, lists)[2], e[mine_of(lists, 2)].mean(0), rtol=1e-6)


def mine_of(lists, w):
    return lists.members[lists.offsets[w] : lists.offsets[w + 1]]


def test_the_loss_is_sgns_with_each_centre_the_mean_of_its_rows_by_enumeration():
    rng = np.random.default_rng(0)
    words = ["ab", "abc", "b"]
    lists = subword.word_rows(words, 7)
    model = subword.Subword(3, 7, 4)
    B, C, N = 4, 3, 2
    stratum = {
        "words": jnp.array([1, 0, 2, 1]),
        "contexts": jnp.asarray(rng.integers(0, 3, (B, C))),
        "valid": jnp.asarray(rng.integers(0, 2, (B, C)).astype(np.float32)),
        "negatives": jnp.asarray(rng.integers(0, 3, (B, C, N))),
        "weight": jnp.full((B,), 0.05, jnp.float32),
    }
    params = {"e": jnp.asarray(rng.normal(size=(10, 4)), jnp.float32), "v": jnp.asarray(rng.normal(size=(3, 4)))}
    bound = lambda centres: 6  # noqa: E731  the four centres' 7 + 4 + 2 + 7 rows do not fit: 14 dropped
    index = subword.row_index(lists, bound, model.rows, {"text": stratum})
    gathered = rows.gather(params, index)
    got, metrics = subword.loss(model, lists, bound, params, gathered, {"text": stratum}, None)
    e, v = np.asarray(params["e"]), np.asarray(params["v"])
    expected, slots = 0.0, 6
    for b in range(B):
        own = list(lists.members[lists.offsets[stratum["words"][b]] : lists.offsets[stratum["words"][b] + 1]])
        kept, slots = own[:slots], max(slots - len(own), 0)
        u = e[kept].mean(0) if kept else np.zeros(4)
        for c in range(C):
            if stratum["valid"][b, c]:
                pos = v[stratum["contexts"][b, c]] @ u
                neg = v[stratum["negatives"][b, c]] @ u
                expected += 0.05 * (np.log1p(np.exp(-pos)) + np.log1p(np.exp(neg)).sum())
    np.testing.assert_allclose(float(got), expected, rtol=1e-5)
    assert list(lists.lengths) == [4, 7, 2]  # <ab> has 3 n-grams, <abc> 6, <b> 1; each word its own row too
    assert float(metrics["bag_rows_dropped"]) == 7 + 4 + 2 + 7 - 6


def configured(corpus, epochs, optimizer="adam", rate=0.0, **top):
    """tiny_config for the subword model with 500 buckets, ``epochs`` passes, the tables' optimizer and rate."""
    cfg = tiny_config(corpus, config="sgns", **{"model.name": SUBWORD})
    registry.add_model_settings(cfg)
    cfg.subword.buckets = 500
    cfg.epochs = epochs
    cfg.optimizer.name, cfg.optimizer.learning_rate = optimizer, rate
    for key, value in top.items():
        cfg[key] = value
    return cfg


def test_sparse_sgd_on_the_bags_rows_is_dense_sgd_and_each_row_once_is_every_entry(corpus_file, tmp_path):
    """sparse_sgd's rate applies to the summed pair losses (scale: the pairs a step), dense SGD's to their
    weighted mean: at rates in that ratio the two take the same steps; so do each row once and every entry."""
    cfg = configured(corpus_file, 0.05, "sparse_sgd", 0.025, distinct_rows="off")
    cfg.optimizer.schedule = "constant"
    run = {}
    run["sparse"], data = experiment.train(cfg, tmp_path / "sparse", log=quiet, devices=jax.devices()[:1])
    cfg.distinct_rows = "on"
    run["once"], _ = experiment.train(cfg, tmp_path / "once", log=quiet, devices=jax.devices()[:1])
    pairs = cfg.sampler.text_centres * (cfg.sampler.window + 1)
    cfg.optimizer.name, cfg.optimizer.learning_rate, cfg.distinct_rows = "sgd", 0.025 * pairs, "off"
    run["dense"], _ = experiment.train(cfg, tmp_path / "dense", log=quiet, devices=jax.devices()[:1])
    start = subword.Subword(len(data.vocab), 500, 8).init(jax.random.key(0))["e"]
    buckets = np.asarray(run["dense"]["e"])[len(data.vocab) :]
    assert np.abs(buckets - np.asarray(start)[len(data.vocab) :]).max() > 1e-4  # the n-grams' rows learned
    for name in ("once", "dense"):
        for a, b in zip(jax.tree.leaves(run["sparse"]), jax.tree.leaves(run[name])):
            np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-6, err_msg=name)


@pytest.mark.parametrize("optimizer", ["adam", "sparse_sgd"])
def test_subword_on_four_devices_with_sharded_tables_trains_as_one(corpus_file, tmp_path, optimizer):
    assert len(jax.devices()) >= 4, "conftest asks XLA for 4 host devices"
    cfg = configured(corpus_file, 0.2, optimizer, 0.01 if optimizer == "sparse_sgd" else 0.0)
    one, _ = experiment.train(cfg, tmp_path / "one", log=quiet, devices=jax.devices()[:1])
    cfg.shard_tables = "on"
    four, _ = experiment.train(cfg, tmp_path / "four", log=quiet, devices=jax.devices()[:4])
    for a, b in zip(jax.tree.leaves(one), jax.tree.leaves(four)):
        np.testing.assert_allclose(a, b, rtol=2e-4, atol=2e-5)


def renamed_topic_corpus(tmp_path, rare_per_word: int = 2):
    """topic_corpus with its words renamed to random strings (so that no n-gram tells a topic), and each
    word's rare form (itself + "s") put ``rare_per_word`` times among another topic's words; returns the
    path and {word: topic}."""
    rng = np.random.default_rng(1)
    tokens = topic_corpus(n_tokens=16000).split()
    words = sorted(set(tokens))
    letters = np.array(list("bcdfghjklmnpqrtvwxz"))
    names = {w: "".join(rng.choice(letters, 6)) for w in words}
    renamed = [names[t] for t in tokens]
    topic = {names[w]: w[:2] for w in words}
    for w, name in names.items():
        for _ in range(rare_per_word):
            at = int(rng.integers(len(renamed)))
            while topic[renamed[at]] == w[:2]:
                at = int(rng.integers(len(renamed)))
            renamed.insert(at, name + "s")
    path = tmp_path / "renamed.txt"
    path.write_text(" ".join(renamed))
    return path, topic


def test_a_rare_form_lands_by_its_stem_and_the_run_counts_no_dropped_rows(tmp_path):
    corpus, topic = renamed_topic_corpus(tmp_path)
    cfg = configured(corpus, 3.0)
    lines = []
    params, data = experiment.train(cfg, tmp_path / "run", log=lines.append, devices=jax.devices()[:1])
    assert any(line.startswith("training subword: ") for line in lines), lines
    arrays = subword.arrays(subword.Subword(len(data.vocab), 500, 8), params, data)
    e = arrays["e"] / np.linalg.norm(arrays["e"], axis=1, keepdims=True)
    at = {w: i for i, w in enumerate(data.vocab.words)}
    stems = sorted(topic)
    stem_vectors = e[[at[s] for s in stems]]
    right = 0
    for stem in stems:
        scores = stem_vectors @ e[at[stem + "s"]]
        best = stems[int(np.argmax(scores))]
        right += topic[best] == topic[stem]  # the rare form is nearest a word of its stem's topic
    assert right >= 0.8 * len(stems), right
    records = [json.loads(x) for x in (tmp_path / "run" / "metrics.jsonl").read_text().splitlines()]
    assert all(r["bag_rows_dropped"] == 0 for r in records)
