import jax
import jax.numpy as jnp
import numpy as np
import pytest
from conftest import sample_batch

from pixie_jax.training import sampling
from pixie_jax.training.step import subsample_epoch as subsample  # compiled, as the trainer runs it


def test_window_offsets_follow_reduced_window():
    L = 5
    off = np.asarray(sampling.window_offsets(jax.random.key(1), (300_000,), L))
    assert set(np.unique(np.abs(off))) == set(range(1, L + 1))
    d = np.abs(off)
    p = (L - np.arange(1, L + 1) + 1) / (L * (L + 1) / 2)
    freq = np.bincount(d, minlength=L + 1)[1:] / len(d)
    assert np.abs(freq - p).max() < 0.005
    assert abs((off > 0).mean() - 0.5) < 0.005


def test_subsample_keeps_order_and_splits_strata():
    ids = jnp.asarray(np.tile(np.arange(4), 5000), jnp.int32)
    keep = jnp.asarray([1.0, 0.5, 0.25, 1.0])
    vis = jnp.asarray([-1, 0, -1, 1], jnp.int32)
    ep = subsample(jax.random.key(0), ids, keep, vis)
    n = int(ep.n_kept)
    kept = np.asarray(ep.kept)[:n]
    frac = np.bincount(kept, minlength=4) / 5000
    np.testing.assert_allclose(frac, [1, 0.5, 0.25, 1], atol=0.03)
    assert int(ep.n_vis) + int(ep.n_txt) == n
    vis_words = kept[np.asarray(ep.vis_pos)[: int(ep.n_vis)]]
    txt_words = kept[np.asarray(ep.txt_pos)[: int(ep.n_txt)]]
    assert set(vis_words) == {1, 3} and set(txt_words) == {0, 2}
    # kept tokens stay in corpus order: the corpus cycles 0 1 2 3 and words 0 and 3 are always kept, so
    # each kept token is followed by a later word of its cycle, or by the 0 that starts the next one
    a, b = kept[:-1], kept[1:]
    assert ((b > a) | ((a == 3) & (b == 0))).all() and (kept[kept % 3 == 0] == np.tile([0, 3], 5000)).all()
    assert (np.diff(np.asarray(ep.vis_pos)[: int(ep.n_vis)]) > 0).all()


def test_sampler_config_rejects_bad_groups():
    with pytest.raises(ValueError, match=r"multiple of the context slots per row \(8: contexts_per_centre\)"):
        sampling.SamplerConfig(contexts_per_centre=8, negative_group=12)
    with pytest.raises(
        ValueError,
        match=r"slots per row \(8: 2 x \(window \+ 1\), two centres' contexts, as "
        r"enumerate_window is on\), got 4",
    ):
        sampling.SamplerConfig(window=3, negative_group=4, enumerate_window=True)
    with pytest.raises(ValueError, match="text_centres .6. must be a multiple of 4: the centres whose pairs share"):
        sampling.SamplerConfig(contexts_per_centre=2, negative_group=8, text_centres=6)
    with pytest.raises(ValueError, match="visual_centres .3. must be a multiple of 2: enumerate_window packs"):
        sampling.SamplerConfig(window=3, text_centres=4, visual_centres=3, enumerate_window=True)
    with pytest.raises(ValueError, match="text_centres .6. must be a multiple of 4: the centres whose pairs share"):
        sampling.SamplerConfig(window=3, negative_group=16, text_centres=6, visual_centres=0, enumerate_window=True)
    assert sampling.SamplerConfig(contexts_per_centre=4, text_centres=3, visual_centres=1).pairs_per_step == 16


def test_window_enumeration_gives_every_context_of_a_reduced_window_once():
    L, T, centres = 5, 4000, 20_000
    ids = jnp.arange(T, dtype=jnp.int32)  # token t is word t: a context's id is its position
    epoch = sampling.EpochData(ids, jnp.int32(T), jnp.zeros(T, jnp.int32), jnp.int32(0), ids, jnp.int32(T))
    tables = sampling.WordArrays(jnp.ones(T), jnp.ones(T), jnp.arange(T, dtype=jnp.int32), -jnp.ones(T, jnp.int32))
    cfg = sampling.SamplerConfig(
        window=L, negatives=2, text_centres=centres, visual_centres=0, visual_words=0, enumerate_window=True
    )
    assert cfg.slots == 2 * (L + 1) and cfg.pairs_per_step == centres * (L + 1)
    text = sample_batch(jax.random.key(3), epoch, tables, cfg)["text"]
    words, ctx, valid = np.asarray(text["words"]), np.asarray(text["contexts"]), np.asarray(text["valid"]) > 0
    owner = np.asarray(text["owner"])
    rows = centres // 2
    assert ctx.shape == owner.shape == (rows, 2 * (L + 1)) and text["negatives"].shape == (rows, 2 * (L + 1), 2)
    # row r packs centres 2r and 2r + 1: every slot is one of theirs, the first centre's slots first
    assert (np.diff(owner, axis=1) >= 0).all()
    centre_of_slot = words.reshape(rows, 2)[np.arange(rows)[:, None], owner]
    offsets = ctx - centre_of_slot
    interior = ((words >= L) & (words < T - L)).reshape(rows, 2).all(1)
    reduced = []
    for r in np.flatnonzero(interior)[:2000]:
        assert valid[r].all()  # inside the text no slot is wasted
        windows = []
        for k in (0, 1):  # the valid contexts of each centre are exactly t-b..t+b but t, each once
            row = offsets[r][owner[r] == k]
            b = np.abs(row).max()
            assert list(row) == [d for d in range(-b, b + 1) if d]
            windows.append(b)
        assert sum(windows) == L + 1  # the two windows fill the row: b and L + 1 - b
        reduced += windows
    np.testing.assert_allclose(np.bincount(reduced, minlength=L + 1)[1:] / len(reduced), 1 / L, atol=0.02)
    # word2vec's pair distribution: distance d with probability (L - d + 1) / (L (L + 1) / 2), either side
    d = np.abs(offsets[interior][valid[interior]])
    p = (L - np.arange(1, L + 1) + 1) / (L * (L + 1) / 2)
    np.testing.assert_allclose(np.bincount(d, minlength=L + 1)[1:] / len(d), p, atol=0.005)
    # the weights make the per-pair average unbiased: L + 1 pairs per centre, exactly two centres' a row
    weight = np.asarray(text["weight"]).reshape(rows, 2)[np.arange(rows)[:, None], owner]
    assert abs((weight * valid)[interior].sum() / interior.mean() - 1.0) < 1e-3


