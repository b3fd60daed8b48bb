"""Corpora larger than memory: token ids built by streaming and cached, and training one segment of
the corpus at a time."""

import json
import os

import jax
import numpy as np
import pytest
from conftest import tiny_config, topic_corpus

from pixie_jax import experiment
from pixie_jax.data import corpus, tokens, vocab
from pixie_jax.training import loop as train


def quiet(*_):
    pass


def test_streamed_token_ids_match_the_in_memory_path_and_are_cached(tmp_path):
    path = tmp_path / "c.txt"
    path.write_text(topic_corpus(5000).replace(" ", ", ", 100))  # punctuation to normalise away
    text = corpus.load_corpus(path)
    expected_vocab = vocab.build_vocab(text, 2, 30)
    expected = vocab.encode(text, expected_vocab)
    lines = []
    first = tokens.tokenise(path, 2, 30, cache_dir=tmp_path / "cache", log=lines.append)
    assert first.vocab.words == expected_vocab.words and np.array_equal(first.vocab.counts, expected_vocab.counts)
    assert np.array_equal(first.ids, expected)
    assert isinstance(first.ids, np.memmap) and "written to the cache" in lines[-1]
    again = tokens.tokenise(path, 2, 30, cache_dir=tmp_path / "cache", log=lines.append)
    assert "from the cache" in lines[-1] and again.digest == first.digest and np.array_equal(again.ids, expected)
    uncached = tokens.tokenise(path, 2, 30, cache_dir=tmp_path / "none", cache=False, log=quiet)
    assert uncached.digest == first.digest and not (tmp_path / "none" / "corpora").exists()
    # other settings, or a changed file, make another entry
    assert tokens.tokenise(path, 2, 20, cache_dir=tmp_path / "cache", log=quiet).digest != first.digest
    path.write_text(topic_corpus(5000, seed=1))
    changed = tokens.tokenise(path, 2, 30, cache_dir=tmp_path / "cache", log=lines.append)
    assert "written to the cache" in lines[-1] and changed.digest != first.digest
    assert len(list((tmp_path / "cache" / "corpora").iterdir())) == 3


def test_an_incomplete_cache_entry_is_rebuilt(tmp_path):
    path = tmp_path / "c.txt"
    path.write_text(topic_corpus(3000))
    first = tokens.tokenise(path, 1, None, cache_dir=tmp_path, log=quiet)
    folder = next((tmp_path / "corpora").iterdir())
    (folder / "meta.json").unlink()  # as if the writer had died before its last file
    lines = []
    again = tokens.tokenise(path, 1, None, cache_dir=tmp_path, log=lines.append)
    assert "written to the cache" in lines[-1] and again.digest == first.digest
    assert [p.name for p in (tmp_path / "corpora").iterdir()] == [folder.name]


def test_a_damaged_cache_entry_is_rebuilt_and_a_same_size_same_mtime_edit_is_seen(tmp_path):
    path = tmp_path / "c.txt"
    path.write_text(topic_corpus(3000))
    first = tokens.tokenise(path, 1, None, cache_dir=tmp_path, log=quiet)
    expected = np.array(first.ids)
    folder = next((tmp_path / "corpora").iterdir())
    ids = np.load(folder / "ids.npy", mmap_mode="r+")
    ids[7] = len(first.vocab) + 1000  # same length, one id far beyond the vocabulary
    ids.flush()
    del ids
    with pytest.raises(tokens.CacheError, match="ids.npy differs"):
        tokens.verify_entry(folder)
    meta = json.loads((folder / "meta.json").read_text())
    (folder / "meta.json").write_text(json.dumps(meta | {"digest": tokens.ids_digest(np.load(folder / "ids.npy"))}))
    with pytest.raises(tokens.CacheError, match=f"outside the {len(first.vocab)}-word vocabulary"):
        tokens.verify_entry(folder)  # a digest that matches does not make an id beyond the vocabulary valid
    lines = []
    again = tokens.tokenise(path, 1, None, cache_dir=tmp_path, log=lines.append)
    assert "is damaged (ids.npy holds ids outside the" in lines[0] and "written to the cache" in lines[-1]
    assert again.digest == first.digest and np.array_equal(again.ids, expected)
    vocab_file = folder / "vocab.tsv"
    vocab_file.write_text(vocab_file.read_text().replace(first.vocab.words[0], "thx", 1))
    lines = []
    again = tokens.tokenise(path, 1, None, cache_dir=tmp_path, log=lines.append)
    assert "vocab.tsv differs" in lines[0] and again.vocab.words == first.vocab.words
    # an edit that keeps the size and puts the modification time back (touch -r, rsync -t) is still seen
    stat = os.stat(path)
    text = path.read_text()
    path.write_text(
        text.replace(
            first.vocab.words[0],
            first.vocab.words[1][: len(first.vocab.words[0])].ljust(len(first.vocab.words[0]), "q"),
            50,
        )
    )
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    assert os.stat(path).st_size == stat.st_size and os.stat(path).st_mtime_ns == stat.st_mtime_ns
    lines = []
    edited = tokens.tokenise(path, 1, None, cache_dir=tmp_path, log=lines.append)
    assert "written to the cache" in lines[-1] and edited.digest != first.digest


