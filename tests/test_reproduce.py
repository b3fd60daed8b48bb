"""benchmarks/reproduce.py: the paper's numbers as transcribed, and a tiny end-to-end run."""

import re
import sys

import numpy as np
from conftest import ROOT, features_file, shared, topic_corpus

sys.path.insert(0, str(ROOT / "benchmarks"))
import paper_numbers
import reproduce

from pixie_jax.data import vocab


def _number_rows(text, start, stop):
    """Lines of numbers and dashes between two markers of the paper's text, keyed by the row label."""
    block = text[text.index(start) : text.index(stop, text.index(start))]
    rows = {}
    for line in block.splitlines():
        m = re.match(r"^(.*?)\s+((?:(?:-|\d\.\d\d)\s*){10,20})$", line.strip())
        if m:
            rows[m.group(1)] = [None if c == "-" else float(c) for c in m.group(2).split()]
    return rows


def test_transcription_matches_the_paper():
    text = shared("..", "paper", "pixie_emnlp2018.txt").read_text(encoding="utf-8")
    t2 = _number_rows(text, "Table 2: Results on word similarity", "4.2 Task 1")
    t3 = _number_rows(text, "Table 3: Spearman", "this end, we randomly")
    label = {
        "CNN+SGNS": "CNN⊕SGNS†",
        "VAE+SGNS": "VAE⊕SGNS",
        "V-SGNS": "V-SGNS‡",
        "PIXIE-concat": "PIXIE⊕",
        "IV-SGNS(LINEAR)": "IV-SGNS§ (LINEAR)",
        "IV-SGNS(NONLINEAR)": "IV-SGNS§ (NONLINEAR)",
    }
    assert len(paper_numbers.TABLE2) == 10 and len(paper_numbers.TABLE3) == 7
    for model, cells in paper_numbers.TABLE2.items():
        flat = [cells[b][s] for b in paper_numbers.BENCHMARKS for s in ("all", "visual")]
        assert t2[label.get(model, model)] == flat, model
    label3 = {
        "IV-SGNS(LINEAR)": "IV-SGNS (LINEAR)",
        "PIXIE-concat": "PIXIE⊕",
        "PIXIE-concat(*)": "(∗)",
        "V-SGNS(*)": "V-SGNS(∗)",
        "IV-SGNS(*)": "IV-SGNS(∗)",
    }
    for model, cells in paper_numbers.TABLE3.items():
        assert t3[label3.get(model, model)] == [cells[b] for b in paper_numbers.BENCHMARKS], model


def test_tiny_reproduction_writes_both_tables(tmp_path):
    (tmp_path / "corpus.txt").write_text(topic_corpus())
    words = [w for w in vocab.build_vocab(topic_corpus(), 1).words if w[:2] in ("ta", "tb", "tc")]
    features = features_file(tmp_path, words)
    bench = tmp_path / "EN-MEN-TR-3k.txt"
    rng = np.random.default_rng(0)
    pairs = {(a, b) for a, b in rng.choice(vocab.build_vocab(topic_corpus(), 1).words, (80, 2)) if a != b}
    bench.write_text("".join(f"{a}\t{b}\t{float(a[:2] == b[:2]) + rng.random():.3f}\n" for a, b in pairs))
    tiny = [
        "min_count=1",
        "subsample=0.0",
        "model.dim=8",
        "model.hidden=16",
        "model.features=6",
        "sampler.window=3",
        "sampler.contexts_per_centre=2",
        "sampler.negatives=4",
        "sampler.text_centres=0",
        "sampler.visual_centres=16",
        "sampler.visual_words=8",
        "steps_per_call=5",
        "checkpoint_every=1000",
        "vae.steps=20",
        "ivsgns.steps=20",
        "vsgns.negatives=4",
    ]
    questions = tmp_path / "questions.txt"
    questions.write_text(": topics\ntawa tbwa tawb tbwb\ntawc tcwc tawd tcwd\nnone none none none\n")
    reproduce.main(
        [
            "--corpus",
            str(tmp_path / "corpus.txt"),
            "--features",
            str(features),
            "--benchmarks",
            str(bench),
            "--epochs",
            "0.1",
            "--seeds",
            "0",
            "1",
            "--fraction",
            "0.5",
            "--out",
            str(tmp_path / "out"),
            "--analogies",
            str(questions),
            "--set",
            *tiny,
        ]
    )
    tables = (tmp_path / "out" / "TABLES.md").read_text()
    assert "mean±sd over seeds 0, 1" in tables and "EN-MEN-TR-3k (MEN)" in tables
    # the batch each model trained on, sized to its run (text_centres=0): SGNS has no visual centres
    assert "Batches (seed 0): sgns, the batch sized to the run: 2,048 + 0 centres a step" in tables
    assert "pixie, the batch sized to the run: 2,048 + 16 centres a step" in tables
    row = next(line for line in tables.splitlines() if line.startswith("| PIXIE-concat(*)"))
    assert re.search(r"\| -?\d\.\d\d±\d\.\d\d \(0\.70\) \|", row), row  # ours, then the paper's 0.70
    cnn = next(line for line in tables.splitlines() if line.startswith("| CNN |"))
    assert "- (-)" in cnn  # no all-pairs score for the features alone, as in the paper
    assert "| analogy, 3CosAdd % (not in the paper) |" in tables and "| 2/3 questions |" in tables
    sgns_row = next(line for line in tables.splitlines() if line.startswith("| SGNS |"))
    assert re.search(r"\| \d+\.\d±\d+\.\d \|$", sgns_row), sgns_row  # mean±sd of two seeds' accuracy
    import json

    results = json.loads((tmp_path / "out" / "results.json").read_text())
    assert len(results["scores"]) == 2 and len(results["held_out"]) == 15
    t2 = results["scores"][0]["table2"]
    sgns = t2["SGNS"]["EN-MEN-TR-3k"]["all"]
    assert set(t2) == set(reproduce.TABLE2_ROWS) and sgns["used"] == sgns["total"] > 60
    analogies = results["scores"][0]["analogy"]
    assert "CNN" not in analogies and analogies["SGNS"]["answered"] == 2
    assert analogies["SGNS"]["accuracy"] in (0.0, 50.0, 100.0)
    # --tables 2 into the same folder: Table 2's finished runs are resumed, not trained again, and give
    # the same scores; Table 3's runs, rows and section are left out
    metrics = {m: (tmp_path / "out" / "seed0" / m / "metrics.jsonl").read_text() for m in ("sgns", "pixie", "vsgns")}
    reproduce.main(
        [
            "--corpus",
            str(tmp_path / "corpus.txt"),
            "--features",
            str(features),
            "--benchmarks",
            str(bench),
            "--epochs",
            "0.1",
            "--seeds",
            "0",
            "--tables",
            "2",
            "--out",
            str(tmp_path / "out"),
            "--set",
            *tiny,
        ]
    )
    again = json.loads((tmp_path / "out" / "results.json").read_text())
    assert again["held_out"] == [] and again["scores"][0]["table3"] == {}
    assert again["scores"][0]["table2"] == t2
    assert set(again["setup"]["seconds_per_run"]["0"]) == {"sgns", "pixie", "vsgns", "vae", "ivsgns"}
    assert all((tmp_path / "out" / "seed0" / m / "metrics.jsonl").read_text() == text for m, text in metrics.items())
    only2 = (tmp_path / "out" / "TABLES.md").read_text()
    assert only2.startswith("# The paper's Table 2, reproduced") and "Table 3" not in only2
