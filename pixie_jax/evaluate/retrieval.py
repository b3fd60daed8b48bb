"""Image <-> caption retrieval with frozen word embeddings (the paper's section 4.3, Table 6).

Sentence: a one-layer GRU over the caption's word vectors; its hidden state at the caption's
true length, L2-normalised (1024-d). Image: a linear map of the CNN features, L2-normalised.
Score: inner product. Loss (VSE, Kiros et al.; VSE++, Faghri et al.), for a batch of matching
(image i, caption i) pairs with scores S_ij, margin a:

    VSE   : sum_i sum_{j != i} [a - S_ii + S_ij]_+ + [a - S_ii + S_ji]_+
    VSE++ : sum_i max_{j != i} [a - S_ii + S_ij]_+ + max_{j != i} [a - S_ii + S_ji]_+

Captions with no word in the embeddings' vocabulary cannot be encoded: they are dropped with a
counted warning. Words outside the vocabulary are skipped.
"""

from __future__ import annotations

import dataclasses
import os
import warnings
from pathlib import Path

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
import optax

from pixie_jax.data.corpus import normalise
from pixie_jax.errors import InputError
from pixie_jax.files import load_arrays
from pixie_jax.visual.wordnet import synset_of


class RetrievalDataError(InputError):
    pass


# configs/retrieval.py's settings, checked before anything is read (:func:`pixie_jax.validation.validate`)
RULES = (
    ("size", 1, True),
    ("margin", 0, True),
    ("learning_rate", 0, False),
    ("decay_every", 1, True),
    ("epochs", 1, True),
    ("batch_size", 2, True),
    ("clip", 0, False),
    ("max_len", 1, True),
    ("folds", 1, True),
)


@dataclasses.dataclass
class Split:
    """Images, captions (token lists) and, for each caption, the row of its image."""

    images: np.ndarray  # float32 [n_img, D]
    captions: list[list[str]]
    caption_image: np.ndarray  # int [n_cap]