def ordered_text(T: int, centres: int, **order):
    """A text of T distinct tokens 0..T-1 (every one kept, none visual, the pass's positions in the text's
    order), its tables, and a sampler of ``centres`` text centres with the ``order`` option."""
    ids = jnp.arange(T, dtype=jnp.int32)
    epoch = sampling.EpochData(ids, jnp.int32(T), jnp.zeros(T, jnp.int32), jnp.int32(0), ids, jnp.int32(T))
    tables = sampling.WordArrays(jnp.ones(T), jnp.ones(T), jnp.arange(T, dtype=jnp.int32), -jnp.ones(T, jnp.int32))
    cfg = sampling.SamplerConfig(
        window=3, contexts_per_centre=2, negatives=1, text_centres=centres, visual_centres=0, visual_words=0, **order
    )
    return epoch, tables, cfg


def test_shuffled_centres_sweep_the_passs_order_b_at_a_time():
    """With ``shuffle`` step s takes the next B positions of the pass's order (here the text's own: the
    positions of ``ordered_text``'s pass are in order), the last step of a sweep wrapping to the start."""
    T, centres = 1000, 64
    epoch, tables, cfg = ordered_text(T, centres, shuffle=True)
    sweep = -(-T // centres)  # 16 steps, the last one wrapping to the start
    seen = np.concatenate(
        [np.asarray(sample_batch(jax.random.key(s), epoch, tables, cfg, s)["text"]["words"]) for s in range(sweep)]
    )
    assert (seen[:T] == np.arange(T)).all() and (seen[T:] == np.arange(sweep * centres - T)).all()
    again = sample_batch(jax.random.key(0), epoch, tables, cfg, 3 * sweep + 2)["text"]["words"]
    assert (np.asarray(again) == np.arange(2 * centres, 3 * centres)).all()  # each sweep starts afresh


def test_shuffled_centres_take_every_token_of_a_pass_once_in_a_random_order():
    T, centres = 1000, 64
    ids = jnp.arange(T, dtype=jnp.int32) % 50
    keep = jnp.where(jnp.arange(50) < 5, 0.0, 1.0)  # words 0-4 are never kept
    vis_index = jnp.where(jnp.arange(50) % 10 == 9, 1, -1).astype(jnp.int32)
    plain = subsample(jax.random.key(7), ids, keep, vis_index)
    epoch = subsample(jax.random.key(7), ids, keep, vis_index, shuffle=True)
    assert int(epoch.n_kept) == int(plain.n_kept) == 900 and (epoch.kept == plain.kept).all()  # the same tokens
    n_txt, n_vis = int(epoch.n_txt), int(epoch.n_vis)
    txt, vis = np.asarray(epoch.txt_pos[:n_txt]), np.asarray(epoch.vis_pos[:n_vis])
    assert sorted(txt) == list(np.asarray(plain.txt_pos[:n_txt]))
    assert sorted(vis) == list(np.asarray(plain.vis_pos[:n_vis]))
    assert (np.diff(txt) < 0).sum() > n_txt // 3  # not in the text's order
    tables = sampling.WordArrays(keep, jnp.ones(50), jnp.arange(50, dtype=jnp.int32), vis_index)
    cfg = sampling.SamplerConfig(
        window=3,
        contexts_per_centre=2,
        negatives=1,
        text_centres=centres,
        visual_centres=0,
        visual_words=0,
        shuffle=True,
        enumerate_window=True,
    )
    sweep = -(-n_txt // centres)
    words = np.concatenate(
        [np.asarray(sample_batch(jax.random.key(s), epoch, tables, cfg, s)["text"]["words"]) for s in range(sweep)]
    )
    kept = np.asarray(epoch.kept)
    assert sorted(words[:n_txt]) == sorted(kept[txt])  # a sweep: every text token once as a centre
    assert not (words[:n_txt] == kept[np.sort(txt)]).all()
