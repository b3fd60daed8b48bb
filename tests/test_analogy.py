import itertools
import json
import subprocess
import sys

import numpy as np
import pytest
from conftest import ROOT

from pixie_jax.data import embedding_files
from pixie_jax.evaluate import analogy
from pixie_jax.evaluate.neighbours import QueryError


def structured_vectors(questions: analogy.AnalogySet, dim=30, noise=1.2, distractors=2000, seed=0):
    """Vectors in which each section is an offset (b = a + offset + noise), shuffled among random distractors:
    some questions are answered, some not, as with trained vectors."""
    rng = np.random.default_rng(seed)
    vec, offsets = {}, {}
    for q, s in zip(questions.questions, questions.section_of):
        offset = offsets.setdefault(s, rng.normal(size=dim))
        for x, y in ((q[0], q[1]), (q[2], q[3])):
            vec.setdefault(x, rng.normal(size=dim))
            vec.setdefault(y, vec[x] + offset + rng.normal(size=dim) * noise)
    words = list(vec) + [f"noise{i}" for i in range(distractors)]
    vectors = np.concatenate([np.stack(list(vec.values())), 1.5 * rng.normal(size=(distractors, dim))])
    order = rng.permutation(len(words))
    return [words[i] for i in order], vectors[order].astype(np.float32)


def write(tmp_path, text, name="q.txt"):
    path = tmp_path / name
    path.write_text(text)
    return path


def test_answers_match_an_exhaustive_float64_search(tmp_path):
    rng = np.random.default_rng(1)
    words = [f"w{i}" for i in range(12)]
    vectors = rng.normal(size=(12, 4))
    questions = [q for q in itertools.permutations(range(10), 4)][::97]  # w10, w11 lie beyond restrict=10
    questions += [(0, 1, 2, 11), (10, 1, 2, 3)]  # not answerable within the first 10 words
    path = write(tmp_path, ": one\n" + "".join(" ".join(f"W{i}" for i in q) + "\n" for q in questions))
    unit = vectors / np.linalg.norm(vectors, axis=1, keepdims=True)
    cos = lambda i, j: float(unit[i] @ unit[j])  # noqa: E731
    expected = {
        "3CosAdd": lambda a, b, c, w: cos(w, b) - cos(w, a) + cos(w, c),
        "3CosMul": lambda a, b, c, w: ((cos(w, b) + 1) / 2) * ((cos(w, c) + 1) / 2) / ((cos(w, a) + 1) / 2 + 1e-3),
    }
    scores = analogy.evaluate(words, vectors, analogy.read_analogies(path), restrict=10)
    for method, objective in expected.items():
        correct = sum(
            max((w for w in range(10) if w not in q[:3]), key=lambda w: objective(*q[:3], w)) == q[3]
            for q in questions[:-2]
        )
        total = next(s for s in scores if s.section == "total" and s.method == method)
        assert (total.correct, total.answered, total.questions) == (correct, len(questions) - 2, len(questions))
        assert total.accuracy == pytest.approx(100 * correct / (len(questions) - 2))
    assert {s.section for s in scores} == {"one", "total"}  # no semantic/syntactic split without gram* sections


def test_3cosadd_is_gensims_evaluate_word_analogies():
    gensim = pytest.importorskip("gensim")
    questions = analogy.load_analogies("bundled")
    assert len(questions.questions) == 19544 and len(questions.sections) == 14
    words, vectors = structured_vectors(questions)
    kv = gensim.models.KeyedVectors(vectors.shape[1])
    kv.add_vectors(words, vectors)
    for restrict in (1500, 30_000):
        ours = {s.section: s for s in analogy.evaluate(words, vectors, questions, restrict, methods=("add",))}
        total, sections = kv.evaluate_word_analogies(questions.path, restrict_vocab=restrict)
        assert ours["total"].accuracy == pytest.approx(100 * total, abs=1e-9)
        assert 5 < ours["total"].accuracy < 95  # neither trivial nor hopeless: the comparison means something
        for theirs in sections[:-1]:
            mine = ours[theirs["section"]]
            assert (mine.correct, mine.answered) == (
                len(theirs["correct"]),
                len(theirs["correct"]) + len(theirs["incorrect"]),
            )
    assert ours["semantic"].questions + ours["syntactic"].questions == 19544


def test_vector_arithmetic_finds_queen():
    axes = np.eye(4)
    words = ["man", "woman", "king", "queen", "prince", "apple"]
    vectors = np.stack([axes[0], axes[1], axes[0] + axes[2], axes[1] + axes[2], axes[0] + 0.8 * axes[2], axes[3]])
    for method in ("add", "mul"):
        best = analogy.arithmetic(words, vectors, "king - man + woman", k=3, method=method)
        assert best[0][0] == "queen" and {w for w, _ in best}.isdisjoint({"king", "man", "woman"})
    assert analogy.arithmetic(words, vectors, "KING -man +woman", k=1)[0][0] == "queen"
    assert analogy.parse_query("king-man+woman") == (["king", "woman"], ["man"])
    with pytest.raises(QueryError, match="'kingdom' is not in the embeddings' vocabulary"):
        analogy.arithmetic(words, vectors, "kingdom - man")
    for bad, message in (
        ("king - - man", "two operators"),
        ("king -", "ends with an operator"),
        ("- man", "at least one word added"),
    ):
        with pytest.raises(ValueError, match=message):
            analogy.parse_query(bad)