def test_segments_split_the_corpus_and_each_pass_visits_them_in_order():
    bounds = train.segment_bounds(10_001, 2_500)
    assert bounds[0] == 0 and bounds[-1] == 10_001 and len(bounds) == 6
    assert np.diff(bounds).max() <= 2_500 and np.diff(bounds).min() >= 2_000
    assert list(train.segment_bounds(100, 1000)) == [0, 100]
    run = train.PreparedRun.__new__(train.PreparedRun)
    run.per_epoch, run.bounds = 50, bounds
    seen = [run.segment_of(step) for step in range(100)]
    assert seen == sorted(seen) and {s for p, s in seen if p == 0} == set(range(5))
    steps = np.bincount([s for p, s in seen if p == 1])  # steps in proportion to the segments' tokens
    np.testing.assert_allclose(steps / 50, np.diff(bounds) / 10_001, atol=1 / 50)


def test_training_in_segments_learns_and_resumes_exactly(corpus_file, tmp_path, monkeypatch):
    cfg = tiny_config(
        corpus_file,
        epochs=1.0,
        segment_tokens=5_000,
        checkpoint_every=10,
        **{"optimizer.learning_rate": 0.05, "sampler.text_centres": 256},
    )
    visited = []
    real = train.PreparedRun.epoch_data
    monkeypatch.setattr(train.PreparedRun, "epoch_data", lambda self, *a: visited.append(a) or real(self, *a))
    params, data = experiment.train(cfg, tmp_path / "straight", log=quiet, devices=jax.devices()[:1])
    assert visited == [(0, s) for s in range(4)]  # 20,000 tokens in 4 segments
    e = np.asarray(params["e"]) / np.linalg.norm(params["e"], axis=1, keepdims=True)
    topic = np.array([w[:2] for w in data.vocab.words])
    same, other = topic[:, None] == topic[None, :], ~np.eye(len(topic), dtype=bool)
    assert (e @ e.T)[same & other].mean() > (e @ e.T)[~same].mean() + 0.3
    # stopped mid-pass (Ctrl-C keeps the step it stopped at, inside a segment), then resumed: the same parameters
    run_chunk = train.PreparedRun.run_chunk

    def stop(self, first, epoch):
        if first >= 35:
            raise KeyboardInterrupt
        return run_chunk(self, first, epoch)

    monkeypatch.setattr(train.PreparedRun, "run_chunk", stop)
    with pytest.raises(train.Interrupted, match="interrupted at step 35 of .*checkpoint of step 35"):
        experiment.train(cfg, tmp_path / "resumed", log=quiet, devices=jax.devices()[:1])
    monkeypatch.setattr(train.PreparedRun, "run_chunk", run_chunk)
    resumed, _ = experiment.train(cfg, tmp_path / "resumed", log=quiet, devices=jax.devices()[:1])
    for a, b in zip(jax.tree.leaves(params), jax.tree.leaves(resumed)):
        np.testing.assert_array_equal(a, b)


def test_a_segment_too_large_for_the_device_names_the_fix(corpus_file, tmp_path, monkeypatch):
    monkeypatch.setattr(train, "device_bytes_free", lambda device: 200_000)  # room for a step's rows, not the corpus
    cfg = tiny_config(corpus_file, epochs=0.3)
    with pytest.raises(
        train.TrainingError,
        match=r"a corpus segment of 20,000 tokens needs about .* GiB free: "
        r"lower --config.segment_tokens \(to at most 6,250;",
    ):
        experiment.train(cfg, tmp_path / "run", log=quiet, devices=jax.devices()[:1])
    experiment.train(
        tiny_config(corpus_file, epochs=0.3, segment_tokens=3_000),
        tmp_path / "run",
        log=quiet,
        devices=jax.devices()[:1],
    )


def test_the_token_cache_lives_under_the_configured_cache_dir(corpus_file, tmp_path):
    from pixie_jax.data.training_data import prepare_data

    cfg = tiny_config(corpus_file, cache_dir=str(tmp_path / "c"))
    lines = []
    prepare_data(cfg, log=lines.append)
    prepare_data(cfg, log=lines.append)
    assert any("from the cache" in line and str(tmp_path / "c") in line for line in lines)
    assert os.listdir(tmp_path / "c" / "corpora")


def test_the_cache_command_lists_entries_and_removes_only_the_stale_ones(tmp_path, capsys):
    from pixie_jax import cli

    path, other = tmp_path / "c.txt", tmp_path / "d.txt"
    path.write_text(topic_corpus(3000))
    other.write_text(topic_corpus(2000, seed=2))
    tokens.tokenise(path, 1, None, cache_dir=tmp_path / "cache", log=quiet)
    kept = tokens.tokenise(other, 1, None, cache_dir=tmp_path / "cache", log=quiet)
    path.write_text(topic_corpus(3000, seed=1))  # its entry is stale now
    (tmp_path / "cache" / "corpora" / ".abc.999999999.tmp").mkdir()  # a build whose process is gone
    cli.cache_main(["--cache-dir", str(tmp_path / "cache")])
    out = capsys.readouterr().out
    assert "3 entries" in out and "(stale: its corpus has changed since)" in out
    assert "(stale: a build that was stopped)" in out and out.count("stale:") == 2
    cli.cache_main(["--cache-dir", str(tmp_path / "cache"), "--remove-stale"])
    assert "removed 2 of 3 entries" in capsys.readouterr().out
    entries = tokens.cache_entries(tmp_path / "cache")
    assert len(entries) == 1 and entries[0].source == str(other) and not entries[0].stale
    lines = []
    assert tokens.tokenise(other, 1, None, cache_dir=tmp_path / "cache", log=lines.append).digest == kept.digest
    assert "from the cache" in lines[0]
    cli.cache_main(["--cache-dir", str(tmp_path / "cache"), "--clear"])
    assert tokens.cache_entries(tmp_path / "cache") == []
