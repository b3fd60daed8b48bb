"""The generic trainer: a jitted, data-parallel chunk of steps, the host loop, checkpoints and metrics,
for any model of :mod:`pixie_jax.registry` (its loss injected).

Layout of one call of the chunk function (everything stays on the device):

    for step in start .. start + S - 1 (lax.scan):
        key   = fold_in(root, step)
        batch = sample_batch(key, epoch data, tables)              # global batch, sharded on 'data'
        grads = psum over devices of grad(model's loss)(share)      # shard_map
        params, opt_state = optimizer update (dense optax, or row-sparse for e and v)
"""
from __future__ import annotations

import dataclasses
import functools
import json
import math
import os
import signal
import threading
import time
from pathlib import Path
from typing import Any, Callable, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
import optax
from jax.sharding import AxisType, NamedSharding, PartitionSpec as P
from tqdm.auto import tqdm

from pixie_jax import checkpoints, objective, registry, sampling, sparse, validation, workdir as workdir_lib
from pixie_jax.data import TrainingData, prepare_data
from pixie_jax.errors import ProjectError
from pixie_jax.streams import StreamKeys, stream_keys


TABLES = ("e", "v")


class TrainState(NamedTuple):
    """The parameters and the optimizer state: an optax state over all parameters (dense table
    optimizers), or {'tables': a :mod:`pixie_jax.sparse` state, 'networks': an optax state}."""

    params: dict
    opt_state: optax.OptState | dict


class TrainingError(ProjectError):
    """Training stopped (non-finite loss, bad data); the message says what was kept."""


class Interrupted(KeyboardInterrupt):
    """Ctrl-C during training; the message says at which step and what was kept."""


# ---------------------------------------------------------------- model pieces from a config
def build_sampler(config, n_visual: int, spec: registry.ModelSpec | None = None) -> sampling.SamplerConfig:
    """The config's sampler settings with the model's own batch fields (:attr:`ModelSpec.sampler`)."""
    s, spec = config.sampler, spec or registry.get(config)
    fields = {"visual_centres": 0, "visual_words": 0, "margin_negatives": 0}
    fields |= spec.sampler(config, n_visual) if spec.sampler else {}
    return sampling.SamplerConfig(
        window=s.window, contexts_per_centre=s.contexts_per_centre, negatives=s.negatives,
        negative_group=s.negative_group, text_centres=fields.pop("text_centres", s.text_centres),
        samples=s.samples, latent=config.model.dim, visual_rows=n_visual,
        enumerate_window=s.enumerate_window, corpus_order=s.corpus_order,
        corpus_streams=s.corpus_streams, shuffle=s.shuffle, **fields)


_OPTIMIZERS = {"adam": optax.adam, "adamw": optax.adamw, "sgd": optax.sgd, "adagrad": optax.adagrad,
               "rmsprop": optax.rmsprop, "lamb": optax.lamb}


def _schedule(rate: float, schedule: str, total_steps: int):
    if schedule == "constant":
        return rate
    if schedule == "linear":  # word2vec's decay, to 1e-4 of the start
        return optax.linear_schedule(rate, rate * 1e-4, max(total_steps, 1))
    raise ValueError(f"optimizer schedule must be 'constant' or 'linear', got {schedule!r}")


def _named(name: str, rate) -> optax.GradientTransformation:
    if name in sparse.OPTIMIZERS:
        raise ValueError(f"optimizer {name!r} updates table rows only: use it as optimizer.name, and one of "
                         f"{sorted(_OPTIMIZERS)} as optimizer.network_name")
    if name not in _OPTIMIZERS:
        raise ValueError(f"unknown optimizer {name!r}; choose one of {sorted(_OPTIMIZERS)} "
                         f"(or for the tables {', '.join(sparse.OPTIMIZERS)})")
    return _OPTIMIZERS[name](rate)


def network_optimizer(config, total_steps: int = 1) -> optax.GradientTransformation:
    """``optimizer.network_name`` at ``optimizer.network_learning_rate`` on the config's schedule."""
    o = config.optimizer
    return _named(o.network_name, _schedule(o.network_learning_rate, o.schedule, total_steps))