def test_bad_analogy_files_name_the_file_and_line(tmp_path):
    cases = {
        ": s\na b c d\na b c\n": "line 3: expected 4 words 'a b c d'",
        "a b c d\n": "line 1: a question before the first ': section' header",
        ": s\n\n": "no analogy questions",
        ":\na b c d\n": "line 1: a section header needs a name",
    }
    for text, message in cases.items():
        path = write(tmp_path, text)
        with pytest.raises(analogy.AnalogyError, match=f"{path}: {message}"):
            analogy.read_analogies(path)
    path = tmp_path / "latin1.txt"
    path.write_bytes(b": s\na b c d\ncaf\xe9 b c d\n")
    with pytest.raises(analogy.AnalogyError, match="line 3: not UTF-8"):
        analogy.read_analogies(path)
    with pytest.raises(analogy.AnalogyError, match="is a folder"):
        analogy.load_analogies(tmp_path)
    with pytest.raises(analogy.AnalogyError, match="no such analogy file"):
        analogy.load_analogies(tmp_path / "missing.txt")
    questions = analogy.read_analogies(write(tmp_path, ": s\nA B C D\n"))
    assert questions.questions.tolist() == [["a", "b", "c", "d"]]  # case-folded
    with pytest.raises(analogy.AnalogyError, match="none of its 1 questions has its four words among the 2 most"):
        analogy.evaluate(["a", "b", "c", "d"], np.eye(4), questions, restrict=2, label="toy:e")


def test_bin_evaluate_scores_analogies_and_answers_queries(tmp_path):
    questions = analogy.load_analogies("bundled")
    words, vectors = structured_vectors(questions, distractors=500)
    embedding_files.save_embeddings(tmp_path / "emb.npz", words, np.zeros(len(words)), e=vectors, x=vectors[:, :3])

    def run(*extra):
        return subprocess.run(
            [
                sys.executable,
                str(ROOT / "bin" / "evaluate"),
                "--embeddings",
                f"toy={tmp_path / 'emb.npz'}",
                "--kind",
                "e",
                "x",
                *extra,
            ],
            capture_output=True,
            text=True,
        )

    out = run(
        "--analogies",
        "bundled",
        "--analogy-vocab",
        "1000",
        "--query",
        "athens - greece + iraq",
        "king - kingdom",
        "--json",
        str(tmp_path / "s.json"),
        "--report",
        str(tmp_path / "report"),
    )
    assert out.returncode == 0, out.stderr
    expected = {
        s.section: s for s in analogy.evaluate(words, vectors, questions, restrict=1000) if s.method == "3CosAdd"
    }
    rows = [r for r in json.loads((tmp_path / "s.json").read_text()) if r["task"] == "analogy"]
    assert {r["kind"] for r in rows} == {"e"}  # x has no text: no analogies
    total = next(r for r in rows if r["section"] == "total" and r["method"] == "3CosAdd")
    assert (total["correct"], total["answered"], total["restrict"]) == (
        expected["total"].correct,
        expected["total"].answered,
        1000,
    )
    line = next(ln for ln in out.stdout.splitlines() if ln.startswith("total "))
    assert f"{expected['total'].accuracy:.1f} / " in line and f"({expected['total'].coverage:.0f}%)" in line
    assert "answers among the 1,000 most frequent words" in out.stdout
    best = analogy.arithmetic(words, vectors, "athens - greece + iraq", 10, "mul")
    assert "toy:e 3CosMul: " + ", ".join(f"{w} {s:.2f}" for w, s in best) in out.stdout
    assert "toy:e: 'kingdom' is not in the embeddings' vocabulary" in out.stdout
    report = (tmp_path / "report" / "report.md").read_text()
    assert "## Word analogies" in report and "![analogies, 3CosMul](analogies_3CosMul.png)" in report
    assert (tmp_path / "report" / "analogies_3CosAdd.png").read_bytes()[:4] == b"\x89PNG"
    bad = write(tmp_path, ": s\nathens greece baghdad\n", "bad.txt")
    failed = run("--analogies", str(bad))
    assert failed.returncode == 1 and f"error: {bad}: line 2: expected 4 words" in failed.stderr
    empty = run("--analogies", str(write(tmp_path, ": s\nfoo bar baz qux\n", "none.txt")))
    assert empty.returncode == 1 and "none of its 1 questions has its four words" in empty.stderr