def load_precomputed(folder: str | os.PathLike, split: str, per_image: int = 5) -> Split:
    """The VSE/VSE++ format (Flickr30K, COCO with the Karpathy split): ``{split}_ims.npy`` with one
    row per image and ``{split}_caps.txt`` with ``per_image`` captions per image, in image order."""
    folder = Path(folder)
    ims_path, caps_path = folder / f"{split}_ims.npy", folder / f"{split}_caps.txt"
    for p in (ims_path, caps_path):
        if not p.exists():
            raise RetrievalDataError(f"{p}: missing (expected {split}_ims.npy and {split}_caps.txt)")
    images = load_arrays(ims_path)["array"].astype(np.float32)
    captions = [normalise(line).split() for line in caps_path.read_text(encoding="utf-8").splitlines()]
    if len(captions) != per_image * len(images):
        raise RetrievalDataError(
            f"{caps_path}: {len(captions)} captions for {len(images)} images in {ims_path}; "
            f"expected {per_image} per image ({per_image * len(images)})"
        )
    return Split(images, captions, np.arange(len(captions)) // per_image)


def imagenet_gloss_splits(
    features_npz, wn, fold: int = 0, folds: int = 10, test_classes: int = 100, val_classes: int = 100, seed: int = 0
) -> dict[str, Split]:
    """One photo per ImageNet class, captioned by its class's WordNet gloss, split by class:
    fold k of a seeded permutation is the test set, the next ``val_classes`` the validation set."""
    z = load_arrays(features_npz)
    if not {"features", "wnids"} <= set(z):
        raise RetrievalDataError(
            f"{features_npz}: expected arrays 'features' and 'wnids' (one photo per row); it has {sorted(z)}"
        )
    feats, wnids = z["features"].astype(np.float32), [str(w) for w in z["wnids"]]
    glosses = [normalise(synset_of(wn, w).definition()).split() for w in wnids]
    order = np.random.default_rng(seed).permutation(len(wnids))
    start = (fold % folds) * test_classes
    test = order[np.arange(start, start + test_classes) % len(order)]
    val = order[np.arange(start + test_classes, start + test_classes + val_classes) % len(order)]
    train = np.setdiff1d(order, np.concatenate([test, val]))
    return {
        name: Split(feats[idx], [glosses[i] for i in idx], np.arange(len(idx)))
        for name, idx in (("train", train), ("val", val), ("test", test))
    }


def encode_captions(split: Split, words, max_len: int = 50):
    """(token ids [n, T] padded with 0, lengths [n], kept caption rows); ids index ``words`` + 1."""
    index = {w: i + 1 for i, w in enumerate(words)}
    ids, lengths, kept = [], [], []
    for row, caption in enumerate(split.captions):
        tokens = [index[w] for w in caption if w in index][:max_len]
        if tokens:
            ids.append(tokens + [0] * (max_len - len(tokens)))
            lengths.append(len(tokens))
            kept.append(row)
    dropped = len(split.captions) - len(kept)
    if dropped:
        warnings.warn(
            f"{dropped} of {len(split.captions)} captions have no word in the vocabulary; dropped", stacklevel=2
        )
    if not kept:
        raise RetrievalDataError("no caption has a word in the embeddings' vocabulary")
    return np.asarray(ids, np.int32), np.asarray(lengths, np.int32), np.asarray(kept)


class SentenceEncoder(nn.Module):
    """GRU over frozen word vectors; the state at the true length, L2-normalised."""

    size: int = 1024

    @nn.compact
    def __call__(self, vectors, lengths):
        outputs = nn.RNN(nn.GRUCell(self.size))(vectors, seq_lengths=lengths)
        last = jnp.take_along_axis(outputs, (lengths - 1)[:, None, None], axis=1)[:, 0]
        return last / jnp.linalg.norm(last, axis=-1, keepdims=True).clip(1e-8)


class ImageEncoder(nn.Module):
    size: int = 1024

    @nn.compact
    def __call__(self, x):
        y = nn.Dense(self.size)(x)
        return y / jnp.linalg.norm(y, axis=-1, keepdims=True).clip(1e-8)


def triplet_loss(scores, margin: float = 0.2, hardest: bool = False):
    """VSE (sum over negatives) or VSE++ (hardest negative) hinge loss; ``scores[i, j]`` = image i . caption j."""
    diag = jnp.diag(scores)
    off = 1.0 - jnp.eye(scores.shape[0])
    cost_caption = jax.nn.relu(margin - diag[:, None] + scores) * off  # image i, wrong caption j
    cost_image = jax.nn.relu(margin - diag[None, :] + scores) * off  # caption j, wrong image i
    if hardest:
        return cost_caption.max(1).sum() + cost_image.max(0).sum()
    return cost_caption.sum() + cost_image.sum()


def recalls(image_vecs, caption_vecs, caption_image, ks=(1, 5, 10)) -> dict[str, float]:
    """R@K (%) image->sentence (any of the image's captions counts) and sentence->image."""
    scores = np.asarray(image_vecs) @ np.asarray(caption_vecs).T
    out = {}
    ranks = []
    for i in range(scores.shape[0]):
        order = np.argsort(-scores[i])
        mine = np.flatnonzero(caption_image[order] == i)
        ranks.append(mine[0] if len(mine) else len(order))
    ranks = np.asarray(ranks)
    t2i = np.array([np.flatnonzero(np.argsort(-scores[:, j]) == caption_image[j])[0] for j in range(scores.shape[1])])
    for k in ks:
        out[f"i2t_R@{k}"] = 100.0 * float((ranks < k).mean())
    for k in ks:
        out[f"t2i_R@{k}"] = 100.0 * float((t2i < k).mean())
    return out


@dataclasses.dataclass
class RetrievalConfig:
    size: int = 1024
    margin: float = 0.2
    hardest: bool = False  # VSE++ when True
    learning_rate: float = 2e-4
    decay_every: int = 15  # epochs; the rate is divided by 10
    epochs: int = 30
    batch_size: int = 128
    clip: float = 2.0
    seed: int = 0
    max_len: int = 50


def with_padding_row(table) -> jax.Array:
    """The word table with a zero row 0 for padding (caption ids are shifted by one, see
    :func:`encode_captions`)."""
    return jnp.asarray(np.concatenate([np.zeros((1, table.shape[1])), table]), jnp.float32)


def learning_rate(cfg: RetrievalConfig, batches_per_epoch: int):
    """``cfg.learning_rate``, divided by 10 after every ``cfg.decay_every`` epochs (a schedule over steps)."""
    return optax.piecewise_constant_schedule(
        cfg.learning_rate, {e * batches_per_epoch: 0.1 for e in range(cfg.decay_every, cfg.epochs, cfg.decay_every)}
    )


def train_and_evaluate(words, table, splits: dict[str, Split], cfg: RetrievalConfig, log=print):
    """Train on ``splits['train']``, report recalls on every other split; return (params, results, losses)."""
    table = with_padding_row(table)
    train = splits["train"]
    ids, lengths, kept = encode_captions(train, words, cfg.max_len)
    images = train.images[train.caption_image[kept]]
    sent, img = SentenceEncoder(cfg.size), ImageEncoder(cfg.size)
    key = jax.random.key(cfg.seed)
    k_s, k_i, k_shuffle = jax.random.split(key, 3)
    params = {
        "sentence": sent.init(k_s, table[ids[:2]], lengths[:2])["params"],
        "image": img.init(k_i, images[:2])["params"],
    }
    batches = max(1, len(ids) // cfg.batch_size)
    opt = optax.chain(optax.clip_by_global_norm(cfg.clip), optax.adam(learning_rate(cfg, batches)))
    state = opt.init(params)

    def loss_fn(p, b_ids, b_len, b_img):
        c = sent.apply({"params": p["sentence"]}, table[b_ids], b_len)
        i = img.apply({"params": p["image"]}, b_img)
        return triplet_loss(i @ c.T, cfg.margin, cfg.hardest)

    @jax.jit
    def step(p, s, b_ids, b_len, b_img):
        loss, grads = jax.value_and_grad(loss_fn)(p, b_ids, b_len, b_img)
        updates, s = opt.update(grads, s, p)
        return optax.apply_updates(p, updates), s, loss

    losses = []
    for epoch in range(cfg.epochs):
        perm = np.asarray(jax.random.permutation(jax.random.fold_in(k_shuffle, epoch), len(ids)))
        total = 0.0
        for b in range(batches):
            rows = perm[b * cfg.batch_size : (b + 1) * cfg.batch_size]
            params, state, loss = step(params, state, ids[rows], lengths[rows], images[rows])
            total += float(loss)
        losses.append(total / batches)
    log(f"retrieval: {cfg.epochs} epochs, loss {losses[0]:.2f} -> {losses[-1]:.2f}")

    def evaluate(split: Split):
        s_ids, s_len, s_kept = encode_captions(split, words, cfg.max_len)
        c = sent.apply({"params": params["sentence"]}, table[s_ids], s_len)
        i = img.apply({"params": params["image"]}, jnp.asarray(split.images))
        return recalls(i, c, split.caption_image[s_kept])

    results = {name: evaluate(split) for name, split in splits.items() if name != "train"}
    return params, results, losses


def cross_validate(words, table, fold_splits: list[dict], cfg: RetrievalConfig, save=None, log=print) -> dict:
    """:func:`train_and_evaluate` on each fold's splits: {'mean', 'std' (over folds), 'folds'} of the test
    recalls; ``save(fold, params)``, if given, keeps each fold's model."""
    runs = []
    for fold, splits in enumerate(fold_splits):
        params, results, _ = train_and_evaluate(words, table, splits, cfg, log)
        runs.append(results["test"])
        if save is not None:
            save(fold, params)
    metrics = list(runs[0])
    return {
        "mean": {m: float(np.mean([r[m] for r in runs])) for m in metrics},
        "std": {m: float(np.std([r[m] for r in runs])) for m in metrics},
        "folds": runs,
    }


def run(
    config,
    workdir: str | os.PathLike,
    embeddings: list[tuple[str, str]],
    data: str,
    kind: str = "",
    wordnet_dir: str = "",
    log=print,
) -> dict:
    """:func:`cross_validate` for each (name, embeddings file) of ``embeddings`` on ``data``
    ('imagenet-gloss:FEATURES.npz', ``config.folds`` folds of photos named by wnid with WordNet glosses as
    captions; or 'precomputed:FOLDER' of {split}_ims.npy and {split}_caps.txt), with the words' vectors of
    ``kind`` (default: t where present, else e). Every file is read and its kind checked before WordNet
    and the photos. Writes WORKDIR/NAME/model_fold{k}.msgpack and WORKDIR/retrieval.json; returns the
    report, {'NAME:KIND': cross_validate's result}."""
    import json

    from flax import serialization

    from pixie_jax import validation
    from pixie_jax.data import embedding_files
    from pixie_jax.evaluate import kinds as kinds_lib
    from pixie_jax.files import atomic_write

    validation.validate(config, RULES)
    cfg = RetrievalConfig(**{k: config[k] for k in RetrievalConfig.__dataclass_fields__})
    source, _, where = data.partition(":")
    workdir = Path(workdir)
    if source not in ("imagenet-gloss", "precomputed"):
        raise InputError(f"--data must be imagenet-gloss:FEATURES.npz or precomputed:FOLDER, got {data!r}")
    if not Path(where).exists():
        raise InputError(f"--data {data}: {where} does not exist")
    vectors = {}
    for name, path in embeddings:
        arrays = embedding_files.load_embeddings(path, log)
        k = kind or ("t" if "t" in kinds_lib.available(arrays) else "e")
        vectors[name] = (k, arrays["words"], kinds_lib.vectors(arrays, k))
    if source == "imagenet-gloss":
        from pixie_jax.visual import wordnet

        wn = wordnet.load_wordnet(wordnet_dir or None)
        fold_splits = [imagenet_gloss_splits(where, wn, fold=k) for k in range(config.folds)]
    else:
        fold_splits = [{s: load_precomputed(where, s) for s in ("train", "dev", "test")}]
    report = {}
    for name, (k, words, table) in vectors.items():

        def save(fold, params, name=name):
            with atomic_write(workdir / name / f"model_fold{fold}.msgpack", "wb") as out:
                out.write(serialization.to_bytes(params))

        report[f"{name}:{k}"] = cross_validate(words, table, fold_splits, cfg, save, log)
    log(format_table(report))
    with atomic_write(workdir / "retrieval.json", "w") as out:
        json.dump(report, out, indent=1)
    log(f"wrote {workdir / 'retrieval.json'}")
    return report


def format_table(report: dict) -> str:
    """One line per model: the mean test recalls (with +- the spread over folds when there are several)."""
    metrics = list(next(iter(report.values()))["mean"])
    lines = ["model".ljust(24) + "".join(m.ljust(14) for m in metrics)]
    for name, r in report.items():
        spread = len(r["folds"]) > 1
        cells = [f"{r['mean'][m]:.1f}" + (f"+-{r['std'][m]:.1f}" if spread else "") for m in metrics]
        lines.append(name.ljust(24) + "".join(c.ljust(14) for c in cells))
    return "\n".join(lines)
