"""Where a training step's time goes: cumulative stages of the step, each a jitted lax.scan.

    python benchmarks/profile_step.py [--negatives 5 64] [--optimizers adam sgd lazy_adam] [--rows once every]

Stages (each includes the ones before it, so differences are the cost of one stage):
    sample      sample_batch from fold_in(key, step)
    loss        + the minibatch loss (gathers, logits, the VAE forward for PIXIE)
    grad        + its gradient (the scatter of row gradients; dense tables for optimizer adam)
    step        + the optimizer update: the whole train step
Milliseconds per step over ``--steps`` steps per call after a compile call, median of ``--repeat``.
The last line printed is one JSON object.
"""

from __future__ import annotations

import argparse
import json
import operator
import sys
import time
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks import common
from pixie_jax import experiment
from pixie_jax.training import optimizers, rows, step


def _timed(fn, make_args, steps: int, repeat: int) -> float:
    """Milliseconds per step: median over ``repeat`` calls after one compile call; ``make_args()``
    gives fresh arguments for each call (the train chunk donates its state)."""
    times = []
    for _ in range(repeat + 1):
        args = make_args()
        jax.block_until_ready(args)
        t0 = time.perf_counter()
        jax.block_until_ready(fn(*args))
        times.append(time.perf_counter() - t0)
    return 1e3 * float(np.median(times[1:])) / steps


def stage_functions(run, config, steps: int, distinct: bool = False) -> dict:
    """jitted (state, epoch) -> something, one per cumulative stage of the step (``distinct``: each row once)."""
    loss_fn = run.trainable.loss
    gather = rows.gather_once if distinct else rows.gather
    if optimizers.is_sparse(config):
        row_grads = step.make_row_grad_fn(run.trainable, run.mesh, distinct=distinct)
        gradients = lambda params, batch: operator.itemgetter(0, 2)(row_grads(params, batch, run.features))  # noqa: E731
    else:
        dense_grads = step.make_grad_fn(run.trainable, run.mesh, distinct=distinct)
        gradients = lambda params, batch: dense_grads(params, batch, run.features)[0]  # noqa: E731

    def batch_at(step, epoch):
        return run.trainable.sample(jax.random.fold_in(run.keys.sample, step), epoch, run.words, step)

    def scan(body):
        def f(state, epoch):
            def b(carry, step):
                return carry, body(carry, step, epoch)

            return jax.lax.scan(b, state, jnp.arange(steps))[1]

        return jax.jit(f)

    def sample(state, step, epoch):
        return sum(jnp.sum(x.astype(jnp.float32)) for x in jax.tree.leaves(batch_at(step, epoch)))

    def loss(state, step, epoch):
        batch = batch_at(step, epoch)
        return loss_fn(state.params, gather(state.params, run.trainable.tables.index(batch)), batch, run.features)[0]

    def grad(state, step, epoch):
        return sum(jnp.sum(x) for x in jax.tree.leaves(gradients(state.params, batch_at(step, epoch))))

    def whole(state, epoch):
        return run.chunk(state, run.keys.sample, jnp.int32(0), epoch, run.words, run.features)[1]["loss"]

    return {"sample": scan(sample), "loss": scan(loss), "grad": scan(grad), "step": whole}


def profile(config, data, steps: int, repeat: int, rows_setting: str = "every") -> dict:
    config.steps_per_call = steps
    config.distinct_rows = common.ROWS[rows_setting]
    run = experiment.setup(config, data)
    epoch = run.epoch_data(0)
    out = {
        name: _timed(fn, lambda: (jax.tree.map(jnp.copy, run.state), epoch), steps, repeat)
        for name, fn in stage_functions(run, config, steps, rows_setting == "once").items()
    }
    out["pairs_per_s"] = run.counts.examples / (out["step"] / 1e3)
    return out


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", default="bundled")
    parser.add_argument("--features", default="bundled")
    parser.add_argument("--negatives", type=int, nargs="+", default=[5, 64])
    parser.add_argument("--optimizers", nargs="+", default=["adam"], help="table optimizers (optimizer.name)")
    parser.add_argument("--text-centres", type=int, default=2048)
    parser.add_argument("--visual-centres", type=int, default=256)
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--repeat", type=int, default=3)
    common.add_rows_option(parser, ["every"])
    args = parser.parse_args(argv)

    base, data, sgns_data = common.prepare(args)
    print(f"machine: {common.machine()}")
    print(
        f"corpus {args.corpus}: {len(data.ids):,} tokens, {len(data.vocab):,} words, {data.n_visual:,} visual; "
        f"{(args.text_centres + args.visual_centres) * base.sampler.contexts_per_centre:,} pairs per step"
    )
    print(
        f"{'model':6s} {'N':>3s} {'optimizer':10s} {'rows':5s} {'sample':>7s} {'loss':>7s} {'grad':>7s} "
        f"{'update':>7s} {'step ms':>8s} {'pairs/s':>10s}"
    )
    results = {}
    for model, d in (("sgns", sgns_data), ("pixie", data)):
        for n in args.negatives:
            for opt in args.optimizers:
                for how in args.rows:
                    cfg = base.copy_and_resolve_references()
                    cfg.sampler.negatives = n
                    cfg.optimizer.name = opt
                    r = profile(cfg, d, args.steps, args.repeat, how)
                    results[f"{model}_N{n}_{opt}" + ("" if args.rows == ["every"] else f"_{how}")] = {
                        k: round(v, 2) for k, v in r.items()
                    }
                    print(
                        f"{model:6s} {n:3d} {opt:10s} {how:5s} {r['sample']:7.2f} {r['loss'] - r['sample']:7.2f} "
                        f"{r['grad'] - r['loss']:7.2f} {r['step'] - r['grad']:7.2f} {r['step']:8.2f} "
                        f"{r['pairs_per_s']:10,.0f}"
                    )
    print(json.dumps(results))


if __name__ == "__main__":
    main()