def is_sparse(config) -> bool:
    """Whether ``optimizer.name`` updates only the table rows a step touches (:mod:`pixie_jax.sparse`)."""
    return config.optimizer.name in sparse.OPTIMIZERS


def table_optimizer(config, total_steps: int, pairs_per_step: int) -> sparse.TableOptimizer:
    """``sparse_sgd`` (its rate applies to the gradient of the step's summed pair losses, as word2vec's)
    or ``lazy_adam``, at ``optimizer.learning_rate`` on the config's schedule."""
    o = config.optimizer
    rate = _schedule(o.learning_rate, o.schedule, total_steps)
    if o.name == "sparse_sgd":
        return sparse.sgd(rate, scale=float(pairs_per_step))
    if o.name == "capped_sgd":
        return sparse.sgd(rate, scale=float(pairs_per_step), cap=float(o.row_cap))
    return sparse.lazy_adam(rate)


def build_optimizer(config, total_steps: int = 1) -> optax.GradientTransformation:
    """``optimizer.name`` for the embedding tables e, v; :func:`network_optimizer` for the encoder,
    decoder, fusion and any other parameters (Adam 1e-3 in the paper, for all parameters). Dense
    table optimizers only; for the sparse ones see :func:`table_optimizer`."""
    o = config.optimizer
    tables = _named(o.name, _schedule(o.learning_rate, o.schedule, total_steps))
    networks = network_optimizer(config, total_steps)
    label = lambda params: {k: ("tables" if k in TABLES else "networks") for k in params}  # noqa: E731
    return optax.multi_transform({"tables": tables, "networks": networks}, label)


def split_params(params: dict) -> tuple[dict, dict]:
    """(tables e and v, every other parameter)."""
    return ({k: p for k, p in params.items() if k in TABLES}, {k: p for k, p in params.items() if k not in TABLES})


def visual_weight(config, data: TrainingData, sampler_cfg: sampling.SamplerConfig) -> float:
    """lambda of docs/objective.md: ``per_word`` gives |V_x| / P (eq. (7) summed over words), times the factor."""
    if config.visual_weight_mode == "per_word":
        pairs = max(data.expected_kept(), 1.0) * (sampler_cfg.window + 1)
        return config.visual_weight * data.n_visual / pairs
    if config.visual_weight_mode == "fixed":
        return config.visual_weight
    raise ValueError(f"visual_weight_mode must be 'per_word' or 'fixed', got {config.visual_weight_mode!r}")


def steps_per_epoch(data: TrainingData, sampler_cfg: sampling.SamplerConfig) -> int:
    """Steps in one pass: expected kept tokens x (L + 1) pairs / pairs per step."""
    return max(1, math.ceil(data.expected_kept() * (sampler_cfg.window + 1) / sampler_cfg.pairs_per_step))


# ---------------------------------------------------------------- the jitted chunk
def make_mesh(devices=None):
    devices = devices if devices is not None else jax.devices()
    return jax.make_mesh((len(devices),), ("data",), axis_types=(AxisType.Auto,), devices=devices)


def make_grad_fn(loss, sampler_cfg: sampling.SamplerConfig, mesh):
    """shard_map'd (grads, metrics) of ``loss`` (a :class:`~pixie_jax.registry.ModelSpec` loss bound to its
    model) over all parameters, summed over the devices' shares."""
    vae_words = sampler_cfg.visual_words or 1

    def local(params, batch, features):
        grads, metrics = jax.grad(
            lambda p: loss(p, objective.gather_rows(p, batch), batch, features, vae_words), has_aux=True)(params)
        return jax.lax.psum((grads, metrics), "data")
    return jax.shard_map(local, mesh=mesh, in_specs=(P(), P("data"), P()), out_specs=P(), check_vma=False)


