import json

import numpy as np
import pytest
from conftest import features_file, tiny_config, topic_corpus

from pixie_jax import propagation
from pixie_jax.data import training_data as data_lib
from pixie_jax.data import vocab


def test_held_out_subset_is_a_seeded_fraction():
    words = [f"w{i}" for i in range(100)]
    a = propagation.choose_held_out(words, 0.2, seed=1)
    assert len(a) == 20 and set(a) <= set(words) and a == propagation.choose_held_out(words, 0.2, seed=1)
    assert a != propagation.choose_held_out(words, 0.2, seed=2)


@pytest.fixture(scope="module")
def propagated(tmp_path_factory):
    """propagation.run with half the visual words held out: (its config, folder, benchmark lines, scores).
    Its two runs are shared with the test of what the runs hold."""
    tmp_path = tmp_path_factory.mktemp("propagation")
    corpus = tmp_path / "corpus.txt"
    corpus.write_text(topic_corpus())
    words = vocab.build_vocab(topic_corpus(), 1).words
    visual = [w for w in words if w.startswith(("ta", "tb"))]
    feats = features_file(tmp_path, visual)
    bench = tmp_path / "bench"
    bench.mkdir()
    rng = np.random.default_rng(0)
    lines = [f"{a}\t{b}\t{10 if a[:2] == b[:2] else 1}" for a, b in rng.choice(visual, size=(60, 2)) if a != b]
    (bench / "toy.txt").write_text("\n".join(lines) + "\n")
    cfg = tiny_config(corpus, features=feats, epochs=0.3, benchmarks=str(bench))
    results = propagation.run(cfg, tmp_path / "prop", fraction=0.5, seed=0, log=lambda *a: None)
    return cfg, tmp_path, lines, results


def test_propagation_runs_both_models_and_scores_held_out_pairs(propagated):
    cfg, tmp_path, lines, results = propagated
    assert set(results) == {f"{r}:{k}" for r in ("with", "without") for k in ("e", "s", "t")}
    report = json.loads((tmp_path / "prop" / "propagation.json").read_text())
    assert len(report["held_out"]) == 10 and report["visual_words"] == 20
    used = {k: v[0]["used"] for k, v in report["scores"].items()}
    assert len(set(used.values())) == 1 and 0 < used["with:t"] < len(lines)
    assert (tmp_path / "prop" / "propagation.md").read_text().startswith("# Visual propagation")


def _visual_setup(corpus_file, tmp_path):
    words = vocab.build_vocab(topic_corpus(), 1).words
    visual = [w for w in words if w.startswith(("ta", "tb"))]
    cfg = tiny_config(corpus_file, features=features_file(tmp_path, visual), epochs=0.3)
    return cfg, data_lib.prepare_data(cfg, log=lambda *a: None), visual


def test_hold_out_removes_exactly_the_subset_features(corpus_file, tmp_path):
    cfg, data, visual = _visual_setup(corpus_file, tmp_path)
    held = propagation.hold_out(cfg, data, 0.25, seed=3, log=lambda *a: None)
    assert held.words == propagation.choose_held_out(visual, 0.25, 3) and held.visual_words == len(visual) == 20
    rows = data.vocab.lookup(held.words)
    np.testing.assert_array_equal(np.flatnonzero(held.in_subset), np.sort(rows))
    without = held.data_without
    assert (without.vis_index[rows] == -1).all() and without.n_visual == len(visual) - len(held.words)
    kept = [w for w in visual if w not in held.words]
    for w in kept:  # the others keep their own raw features
        i = data.vocab.lookup([w])[0]
        np.testing.assert_array_equal(without.raw_features[without.vis_index[i]], data.raw_features[data.vis_index[i]])


def test_without_run_has_no_visual_signal_for_held_out_words(propagated):
    cfg, tmp_path, _, _ = propagated
    data = data_lib.prepare_data(cfg, log=lambda *a: None)
    held = propagation.hold_out(cfg, data, 0.5, seed=0, log=lambda *a: None)
    runs = propagation.train_both(cfg, tmp_path / "prop", data, held, log=lambda *a: None)  # both runs finished there
    rows = data.vocab.lookup(held.words)
    with_, without = runs["with"].arrays, runs["without"].arrays
    assert (with_["mask"][rows] == 1).all() and (np.abs(with_["mu"][rows]).sum(1) > 0).all()
    assert (without["mask"][rows] == 0).all() and (without["mu"][rows] == 0).all()
    np.testing.assert_array_equal(without["s"][rows], without["e"][rows])
    assert np.abs(with_["e"] - without["e"]).max() > 1e-4  # the held-out features changed training
