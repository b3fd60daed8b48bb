"""An independent, sequential skip-gram with negative sampling (numba), to find where our batched
trainer's per-pass learning departs from word2vec's: the same data, switched one difference at a time.

    python benchmarks/reference_sgns.py [--corpus bundled] [--epochs 3] --variant NAME KEY=VALUE ... [--out DIR]

One update per pair, in order, as word2vec's C code and gensim do:
    f = in[a] . out[b];   g = (label - sigmoid(f)) * alpha     for the true pair and N noise words
    out[b] += g in[a] (at once);   in[a] += sum of g out[b] (after the pair's N + 1 terms)
alpha decaying linearly from 0.025 to 0.0001 over all epochs. Switches (KEY=VALUE):
    order=corpus   every kept token in corpus order with all contexts of its reduced window (word2vec)
    order=shuffled every kept token once, with all contexts of its reduced window, in a random order (a
                   permutation of the pass's tokens: word2vec's coverage without its order)
    order=random   centres drawn uniformly with replacement, C contexts each drawn from word2vec's
                   distance distribution (our sampler), (L + 1) / C centres per kept token
    input=context  the context word is the input, the centre the output and the one noise replaces
                   (word2vec, gensim); input=centre: the centre is the input (our trainer)
    init=1         e ~ U(-init/K, init/K) (gensim 4: 1; word2vec's C code and our trainer: 0.5)
    skip=1         skip pairs with |f| >= 6 as word2vec does (0: never)
    contexts=8     C of order=random
    batch=0        B > 0: order=random, centre as input, the updates of B centres computed from the
                   step's starting tables and applied together (a batched trainer, as ours)
    same=1         with batch: skip a noise word equal to the pair's context, as word2vec (0: keep it, as ours)
    rule=sum       with batch: each row moves by its summed pair steps; rule=damped: divided by
                   1 + alpha * sum over the row's pairs of sigmoid'(f) |u|^2 (u the pair's other row)
Settings from configs/pixie.py (window, negatives, subsampling, dimension). Writes DIR/reference.{md,json}.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

try:
    import numba
except ImportError:
    sys.exit("error: benchmarks/reference_sgns.py needs numba: pip install -e '.[bench]' (numba and gensim)")

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks import common, per_pass
from pixie_jax.data import vocab as vocab_lib

DEFAULTS = {
    "order": "corpus",
    "input": "context",
    "init": 0.5,
    "skip": 1,
    "contexts": 8,
    "batch": 0,
    "rule": "sum",
    "same": 1,
}


@numba.njit(cache=True)
def _pair(syn0, syn1, inp, out, cum, negative, alpha, skip, work):
    K = syn0.shape[1]
    for k in range(K):
        work[k] = 0.0
    for d in range(negative + 1):
        if d == 0:
            target, label = out, 1.0
        else:
            target = np.searchsorted(cum, np.random.random() * cum[-1])
            if target == out:
                continue
            label = 0.0
        f = 0.0
        for k in range(K):
            f += syn0[inp, k] * syn1[target, k]
        if skip and (f <= -6.0 or f >= 6.0):
            continue
        g = (label - 1.0 / (1.0 + np.exp(-f))) * alpha
        for k in range(K):
            work[k] += g * syn1[target, k]
            syn1[target, k] += g * syn0[inp, k]
    for k in range(K):
        syn0[inp, k] += work[k]


@numba.njit(cache=True)
def _subsample(ids, keep):
    """(kept ids, their count): each token kept with its word's probability."""
    kept = np.empty(ids.shape[0], np.int32)
    m = 0
    for t in range(ids.shape[0]):
        if np.random.random() < keep[ids[t]]:
            kept[m] = ids[t]
            m += 1
    return kept, m


@numba.njit(cache=True)
def _distance_cdf(window):
    """The CDF of word2vec's context distance d in 1..L: P(d) = (L - d + 1) / (L (L + 1) / 2)."""
    p = np.empty(window, np.float64)
    for d in range(window):
        p[d] = (window - d) / (window * (window + 1) / 2)
    return np.cumsum(p)


