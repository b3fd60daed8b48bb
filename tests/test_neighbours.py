import numpy as np
import pytest
from conftest import shared

from pixie_jax.evaluate import neighbours as nb


def test_nearest_and_pair_cosines():
    words = ["a", "b", "c", "d"]
    vectors = np.array([[1.0, 0], [0.9, 0.1], [0, 1.0], [-1.0, 0]])
    assert [w for w, _ in nb.nearest(words, vectors, "a", 2)] == ["b", "c"]
    assert nb.nearest(words, vectors, "a", 3)[-1] == ("d", pytest.approx(-1.0))
    assert nb.pair_cosines(words, vectors, [("a", "c"), ("a", "d")]) == pytest.approx([0.0, -1.0])
    with pytest.raises(nb.QueryError, match="'zebra' is not in"):
        nb.nearest(words, vectors, "zebra")


def test_concreteness_file():
    ratings = nb.load_concreteness(shared("concreteness", "Concreteness_ratings_Brysbaert_et_al_BRM.txt"))
    assert len(ratings) > 37000
    assert ratings["goose"] == 4.81 and ratings["savagery"] == 1.73  # as in the paper's Table 5


def test_concreteness_bad_header(tmp_path):
    (tmp_path / "c.txt").write_text("a\tb\nx\t1\n")
    with pytest.raises(ValueError, match="line 1: expected a header"):
        nb.load_concreteness(tmp_path / "c.txt")