def make_row_grad_fn(loss, sampler_cfg: sampling.SamplerConfig, mesh):
    """shard_map'd (network grads, row grads, metrics): the gradient with respect to the gathered rows of
    e and v (:func:`pixie_jax.objective.gather_rows`, one per batch entry, left sharded like the batch)
    and, summed over the devices, with respect to the other parameters."""
    vae_words = sampler_cfg.visual_words or 1

    def local(params, batch, features):
        tables, networks = split_params(params)
        rows = objective.gather_rows(tables, batch)
        (g_net, g_rows), metrics = jax.grad(
            lambda n, r: loss(n, r, batch, features, vae_words), argnums=(0, 1), has_aux=True)(networks, rows)
        return jax.lax.psum(g_net, "data"), g_rows, jax.lax.psum(metrics, "data")
    return jax.shard_map(local, mesh=mesh, in_specs=(P(), P("data"), P()), out_specs=(P(), P("data"), P()),
                         check_vma=False)


def make_update(loss, optimizer, sampler_cfg: sampling.SamplerConfig, mesh):
    """(state, batch, features) -> (state, metrics): one optimizer step on one batch.

    ``optimizer`` is an optax transformation over all parameters (dense), or a pair
    (:class:`pixie_jax.sparse.TableOptimizer`, optax transformation for the networks).
    """
    if isinstance(optimizer, optax.GradientTransformation):
        grad_fn = make_grad_fn(loss, sampler_cfg, mesh)

        def dense(state, batch, features):
            grads, metrics = grad_fn(state.params, batch, features)
            updates, opt_state = optimizer.update(grads, state.opt_state, state.params)
            return TrainState(optax.apply_updates(state.params, updates), opt_state), metrics
        return dense

    tables_opt, networks_opt = optimizer
    row_grad_fn = make_row_grad_fn(loss, sampler_cfg, mesh)
    # without visual centres or VAE draws the encoder, decoder and maps get no gradient: skip their update
    networks_learn = bool(sampler_cfg.visual_centres or sampler_cfg.visual_words or sampler_cfg.margin_negatives)

    def rows(state, batch, features):
        g_net, g_rows, metrics = row_grad_fn(state.params, batch, features)
        tables, networks = split_params(state.params)
        net_state = state.opt_state["networks"]
        if networks_learn:
            updates, net_state = networks_opt.update(g_net, net_state, networks)
            networks = optax.apply_updates(networks, updates)
        tables, table_state = tables_opt.update(tables, state.opt_state["tables"], objective.row_indices(batch),
                                                objective.flatten_row_grads(g_rows))
        return TrainState(tables | networks, {"tables": table_state, "networks": net_state}), metrics
    return rows


def init_optimizer(optimizer, params: dict):
    """The initial optimizer state for :func:`make_update`'s ``optimizer``."""
    if isinstance(optimizer, optax.GradientTransformation):
        return optimizer.init(params)
    tables, networks = split_params(params)
    return {"tables": optimizer[0].init(tables), "networks": optimizer[1].init(networks)}


def make_train_chunk(loss, optimizer, sampler_cfg: sampling.SamplerConfig, mesh, steps: int, lam: float):
    """jit(chunk)(state, root_key, start, epoch, tables, features) -> (state, metrics [steps])."""
    update = make_update(loss, optimizer, sampler_cfg, mesh)
    batch_sharding = NamedSharding(mesh, P("data"))

    def body(state, step, root_key, epoch, tables, features):
        batch = sampling.sample_batch(jax.random.fold_in(root_key, step), epoch, tables, sampler_cfg, lam, step)
        batch = jax.lax.with_sharding_constraint(batch, batch_sharding)
        return update(state, batch, features)

    @functools.partial(jax.jit, donate_argnums=(0,))
    def chunk(state, root_key, start, epoch, tables, features):
        f = functools.partial(body, root_key=root_key, epoch=epoch, tables=tables, features=features)
        return jax.lax.scan(f, state, start + jnp.arange(steps))

    return chunk


subsample_epoch = jax.jit(sampling.subsample, static_argnames="shuffle")


# ---------------------------------------------------------------- the host loop
def replicate(mesh, tree):
    """``tree`` on every device of ``mesh``, unsharded."""
    return jax.device_put(tree, NamedSharding(mesh, P()))


Chunk = Callable[..., tuple[TrainState, dict]]