@numba.njit(cache=True)
def train_epoch(
    ids,
    keep,
    cum,
    syn0,
    syn1,
    window,
    negative,
    alpha_start,
    alpha_end,
    seed,
    random_order,
    centre_input,
    contexts,
    skip,
    shuffled,
):
    """One pass; alpha goes linearly from alpha_start to alpha_end over it. Returns the pairs trained."""
    np.random.seed(seed)
    kept, m = _subsample(ids, keep)
    work = np.zeros(syn0.shape[1], np.float32)
    cdf = _distance_cdf(window)
    pairs = 0
    centres = m if not random_order else int(m * (window + 1) / contexts)
    order = np.random.permutation(m) if shuffled else np.arange(m)
    for n in range(centres):
        alpha = alpha_start + (alpha_end - alpha_start) * n / centres
        if random_order:
            t = np.random.randint(0, m)
            for _ in range(contexts):
                d = 1 + np.searchsorted(cdf, np.random.random())
                d = min(d, window)
                j = t + d if np.random.random() < 0.5 else t - d
                if j < 0 or j >= m:
                    continue
                a, b = (kept[t], kept[j]) if centre_input else (kept[j], kept[t])
                _pair(syn0, syn1, a, b, cum, negative, alpha, skip, work)
                pairs += 1
        else:
            t = order[n]
            b_red = 1 + np.random.randint(0, window)
            for j in range(max(0, t - b_red), min(m, t + b_red + 1)):
                if j == t:
                    continue
                a, b = (kept[t], kept[j]) if centre_input else (kept[j], kept[t])
                _pair(syn0, syn1, a, b, cum, negative, alpha, skip, work)
                pairs += 1
    return pairs


@numba.njit(cache=True)
def _apply(table, delta, curv, touched, n_touched, damped):
    """table[r] += delta[r] (sum) or delta[r] / (1 + curv[r]) (damped), then clears the step's rows."""
    for i in range(n_touched):
        r = touched[i]
        s = 1.0 / (1.0 + curv[r]) if damped else 1.0
        for k in range(table.shape[1]):
            table[r, k] += s * delta[r, k]
            delta[r, k] = 0.0
        curv[r] = -1.0


@numba.njit(cache=True)
def _touch(r, curv, touched, n):
    if curv[r] < 0.0:
        curv[r] = 0.0
        touched[n] = r
        return n + 1
    return n


@numba.njit(cache=True)
def train_epoch_batched(
    ids, keep, cum, syn0, syn1, window, negative, alpha_start, alpha_end, seed, contexts, batch, damped, skip_same
):
    """order=random with the updates of ``batch`` centres taken at the step's start and applied together:
    each row moves by alpha * sum of its pair gradients (sum), or that divided by 1 + alpha * sum of
    sigmoid'(f) |u|^2 over its pairs, u the other row of each pair (damped). Centre is the input."""
    np.random.seed(seed)
    kept, m = _subsample(ids, keep)
    V, K = syn0.shape
    d0, d1 = np.zeros((V, K), np.float32), np.zeros((V, K), np.float32)
    c0, c1 = -np.ones(V, np.float64), -np.ones(V, np.float64)
    t0, t1 = np.empty(V, np.int64), np.empty(V, np.int64)
    cdf = _distance_cdf(window)
    pairs = 0
    centres = int(m * (window + 1) / contexts)
    n0, n1 = 0, 0
    for n in range(centres):
        alpha = alpha_start + (alpha_end - alpha_start) * n / centres
        t = np.random.randint(0, m)
        for _ in range(contexts):
            d = min(1 + np.searchsorted(cdf, np.random.random()), window)
            j = t + d if np.random.random() < 0.5 else t - d
            if j < 0 or j >= m:
                continue
            a, b = kept[t], kept[j]
            n0 = _touch(a, c0, t0, n0)
            for q in range(negative + 1):
                if q == 0:
                    target, label = b, 1.0
                else:
                    target = np.searchsorted(cum, np.random.random() * cum[-1])
                    if target == b and skip_same:
                        continue
                    label = 0.0
                n1 = _touch(target, c1, t1, n1)
                f, na, nb = 0.0, 0.0, 0.0
                for k in range(K):
                    f += syn0[a, k] * syn1[target, k]
                    na += syn0[a, k] * syn0[a, k]
                    nb += syn1[target, k] * syn1[target, k]
                sg = 1.0 / (1.0 + np.exp(-f))
                g = (label - sg) * alpha
                for k in range(K):
                    d0[a, k] += g * syn1[target, k]
                    d1[target, k] += g * syn0[a, k]
                c0[a] += alpha * sg * (1.0 - sg) * nb
                c1[target] += alpha * sg * (1.0 - sg) * na
            pairs += 1
        if (n + 1) % batch == 0 or n == centres - 1:
            _apply(syn0, d0, c0, t0, n0, damped)
            _apply(syn1, d1, c1, t1, n1, damped)
            n0, n1 = 0, 0
    return pairs


