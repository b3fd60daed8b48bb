import numpy as np
import pytest
from conftest import shared

from pixie_jax.evaluate import similarity as S


def _bench(tmp_path, text, name="b.txt"):
    (tmp_path / name).write_text(text)
    return S.read_benchmark(tmp_path / name)


def test_rank_preserving_similarity_gives_rho_one(tmp_path):
    words = ["w0", "w1", "w2", "w3", "w4", "w5"]
    angles = np.linspace(0, 1.4, 6)
    vectors = np.stack([np.cos(angles), np.sin(angles)], 1)
    lines = "".join(f"W0\t{w}\t{10 - 3 * i**1.5:.4f}\n" for i, w in enumerate(words[1:], 1))
    bench = _bench(tmp_path, lines)
    assert bench.pairs[0] == ("w0", "w1")  # case-folded
    s = S.score(bench, words, vectors)
    assert s.rho == pytest.approx(1.0) and s.used == 5 and s.coverage == 100
    reversed_bench = _bench(tmp_path, "".join(f"w0 {w} {i}\n" for i, w in enumerate(words[1:], 1)), "r.txt")
    assert S.score(reversed_bench, words, vectors).rho == pytest.approx(-1.0)


def test_settings_duplicates_and_self_pairs(tmp_path):
    bench = _bench(tmp_path, "a\tb\t1\nb\ta\t3\na\ta\t10\na\tc\t5\nc\td\t2\nb\td\t4\nx\ty\t1\n")
    assert bench.rows_in_file == 7 and len(bench.pairs) == 5  # (a,b) and (b,a) merged, (a,a) dropped
    assert bench.scores[0] == 2.0
    words = ["a", "b", "c", "d"]
    vectors = np.random.default_rng(0).normal(size=(4, 3))
    mask = np.array([1, 1, 1, 0])
    all_, vis = S.evaluate(words, vectors, mask, [bench])
    assert (all_.used, all_.total, vis.used) == (4, 5, 2)
    assert np.isnan(vis.rho)  # fewer than 3 pairs


@pytest.mark.parametrize(
    "text,message",
    [
        ("a\tb\n", r"bad.txt: line 1: expected 3 fields 'word1<TAB>word2<TAB>score', got 2"),
        ("a\tb\t1\nc\td\tn\t2\n", r"bad.txt: line 2: expected 3 fields .*got 4.*keep only those columns"),
        ("a b 1\nc d high\n", r"bad.txt: line 2: score 'high' is not a number"),
    ],
)
def test_bad_benchmark_lines_name_file_and_line(tmp_path, text, message):
    with pytest.raises(S.BenchmarkError, match=message):
        _bench(tmp_path, text, "bad.txt")


def test_bundled_benchmarks_and_shared_copies_agree():
    bundled = {b.name: b for b in S.load_benchmarks("bundled")}
    assert set(bundled) == {
        "EN-MC-30",
        "EN-MEN-TR-3k",
        "EN-MTurk-287",
        "EN-RG-65",
        "EN-SIMLEX-999",
        "EN-WS-353-ALL",
        "EN-WS-353-REL",
        "EN-WS-353-SIM",
    }
    assert bundled["EN-MTurk-287"].rows_in_file == 287
    assert bundled["EN-MTurk-287"].pairs == S.load_benchmarks(shared("mturk287"))[0].pairs
    assert bundled["EN-MEN-TR-3k"].rows_in_file == 3000 and len(bundled["EN-MEN-TR-3k"].pairs) == 3000
    # 353 rows: tiger-tiger is a self-pair; bank-money and money-cash are each listed twice (in either order)
    assert bundled["EN-WS-353-ALL"].rows_in_file == 353 and len(bundled["EN-WS-353-ALL"].pairs) == 350
    shared_men = S.load_benchmarks(shared("men"))[0]
    assert shared_men.pairs == bundled["EN-MEN-TR-3k"].pairs


def test_table_layout():
    scores = {"sgns": [S.Score("MEN", "all", 0.5, 80, 100), S.Score("MEN", "visual", float("nan"), 1, 100)]}
    table = S.format_table(scores)
    assert "sgns [all]" in table and "0.500 (80%)" in table and table.splitlines()[2].split()[-1] == "-"
