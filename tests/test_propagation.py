import json

import numpy as np
from conftest import features_file, tiny_config, topic_corpus

from pixie_jax import vocab
from pixie_jax.evaluate import propagation


def test_held_out_subset_is_a_seeded_fraction():
    words = [f"w{i}" for i in range(100)]
    a = propagation.choose_held_out(words, 0.2, seed=1)
    assert len(a) == 20 and set(a) <= set(words) and a == propagation.choose_held_out(words, 0.2, seed=1)
    assert a != propagation.choose_held_out(words, 0.2, seed=2)


def test_propagation_runs_both_models_and_scores_held_out_pairs(corpus_file, tmp_path):
    words = vocab.build_vocab(topic_corpus(), 1).words
    visual = [w for w in words if w.startswith(("ta", "tb"))]
    feats = features_file(tmp_path, visual)
    bench = tmp_path / "bench"
    bench.mkdir()
    rng = np.random.default_rng(0)
    lines = [f"{a}\t{b}\t{10 if a[:2] == b[:2] else 1}" for a, b in rng.choice(visual, size=(60, 2)) if a != b]
    (bench / "toy.txt").write_text("\n".join(lines) + "\n")
    cfg = tiny_config(corpus_file, features=feats, epochs=0.3, benchmarks=str(bench))
    results = propagation.run(cfg, tmp_path / "prop", fraction=0.5, seed=0, log=lambda *a: None)
    assert set(results) == {f"{r}:{k}" for r in ("with", "without") for k in ("e", "s", "t")}
    report = json.loads((tmp_path / "prop" / "propagation.json").read_text())
    assert len(report["held_out"]) == 10 and report["visual_words"] == 20
    used = {k: v[0]["used"] for k, v in report["scores"].items()}
    assert len(set(used.values())) == 1 and 0 < used["with:t"] < len(lines)
    assert (tmp_path / "prop" / "propagation.md").read_text().startswith("# Visual propagation")