def train(data, config, epochs: int, settings: dict, seed: int = 0) -> tuple[np.ndarray, float]:
    """(input vectors [V, K], seconds) of a sequential run with ``settings`` (see the module docstring)."""
    V, K = len(data.vocab), config.model.dim
    rng = np.random.default_rng(seed)
    syn0 = ((rng.random((V, K)) * 2 - 1) * settings["init"] / K).astype(np.float32)
    syn1 = np.zeros((V, K), np.float32)
    noise = vocab_lib.noise_distribution(data.vocab.counts, config.noise_power)
    cum = np.cumsum(noise)
    ids = np.asarray(data.ids, np.int32)
    keep = np.asarray(data.keep_prob, np.float64)
    start, end, t0 = 0.025, 0.0001, time.perf_counter()
    for e in range(epochs):
        a0 = start - (start - end) * e / epochs
        a1 = start - (start - end) * (e + 1) / epochs
        common_args = (
            ids,
            keep,
            cum,
            syn0,
            syn1,
            config.sampler.window,
            config.sampler.negatives,
            a0,
            a1,
            seed * 1000 + e,
        )
        if settings["batch"]:
            train_epoch_batched(
                *common_args,
                int(settings["contexts"]),
                int(settings["batch"]),
                settings["rule"] == "damped",
                int(settings["same"]),
            )
        else:
            train_epoch(
                *common_args,
                settings["order"] == "random",
                settings["input"] == "centre",
                int(settings["contexts"]),
                int(settings["skip"]),
                settings["order"] == "shuffled",
            )
    return syn0, time.perf_counter() - t0


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", default="bundled")
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--benchmarks", nargs="+", default=["bundled"])
    parser.add_argument("--variant", nargs="+", action="append", default=[], metavar="NAME KEY=VALUE")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default="reference_sgns")
    args = parser.parse_args(argv)
    base, data, words, benches = per_pass.text_setup(args)
    results, reference = {}, None
    for name, *items in args.variant or [["word2vec"]]:
        settings = DEFAULTS | {
            k: (v if k in ("order", "input", "rule") else float(v))
            for k, _, v in (item.partition("=") for item in items)
        }
        vectors, seconds = train(data, base, args.epochs, settings, args.seed)
        reference = vectors if reference is None else reference
        results[name] = {"seconds": seconds, "overrides": " ".join(items)} | per_pass.score(
            words, vectors, benches, reference
        )
        print(f"{name}: {results[name]}", flush=True)
    columns = [b.name for b in benches] + ["analogy total %"]
    first = next(iter(results.values()))
    bands = [k for k in first if " <" in k or "-10k" in k or ">=" in k]
    bands = [k for k in bands if not k.endswith("pairs")]
    command = "python benchmarks/reference_sgns.py " + " ".join(argv if argv is not None else sys.argv[1:])
    text = "\n\n".join(
        [
            f"Command: `{command}`  \nCorpus {args.corpus}, {args.epochs} epochs, seed {args.seed}; "
            f"machine: {common.machine()}. Overlap: with the first variant.",
            per_pass.table(results, columns),
            per_pass.table(results, bands),
        ]
    )
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "reference.md").write_text(text + "\n")
    (out / "reference.json").write_text(json.dumps({"command": command, "results": results}, indent=1, default=float))
    print(text)


if __name__ == "__main__":
    main()