@dataclasses.dataclass
class Run:
    """A training run set up on the devices: the jitted chunk and everything it reads."""

    spec: registry.ModelSpec
    model: Any
    sampler: sampling.SamplerConfig
    mesh: jax.sharding.Mesh
    lam: float
    per_epoch: int
    total: int
    keys: StreamKeys
    corpus: np.ndarray            # int32 [T] token ids on the host (memory-mapped from the token cache)
    bounds: np.ndarray            # int64 [S + 1]: the corpus's segments (:func:`segment_bounds`)
    ids: jax.Array | None         # the whole corpus on the devices when it is one segment
    tables: sampling.Tables
    features: jax.Array
    state: TrainState
    chunk: Chunk

    def put(self, tree):
        return replicate(self.mesh, tree)

    def segment_of(self, step: int) -> tuple[int, int]:
        """(pass, segment) of ``step``: a pass gives each segment steps in proportion to its tokens."""
        pass_index, offset = divmod(step, self.per_epoch)
        first_steps = self.per_epoch * self.bounds[:-1] // self.bounds[-1]
        return pass_index, int(np.searchsorted(first_steps, offset, side="right")) - 1

    def epoch_data(self, index: int, segment: int = 0) -> sampling.EpochData:
        """Pass ``index`` over ``segment`` subsampled (:func:`pixie_jax.sampling.subsample`), on the devices."""
        key = jax.random.fold_in(self.keys.subsample, index)
        if len(self.bounds) == 2:  # the whole corpus is one segment, already on the devices
            return subsample_epoch(key, self.ids, self.tables.keep_prob, self.tables.vis_index,
                                   shuffle=self.sampler.shuffle)
        start, end = self.bounds[segment], self.bounds[segment + 1]
        ids = self.put(np.asarray(self.corpus[start:end], np.int32))
        return subsample_epoch(jax.random.fold_in(key, segment), ids, self.tables.keep_prob, self.tables.vis_index,
                               shuffle=self.sampler.shuffle)

    def run_chunk(self, first: int, epoch: sampling.EpochData):
        return self.chunk(self.state, self.keys.sample, jnp.int32(first), epoch, self.tables, self.features)


