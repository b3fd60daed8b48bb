"""benchmarks/comparison.py: the paper's rows as transcribed, gensim trained and kept, a run's file scored in
both settings with its seconds, and one line for a run that is not there."""

import json
import sys

import numpy as np
import pytest
from conftest import ROOT, bundled_slice

from pixie_jax.data import embedding_files
from pixie_jax.evaluate import similarity

sys.path.insert(0, str(ROOT))
from benchmarks import (
    comparison,
    paper_numbers,
)

pytest.importorskip("gensim", reason="gensim (the test extra) is not installed")


def fake_run(folder, words, seconds):
    """A finished run's files: random vectors for the corpus's words and two logged chunks."""
    folder.mkdir()
    vocab = sorted(set(words))
    vectors = np.random.default_rng(0).normal(size=(len(vocab), 8)).astype(np.float32)
    embedding_files.save_embeddings(folder / "embeddings.npz", vocab, np.zeros(len(vocab)), e=vectors)
    (folder / "metrics.jsonl").write_text("".join(json.dumps({"step": i, "seconds": s}) + "\n" for i, s in seconds))
    return vocab, vectors


def test_one_table_holds_the_paper_gensim_and_a_run_scored_in_both_settings(tmp_path, capsys):
    corpus, words = bundled_slice(tmp_path, 120_000)
    vocab, vectors = fake_run(tmp_path / "run", words, [(20, 1.5), (40, 2.0)])
    out = tmp_path / "out"
    comparison.main(
        [
            *("--corpus", str(corpus), "--epochs", "1", "--gensim-windows", "2"),
            *("--ours", f"mine={tmp_path / 'run'}:e", "--out", str(out)),
        ]
    )
    rows = json.loads((out / "comparison.json").read_text())["rows"]
    assert list(rows) == ["paper SGNS (text8)", "paper PIXIE+ (text8)", "gensim skip-gram, window 2", "mine"]
    assert rows["paper SGNS (text8)"]["sets"]["EN-SIMLEX-999"] == paper_numbers.TABLE2["SGNS"]["SimLex"]
    assert rows["paper PIXIE+ (text8)"]["sets"]["EN-MEN-TR-3k"] == {"all": 0.64, "visual": 0.73}
    assert rows["mine"]["seconds"] == pytest.approx(3.5)
    men = next(b for b in similarity.load_benchmarks("bundled") if b.name == "EN-MEN-TR-3k")
    assert rows["mine"]["sets"]["EN-MEN-TR-3k"]["all"] == pytest.approx(similarity.score(men, vocab, vectors).rho)
    gensim = embedding_files.load_embeddings(out / "gensim_w2.npz")
    assert gensim["e"].shape[1] == 100 and rows["gensim skip-gram, window 2"]["seconds"] > 0
    text = (out / "comparison.md").read_text()
    assert "| paper SGNS (text8) | 0.330 / 0.350 | 0.660 / 0.660 |" in text  # SimLex, then SIM: the paper's order
    assert text.strip() in capsys.readouterr().out


def test_a_run_that_is_not_there_is_one_line(tmp_path):
    with pytest.raises(SystemExit) as exit_info:
        comparison.main(["--ours", f"x={tmp_path}:e", "--out", str(tmp_path / "out")])
    assert str(exit_info.value.code).startswith("error: --ours 'x=") and "a finished run's embeddings.npz" in str(
        exit_info.value.code
    )
    assert not (tmp_path / "out").exists()
