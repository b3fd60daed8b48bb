"""The paper's visual-word rule on a small hand-made WordNet: a word is visual through its own
ImageNet synset, with the photos of that synset and those below it (down to a depth), topped up from
its hypernyms to at most max_images, sampled down with a seed; the closure rule kept as an option."""

import numpy as np
import pytest

from pixie_jax.data.feature_files import FeatureFileError
from pixie_jax.visual import word_features as WF


class Synset:
    def __init__(self, offset, name, parent=None):
        self._offset, self.name, self.parent, self.children = offset, name, parent, []
        if parent:
            parent.children.append(self)

    def offset(self):
        return self._offset

    def hypernyms(self):
        return [self.parent] if self.parent else []

    def hyponyms(self):
        return list(self.children)

    def instance_hypernyms(self):
        return []

    def instance_hyponyms(self):
        return []

    def closure(self, relation):
        out, frontier = [], relation(self)
        while frontier:
            out += frontier
            frontier = [r for s in frontier for r in relation(s)]
        return out

    def min_depth(self):
        return 0 if self.parent is None else 1 + self.parent.min_depth()


class WordNet:
    """entity > animal > {dog > {toy > chihuahua > deepdog}, wolf}; pup below dog, without photos."""

    def __init__(self):
        entity = Synset(1, "entity")
        animal = Synset(2, "animal", entity)
        dog = Synset(3, "dog", animal)
        toy = Synset(4, "toy", dog)
        chihuahua = Synset(5, "chihuahua", toy)
        Synset(6, "wolf", animal)
        Synset(8, "deepdog", chihuahua)
        Synset(9, "pup", dog)
        self.by_offset = {}
        stack = [entity]
        while stack:
            s = stack.pop()
            self.by_offset[s.offset()] = s
            stack += s.children

    def synsets(self, word, pos="n"):
        return [s for s in self.by_offset.values() if s.name == word]

    def synset_from_pos_and_offset(self, pos, offset):
        return self.by_offset[offset]


def wid(offset):
    return f"n{offset:08d}"


IMAGENET = frozenset(wid(o) for o in (3, 4, 5, 6, 9))  # dog, toy, chihuahua, wolf, pup (not entity, animal)
MEANS = {3: [1.0, 0.0], 5: [0.0, 1.0], 6: [5.0, 5.0], 8: [2.0, 2.0]}  # dog, chihuahua, wolf, deepdog
COUNTS = {3: 2, 5: 3, 6: 5, 8: 4}


@pytest.fixture
def source():
    offsets = sorted(MEANS)
    return WF.ClassFeatures(
        "photos",
        tuple(wid(o) for o in offsets),
        np.array([MEANS[o] for o in offsets], np.float32),
        np.array([COUNTS[o] for o in offsets]),
    )


def build(words, source, **rule):
    return WF.build_word_features(words, [source], WordNet(), WF.PaperRule(IMAGENET, **rule))


def features(wf):
    return dict(zip(wf.words, wf.features))


def test_own_synset_and_the_photos_below_it_down_to_a_depth(source):
    wf, cov = build(["dog", "toy", "entity", "animal", "pup"], source, depth=2, max_images=100, topup_levels=0)
    got = features(wf)
    assert sorted(got) == ["dog", "toy"]  # entity and animal are not ImageNet synsets; pup has no photos
    np.testing.assert_allclose(got["dog"], (2 * np.array([1, 0]) + 3 * np.array([0, 1])) / 5)  # deepdog too deep
    np.testing.assert_allclose(got["toy"], (3 * np.array([0, 1]) + 4 * np.array([2, 2])) / 7)
    assert cov.visual_by_rule == 3 and cov.visual_words == 2
    assert cov.through == {"own": 1, "hyponym": 1}
    deeper, _ = build(["dog"], source, depth=3, max_images=100, topup_levels=0)
    np.testing.assert_allclose(
        features(deeper)["dog"], (2 * np.array([1, 0]) + 3 * np.array([0, 1]) + 4 * np.array([2, 2])) / 9
    )


def test_top_up_from_hypernyms_to_max_images(source):
    # chihuahua: its own 3 photos and deepdog's 4 below; with depth 0 only its own, then 'toy' tops up
    wf, cov = build(["chihuahua"], source, depth=0, max_images=5, topup_levels=1)
    np.testing.assert_allclose(features(wf)["chihuahua"], [0, 1])  # toy has no photos of its own at depth 0
    wf, cov = build(["chihuahua"], source, depth=0, max_images=5, topup_levels=2)
    # two levels up, dog's own 2 photos fill the 5: (3 chihuahua + 2 dog) / 5
    np.testing.assert_allclose(features(wf)["chihuahua"], (3 * np.array([0, 1]) + 2 * np.array([1, 0])) / 5)
    assert cov.through == {"own": 1, "hyponym": 0} and cov.photos_per_word_mean == 5 and cov.backed_off == 1
    wf, cov = build(["chihuahua"], source, depth=1, max_images=5, topup_levels=2)
    # its own 3 and deepdog's 4 below it are 7 > 5: sampled down to 5, no top-up
    assert cov.photos_per_word_mean == 5 and cov.backed_off == 0
    assert 0 < features(wf)["chihuahua"][0] <= 2 * 4 / 5 and features(wf)["chihuahua"][1] >= 3 / 5
    wf, cov = build(["pup"], source, depth=0, max_images=10, topup_levels=1)
    # pup has no photos here: not visual, so not topped up although its hypernym dog has photos
    assert wf.words == () and cov.visual_by_rule == 1


def test_the_cap_samples_photos_with_a_seed(source):
    wf, cov = build(["dog"], source, depth=3, max_images=4, topup_levels=0)
    assert cov.photos_per_word_mean == 4
    again, _ = build(["dog"], source, depth=3, max_images=4, topup_levels=0)
    np.testing.assert_array_equal(wf.features, again.features)
    draws = {
        tuple(build(["dog"], source, depth=3, max_images=4, topup_levels=0, seed=s)[0].features[0]) for s in range(20)
    }
    assert len(draws) > 1  # other seeds, other photos
    # every draw is a photo-weighted mean of 4 of the 9 photos: inside their convex hull, weights sum to 4
    for x in draws:
        assert 0 <= x[0] <= 2 and 0 <= x[1] <= 2


def test_the_closure_rule_makes_abstract_words_visual(source):
    wf, cov = WF.build_word_features(["entity", "dog"], [source], WordNet(), WF.ClosureRule())
    got = features(wf)
    total = sum(COUNTS.values())
    np.testing.assert_allclose(got["entity"], sum(COUNTS[o] * np.array(MEANS[o]) for o in MEANS) / total)
    assert cov.most_abstract[0] == "entity (0)" and "closure" in cov.rule


def test_the_report_and_the_shipped_synset_list(source, tmp_path):
    _, cov = build(["dog", "toy", "chihuahua", "entity"], source, depth=2, max_images=3, topup_levels=1)
    text = str(cov)
    assert "3 words have a noun synset in ImageNet, 3 of them with photos here" in text
    assert "the most abstract visual words (WordNet depth): dog (2), toy (3), chihuahua (4)" in text
    shipped = WF.load_synset_list()
    assert len(shipped) == 21_843 and "n02084071" in shipped and "n00001740" not in shipped  # dog; not entity
    (tmp_path / "bad.txt").write_text("n02084071\ndog\n")
    with pytest.raises(FeatureFileError, match=r"bad.txt: line 2: expected a WordNet id"):
        WF.load_synset_list(tmp_path / "bad.txt")