def segment_bounds(tokens: int, segment_tokens: int) -> np.ndarray:
    """Starts of equal segments of at most ``segment_tokens`` tokens, and ``tokens``: a corpus larger
    than a segment is trained one segment at a time (only that segment on the devices), each pass
    visiting the segments in order, as word2vec reads its corpus in order."""
    count = max(1, -(-tokens // segment_tokens))
    return np.linspace(0, tokens, count + 1).round().astype(np.int64)


# the device bytes per token of a segment: its ids, the subsampled pass (kept ids and the positions of
# the two strata) and as much again for the temporaries of subsampling
BYTES_PER_TOKEN = 32


def device_bytes_free(device) -> int | None:
    """Free memory of ``device`` (bytes), or None where the platform does not say (CPU)."""
    stats = device.memory_stats() if hasattr(device, "memory_stats") else None
    if not stats or "bytes_limit" not in stats:
        return None
    return int(stats["bytes_limit"]) - int(stats.get("bytes_in_use", 0))


def check_segment_fits(bounds: np.ndarray, devices) -> None:
    """Raise :class:`TrainingError` if the largest segment will not fit in a device's free memory."""
    tokens = int(np.diff(bounds).max())
    need = tokens * BYTES_PER_TOKEN
    for device in devices:
        if device.process_index != jax.process_index():
            continue  # another process checks its own
        free = device_bytes_free(device)
        if free is not None and need > free:
            raise TrainingError(
                f"a corpus segment of {tokens:,} tokens needs about {need / 2**30:.2f} GiB on {device}, which has "
                f"{free / 2**30:.2f} GiB free: lower --config.segment_tokens (to at most {free // BYTES_PER_TOKEN:,}; "
                f"each pass then visits more, smaller segments), or train on more processes")


def step_rows(sampler_cfg: sampling.SamplerConfig) -> int:
    """Table rows one step gathers: per centre its own row and, per context slot, the context's row and
    (G = 1) its N negatives' rows, or (G > 1) N rows per group of G pairs."""
    c, n, g = sampler_cfg.slots, sampler_cfg.negatives, sampler_cfg.negative_group
    centres = sampler_cfg.text_centres + sampler_cfg.visual_centres
    return centres * (1 + c * (1 + n)) if g == 1 else centres * (1 + c) + centres * c // g * n


def host_bytes_available() -> int | None:
    """MemAvailable of /proc/meminfo (bytes), or None where there is none."""
    try:
        with open("/proc/meminfo", encoding="ascii") as f:
            return next(int(line.split()[1]) * 1024 for line in f if line.startswith("MemAvailable:"))
    except (OSError, StopIteration, ValueError):
        return None


def check_step_fits(sampler_cfg: sampling.SamplerConfig, dim: int, devices) -> None:
    """Raise :class:`TrainingError`, before anything compiles, if one step's gathered rows and their
    gradients (a lower bound of its memory: :func:`step_rows` x K x 4 bytes x 2, shared among the
    devices) exceed a device's free memory (the host's available memory for CPU devices)."""
    devices, rows = list(devices), step_rows(sampler_cfg)
    need = rows * dim * 4 * 2 // len(devices)
    local = [d for d in devices if d.process_index == jax.process_index()]
    for device in local:
        free = device_bytes_free(device)
        if free is None:
            host = host_bytes_available()
            free = None if host is None else host // len(local)
        if free is not None and need > free:
            fit = max(1, int(sampler_cfg.text_centres * free / need))
            raise TrainingError(
                f"one step gathers {rows:,} table rows ({sampler_cfg.text_centres:,} + "
                f"{sampler_cfg.visual_centres:,} centres): at least {need / 2**30:,.1f} GiB per device with their "
                f"gradients, and {device} has {free / 2**30:.1f} GiB free. Lower --config.sampler.text_centres "
                f"(the rows alone fill it at about {fit:,}) or the negatives per pair, or share negatives "
                f"(--config.sampler.negative_group)")


def total_steps(config, spec: registry.ModelSpec, per_epoch: int | None) -> int:
    """``config.epochs`` passes (or the model's own count) in whole calls of ``steps_per_call``."""
    spc = config.steps_per_call
    if spec.total_steps is not None:
        return spec.total_steps(config, spc)
    return max(spc, math.ceil(config.epochs * per_epoch / spc) * spc)


def setup(config, data: TrainingData, devices=None) -> Run:
    """Model, sampler, optimizer, mesh, device arrays, initial state and the jitted chunk."""
    spec = registry.get(config)
    model = spec.build(config, len(data.vocab))
    sampler_cfg = build_sampler(config, data.n_visual, spec)
    mesh = make_mesh(devices)
    n_dev = mesh.devices.size
    for name in ("text_centres", "visual_centres", "visual_words"):
        if getattr(sampler_cfg, name) % n_dev:
            raise ValueError(f"sampler.{name} ({getattr(sampler_cfg, name)}) must be a multiple of "
                             f"the number of devices ({n_dev})")
    bounds = segment_bounds(len(data.ids), config.segment_tokens)
    check_segment_fits(bounds, mesh.devices.flat)
    check_step_fits(sampler_cfg, config.model.dim, mesh.devices.flat)
    lam = visual_weight(config, data, sampler_cfg)
    per_pass = steps_per_epoch(data, sampler_cfg) if sampler_cfg.pairs_per_step else None
    total = total_steps(config, spec, per_pass)
    per_epoch = per_pass or total  # a model without pairs (the VAE) makes one pass of its steps
    if len(bounds) > 2 and per_epoch < (len(bounds) - 1) * config.steps_per_call:
        raise ValueError(f"a pass of {per_epoch:,} steps cannot visit {len(bounds) - 1} corpus segments in calls of "
                         f"{config.steps_per_call} steps: raise segment_tokens or lower steps_per_call")
    keys = stream_keys(config.seed)
    params = model.init(keys.init)
    if is_sparse(config) and all(t in params for t in TABLES):
        optimizer = (table_optimizer(config, total, sampler_cfg.pairs_per_step), network_optimizer(config, total))
    else:
        optimizer = build_optimizer(config, total)
    put = functools.partial(replicate, mesh)
    tables = put(sampling.Tables(jnp.asarray(data.keep_prob), jnp.asarray(data.noise.prob),
                                 jnp.asarray(data.noise.alias), jnp.asarray(data.vis_index)))
    features = data.features if data.n_visual else np.zeros((1, model.features), np.float32)
    if spec.device_features is not None:
        features = spec.device_features(model, features)
    loss = functools.partial(spec.loss, model)
    whole = put(jnp.asarray(data.ids)) if len(bounds) == 2 else None
    return Run(spec, model, sampler_cfg, mesh, lam, per_epoch, total, keys, data.ids, bounds, whole, tables,
               put(jnp.asarray(features)), put(TrainState(params, init_optimizer(optimizer, params))),
               make_train_chunk(loss, optimizer, sampler_cfg, mesh, config.steps_per_call, lam))


class DeferredInterrupts:
    """Ctrl-C inside the block (data being put on the devices, steps being compiled or run, a checkpoint
    being written) is held until the trainer asks with :meth:`check`, between chunks of steps, and
    raised there as a KeyboardInterrupt (or when the block ends); a second Ctrl-C stops at once. An
    interrupt raised inside XLA's compilation or a running computation can crash the process instead
    of stopping it. Only where Ctrl-C is Python's default (main thread, SIGINT not ignored)."""

    def __init__(self, log=print):
        self.log, self.requested, self._active = log, False, False

    def _defer(self, signum, frame):
        if self.requested:
            signal.default_int_handler(signum, frame)
        self.requested = True
        self.log("stopping after the current steps (Ctrl-C again to stop at once)")

    def check(self) -> None:
        if self.requested:
            self.requested = False
            raise KeyboardInterrupt

    def __enter__(self):
        self._active = (threading.current_thread() is threading.main_thread()
                        and signal.getsignal(signal.SIGINT) is signal.default_int_handler)
        if self._active:
            signal.signal(signal.SIGINT, self._defer)
        return self

    def __exit__(self, kind, value, traceback):
        if self._active:
            signal.signal(signal.SIGINT, signal.default_int_handler)
        if kind is None:
            self.check()


def train(config, workdir: str | os.PathLike, data: TrainingData | None = None, log=print,
          devices=None, on_pass=None, report_every: float = 1.0) -> tuple[dict, TrainingData]:
    """Train the model ``config.model.name`` names (:mod:`pixie_jax.registry`), resuming from the last
    checkpoint in ``workdir``; return (params, data).

    ``on_pass(passes, params)``, if given, is called after each chunk that completes ``report_every``
    passes over the corpus (and after the last), with the number of passes done (a float) and the
    parameters on the host.

    The config's values are checked first (:func:`pixie_jax.validation.validate`); the workdir is
    locked for the run, and a resume must have the settings and data recorded in its run.json
    (:mod:`pixie_jax.workdir`).
    """
    validation.validate(config)
    with workdir_lib.locked(workdir):
        return _train(config, Path(workdir), data, log, devices, on_pass, report_every)


def _train(config, workdir: Path, data, log, devices, on_pass, report_every):
    data = data or prepare_data(config, log)
    with DeferredInterrupts(log) as interrupts:
        return _train_prepared(config, workdir, data, log, devices, on_pass, report_every, interrupts)


def _train_prepared(config, workdir: Path, data, log, devices, on_pass, report_every, interrupts):
    run = setup(config, data, devices)
    sampler_cfg, per_epoch, total, spc = run.sampler, run.per_epoch, run.total, config.steps_per_call
    manager = checkpoints.manager(workdir / "checkpoints", config.keep_checkpoints)
    latest = manager.latest_step()
    if latest is not None and latest > total and config.resume_with_new_schedule:
        raise workdir_lib.WorkdirError(
            f"{workdir / 'checkpoints'} holds step {latest:,}, beyond the {total:,} steps of the new schedule: the "
            f"run has already trained longer than asked. Ask for a schedule at least as long as the one trained, or "
            f"use another --workdir for the shorter run")
    primary = jax.process_index() == 0  # in a multi-process run, process 0 keeps the workdir's records
    if primary:
        for change in workdir_lib.check_and_record(workdir, workdir_lib.run_record(config, data),
                                                   latest is not None, config.resume_with_new_schedule):
            log(f"continuing with a new schedule: {change}")
        for path in workdir_lib.remove_stale_temporaries(workdir):
            log(f"removed {path}, left by an interrupted write")
    for step in checkpoints.prune(manager, config.keep_checkpoints):
        log(f"removed the checkpoint of step {step} (keep_checkpoints={config.keep_checkpoints})")
    checkpoints.check_space(manager.directory, run.state, latest)
    start = 0
    if latest is not None:
        run.state, start = checkpoints.restore(manager, run.state)
        log(f"resumed from {workdir / 'checkpoints'} at step {start}")
    if primary and workdir_lib.truncate_metrics(workdir / "metrics.jsonl", start):
        log(f"metrics.jsonl cut back to step {start}")
    run.state = run.put(run.state)
    n_dev, lam = run.mesh.devices.size, run.lam

    what = (f"({total / per_epoch:.2f} passes) of {sampler_cfg.pairs_per_step:,} pairs" if sampler_cfg.pairs_per_step
            else f"of {sampler_cfg.visual_words:,} visual words")
    processes = f" in {jax.process_count()} processes" if jax.process_count() > 1 else ""
    log(f"training {run.spec.name}: {total:,} steps {what} on {n_dev} {jax.devices()[0].platform} device(s)"
        f"{processes}; lambda = {lam:.3g}")
    metrics_file = open(workdir / "metrics.jsonl" if primary else os.devnull, "a", encoding="utf-8")
    where, epoch = None, None
    bar = tqdm(total=total, initial=start, unit="step", disable=not config.progress, dynamic_ncols=True)
    last_good = done = start
    every = max(1, round(per_epoch * report_every))
    try:
        for first in range(start, total, spc):
            interrupts.check()
            if (now := run.segment_of(first)) != where:
                where, epoch = now, None  # free the last segment before the next one
                epoch = run.epoch_data(*where)
            t0 = time.perf_counter()
            interrupts.check()
            new_state, metrics = run.run_chunk(first, epoch)
            metrics = jax.device_get(metrics)
            seconds = time.perf_counter() - t0
            if not all(np.isfinite(v).all() for v in metrics.values()):
                kept = (f"the last good checkpoint (step {last_good}) is in {workdir / 'checkpoints'}" if last_good
                        else "no checkpoint had been written yet")
                raise TrainingError(
                    f"the loss became non-finite between steps {first} and {first + spc}; stopped: {kept}. "
                    f"Lower the learning rate or check the features for extreme values")
            run.state = new_state
            step = done = first + spc
            record = {k: float(np.mean(v)) for k, v in metrics.items()}
            record.update(step=step, epoch=step / per_epoch, seconds=seconds,
                          pairs_per_s=spc * sampler_cfg.pairs_per_step / seconds)
            metrics_file.write(json.dumps(record) + "\n")
            metrics_file.flush()
            bar.update(spc)
            bar.set_postfix(loss=f"{record['loss']:.3f}", pairs_s=f"{record['pairs_per_s']:.3g}")
            if step // config.checkpoint_every > first // config.checkpoint_every or step == total:
                checkpoints.save(manager, step, run.state)
                last_good = step
            if on_pass is not None and (step // every > first // every or step == total):
                on_pass(step / per_epoch, jax.device_get(run.state.params))
    except KeyboardInterrupt:
        kept = (f"the checkpoint of step {last_good} in {workdir / 'checkpoints'} is kept: run the same command to "
                f"resume" if last_good else "no checkpoint had been written yet: run the same command to start again")
        raise Interrupted(f"interrupted at step {done:,} of {total:,}; {kept}") from None
    finally:
        bar.close()
        metrics_file.close()
        manager.wait_until_finished()
    return jax.device_get(run.state.params), data

