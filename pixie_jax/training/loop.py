"""The host side of training: a model's :class:`Trainable` set up on the devices (:func:`setup`), then
:func:`fit`'s loop over chunks of steps (:mod:`pixie_jax.training.step`) with its run records, checkpoints,
metrics and progress. The trainer knows no model: :mod:`pixie_jax.experiment` builds the trainable.
"""

from __future__ import annotations

import dataclasses
import functools
import math
import os
import signal
import threading
import time
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
from tqdm.auto import tqdm

from pixie_jax.data.training_data import TrainingData
from pixie_jax.errors import InputError, ProjectError
from pixie_jax.prng import StreamKeys, stream_keys
from pixie_jax.training import checkpoints, metrics_log, optimizers, processes, sampling
from pixie_jax.training import rows as rows_lib
from pixie_jax.training import sharding as sharding_lib
from pixie_jax.training import workdir as workdir_lib
from pixie_jax.training.step import (
    Chunk,
    TrainState,
    init_optimizer,
    make_mesh,
    make_train_chunk,
    replicate,
    subsample_epoch,
)
from pixie_jax.training.trainable import StepCounts, Trainable, skipgram_counts


class TrainingError(ProjectError):
    """Training stopped (non-finite loss, bad data); the message says what was kept."""


class Interrupted(KeyboardInterrupt):
    """Ctrl-C during training; the message says at which step and what was kept."""


def steps_per_epoch(data: TrainingData, sampler_cfg: sampling.SamplerConfig) -> int:
    """Steps in one pass of the skip-gram sampler's batch: expected kept tokens x (L + 1) pairs / pairs per
    step (:meth:`pixie_jax.training.trainable.StepCounts.steps_per_pass`)."""
    return skipgram_counts(sampler_cfg).steps_per_pass(data.expected_kept())


SIZED_TEXT_CENTRES = (2048, 65_536)  # the text centres of a batch sized to the run: from 2,048 up to 65,536


def batch_scale(sampler_cfg: sampling.SamplerConfig, data: TrainingData, epochs: float, steps_per_run: int) -> int:
    """2^k, the k >= 0 nearest log2(S / ``steps_per_run``) with S = ``epochs`` x the steps of a pass at
    ``sampler_cfg``'s batch (:func:`steps_per_epoch`): the batch times 2^k takes about ``steps_per_run``
    steps in all. At most the factor that keeps its text centres within :data:`SIZED_TEXT_CENTRES`; 1 where
    ``steps_per_run`` is 0 or the model draws no pairs."""
    if not steps_per_run or not sampler_cfg.pairs_per_step:
        return 1
    k = max(0, round(math.log2(epochs * steps_per_epoch(data, sampler_cfg) / steps_per_run)))
    while k and sampler_cfg.text_centres << k > SIZED_TEXT_CENTRES[1]:
        k -= 1
    return 1 << k


@dataclasses.dataclass
class PreparedRun:
    """A training run set up on the devices: the jitted chunk and everything it reads."""

    trainable: Trainable
    mesh: jax.sharding.Mesh
    per_epoch: int
    total: int
    keys: StreamKeys
    corpus: np.ndarray  # int32 [T] token ids on the host (memory-mapped from the token cache)
    bounds: np.ndarray  # int64 [S + 1]: the corpus's segments (:func:`segment_bounds`)
    ids: jax.Array | None  # the whole corpus on the devices when it is one segment
    words: sampling.WordArrays
    features: jax.Array
    state: TrainState
    chunk: Chunk
    placement: sharding_lib.Placement  # where the state lives: row tables sharded or replicated
    placement_note: str = ""  # why (sharding.decide)
    distinct_note: str = ""  # why each distinct row is read once a step, where it is (rows.decide)

    @property
    def counts(self) -> StepCounts:
        """What a step holds (the trainable's :attr:`pixie_jax.training.trainable.Trainable.step_counts`)."""
        return self.trainable.step_counts

    def put(self, tree):
        return replicate(self.mesh, tree)

    def host_state(self) -> TrainState:
        """The state on the host, tables unpadded (as checkpoints hold it)."""
        return self.placement.get(self.state)

    def segment_of(self, step: int) -> tuple[int, int]:
        """(pass, segment) of ``step``: a pass gives each segment steps in proportion to its tokens."""
        pass_index, offset = divmod(step, self.per_epoch)
        first_steps = self.per_epoch * self.bounds[:-1] // self.bounds[-1]
        return pass_index, int(np.searchsorted(first_steps, offset, side="right")) - 1

    def epoch_data(self, index: int, segment: int = 0) -> sampling.EpochData:
        """Pass ``index`` over ``segment`` subsampled (:func:`pixie_jax.training.sampling.subsample`), on the
        devices."""
        key = jax.random.fold_in(self.keys.subsample, index)
        if len(self.bounds) == 2:  # the whole corpus is one segment, already on the devices
            return subsample_epoch(
                key, self.ids, self.words.keep_prob, self.words.vis_index, shuffle=self.trainable.shuffle
            )
        start, end = self.bounds[segment], self.bounds[segment + 1]
        ids = self.put(np.asarray(self.corpus[start:end], np.int32))
        return subsample_epoch(
            jax.random.fold_in(key, segment),
            ids,
            self.words.keep_prob,
            self.words.vis_index,
            shuffle=self.trainable.shuffle,
        )

    def run_chunk(self, first: int, epoch: sampling.EpochData):
        return self.chunk(self.state, self.keys.sample, jnp.int32(first), epoch, self.words, self.features)


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
                f"each pass then visits more, smaller segments), or train on more processes"
            )


def host_bytes_available() -> int | None:
    """MemAvailable of /proc/meminfo (bytes), or None where there is none."""
    try:
        with open("/proc/meminfo", encoding="ascii") as f:
            return next(int(line.split()[1]) * 1024 for line in f if line.startswith("MemAvailable:"))
    except (OSError, StopIteration, ValueError):
        return None


def memory_free(device, local_devices: int) -> int | None:
    """Free bytes of ``device``; for a CPU device, the host's available memory shared among the
    ``local_devices`` of this process; None where neither is known."""
    free = device_bytes_free(device)
    if free is None:
        host = host_bytes_available()
        free = None if host is None else host // local_devices
    return free


def check_step_fits(counts: StepCounts, dim: int, devices) -> None:
    """Raise :class:`TrainingError`, before anything compiles, if one step's gathered rows and their
    gradients (a lower bound of its memory: ``counts.rows`` x K x 4 bytes x 2, shared among the devices)
    exceed a device's free memory (the host's available memory for CPU devices)."""
    devices, rows = list(devices), counts.rows
    need = rows * dim * 4 * 2 // len(devices)
    local = [d for d in devices if d.process_index == jax.process_index()]
    for device in local:
        free = memory_free(device, len(local))
        if free is not None and need > free:
            raise TrainingError(
                f"one step gathers {rows:,} table rows ({counts.examples:,} {counts.unit}): at least "
                f"{need / 2**30:,.1f} GiB per device with their gradients, and {device} has {free / 2**30:.1f} GiB "
                f"free. Lower --config.sampler.text_centres (the rows alone fill it at about {free / need:.0%} of "
                f"this batch) or the negatives per pair, or share negatives (--config.sampler.negative_group)"
            )


def check_enough_data(config, counts: StepCounts, data: TrainingData) -> None:
    """Raise :class:`TrainingError` before anything compiles where a pass leaves too little to train on:
    fewer than 2 tokens kept by subsampling on average (no pair), or fewer than one step's centres."""
    if not counts.per_token:
        return
    kept = data.expected_kept()
    where = (
        f"corpus {config.corpus}: a subsampled pass keeps about {kept:,.1f} of its {len(data.ids):,} tokens "
        f"({len(data.vocab):,} words, subsample = {config.subsample:g})"
    )
    if kept < 2:
        raise TrainingError(
            f"{where}, so no pair survives subsampling: lower --config.subsample (0 keeps every "
            f"token) or use a larger corpus"
        )
    if kept < counts.centres:
        raise TrainingError(
            f"{where}, fewer than the {counts.centres:,} centres of one step: lower --config.sampler.text_centres "
            f"(and visual_centres), or --config.subsample, or use a larger corpus"
        )


def total_steps(config, trainable: Trainable, per_epoch: int | None) -> int:
    """``config.epochs`` passes (or the trainable's own count) in whole calls of ``steps_per_call``."""
    if trainable.total_steps is not None:
        return trainable.total_steps
    spc = config.steps_per_call
    return max(spc, math.ceil(config.epochs * per_epoch / spc) * spc)


def check_batch_divides(counts: StepCounts, n_dev: int) -> None:
    """Each part of the batch splits evenly over the ``n_dev`` devices (``counts.splits``; packed centres
    in whole rows)."""
    for name, count, multiple, why in counts.splits:
        if count % (n_dev * multiple):
            times = f" times {multiple} ({why})" if multiple > 1 else ""
            raise InputError(f"{name} ({count}) must be a multiple of the number of devices ({n_dev}){times}")


def run_optimizer(config, total: int, names, sparse: bool, examples_per_step: int):
    """The run's optimizer: a (row tables, networks) pair for a row-sparse step, else one optax transform."""
    if sparse:
        return (
            optimizers.table_optimizer(config, total, examples_per_step, names),
            optimizers.network_optimizer(config, total),
        )
    return optimizers.build_optimizer(config, total, names)


def setup(config, trainable: Trainable, data: TrainingData, devices=None) -> PreparedRun:
    """Mesh, optimizer, device arrays, initial state and the jitted chunk for ``trainable`` on ``data``."""
    counts = trainable.step_counts
    mesh = make_mesh(devices)
    check_batch_divides(counts, mesh.devices.size)
    check_enough_data(config, counts, data)
    bounds = segment_bounds(len(data.ids), config.segment_tokens)
    check_segment_fits(bounds, mesh.devices.flat)
    per_pass = counts.steps_per_pass(data.expected_kept())
    total = total_steps(config, trainable, per_pass)
    per_epoch = per_pass or total  # a model without pairs (the VAE) makes one pass of its steps
    if len(bounds) > 2 and per_epoch < (len(bounds) - 1) * config.steps_per_call:
        raise InputError(
            f"a pass of {per_epoch:,} steps cannot visit {len(bounds) - 1} corpus segments in calls of "
            f"{config.steps_per_call} steps: raise segment_tokens or lower steps_per_call"
        )
    keys = stream_keys(config.seed)
    shapes = jax.eval_shape(trainable.model.init, keys.init)  # the tables' widths, before anything is allocated
    dims = [shapes[t].shape[-1] for t in trainable.tables.names if t in shapes]
    check_step_fits(counts, max(dims, default=1), mesh.devices.flat)
    params = trainable.model.init(keys.init)
    names = trainable.tables.names
    sparse = bool(optimizers.is_sparse(config) and names and all(t in params for t in names))
    optimizer = run_optimizer(config, total, names, sparse, counts.examples)
    state = TrainState(params, init_optimizer(optimizer, params, names))
    placement, placement_note = place(config, trainable, state, counts.rows, mesh, sparse)
    distinct, distinct_note = rows_lib.decide(
        config.get("distinct_rows", "off"), mesh.devices.flat[0].platform, placement.sharded, config.optimizer.name
    )
    distinct = distinct and bool(trainable.tables.names)
    put = functools.partial(replicate, mesh)
    words = put(
        sampling.WordArrays(
            jnp.asarray(data.keep_prob),
            jnp.asarray(data.noise.prob),
            jnp.asarray(data.noise.alias),
            jnp.asarray(data.vis_index),
        )
    )
    whole = put(jnp.asarray(data.ids)) if len(bounds) == 2 else None
    return PreparedRun(
        trainable,
        mesh,
        per_epoch,
        total,
        keys,
        data.ids,
        bounds,
        whole,
        words,
        put(jnp.asarray(trainable.features)),
        placement.put(state),
        make_train_chunk(trainable, optimizer, mesh, config.steps_per_call, placement, distinct),
        placement,
        placement_note,
        distinct_note if distinct else "",
    )


def place(config, trainable: Trainable, state: TrainState, step_rows: int, mesh, sparse: bool):
    """The :class:`pixie_jax.training.sharding.Placement` of ``state`` on ``mesh`` that ``config.shard_tables``
    asks for (:func:`pixie_jax.training.sharding.decide`; ``step_rows``: the table rows a step gathers), and
    why."""
    names = tuple(t for t in trainable.tables.names if t in state.params)
    replicated = sharding_lib.Placement(mesh)
    if not names:
        return replicated, ""
    rows = {t: int(state.params[t].shape[0]) for t in names}
    sharded = sharding_lib.Placement(mesh, names, rows)
    local = [d for d in mesh.devices.flat if d.process_index == jax.process_index()]
    shard, why = sharding_lib.decide(
        config.get("shard_tables", "auto"),
        mesh.devices.size,
        sharded.table_bytes(state),
        memory_free(local[0], len(local)) if local else None,
        step_rows,
        sum(rows.values()),
        sparse,
    )
    return (sharded if shard else replicated), why


class DeferredInterrupts:
    """Ctrl-C inside the block (data being put on the devices, steps being compiled or run, a checkpoint
    being written) is held until the trainer asks with :meth:`check`, between chunks of steps, and
    raised there as a KeyboardInterrupt (or when the block ends); a second Ctrl-C goes to the handler
    before the block (the command line's ends the process at once, with one line). An interrupt raised
    inside XLA's compilation or a running computation can crash the process instead of stopping it.
    Only in the main thread, where SIGINT has a Python handler (not ignored); the handler before the
    block is restored after it."""

    def __init__(self, log=print):
        self.log, self.requested, self.stopping, self._previous = log, False, False, None

    def _defer(self, signum, frame):
        if self.requested or self.stopping:  # the handler before the block: the command line's ends at once
            (self._previous if callable(self._previous) else signal.default_int_handler)(signum, frame)
        self.requested = True
        self.log("stopping after the current steps (Ctrl-C again to stop at once)")

    def check(self) -> None:
        if self.requested:  # raised once; a Ctrl-C from here on (while a checkpoint is written) is a second
            self.requested, self.stopping = False, True
            raise KeyboardInterrupt

    def __enter__(self):
        if threading.current_thread() is threading.main_thread():
            current = signal.getsignal(signal.SIGINT)
            if callable(current):
                self._previous = signal.signal(signal.SIGINT, self._defer)
        return self

    def __exit__(self, kind, value, traceback):
        if self._previous is not None:
            signal.signal(signal.SIGINT, self._previous)
        if kind is None:
            self.check()


def _kept(last_good: int, workdir: Path) -> str:
    """What a stopped run keeps: its last good (written while the loss was in bounds, or verified on resume)
    checkpoint."""
    if not last_good:
        return "no checkpoint had been written yet"
    return f"the last good checkpoint (step {last_good:,}) is in {workdir / 'checkpoints'}"


class DivergenceGuard:
    """A loss that diverges without becoming non-finite: a chunk's mean loss above ``first + factor x
    max(|first|, 1)``, where ``first`` is the loss of the first step this process trained. :meth:`update`
    says whether a chunk is within that bound; the trainer writes no checkpoint while it is not, and stops
    after ``stretch`` chunks out of bounds in a row (or at the run's end)."""

    def __init__(self, factor: float = 10.0, stretch: int = 3):
        self.factor, self.stretch = factor, stretch
        self.first = self.first_step = self.since = None
        self.over, self.last = 0, 0.0

    def bound(self) -> float:
        return self.first + self.factor * max(abs(self.first), 1.0)

    def update(self, first_step: int, losses) -> bool:
        losses = np.asarray(losses, np.float64).reshape(len(losses), -1).mean(axis=1)
        if self.first is None:
            self.first, self.first_step = float(losses[0]), first_step
        self.last = float(losses.mean())
        if self.last <= self.bound():
            self.over, self.since = 0, None
            return True
        self.over += 1
        self.since = first_step if self.since is None else self.since
        return False

    def describe(self, step: int) -> str:
        return (
            f"the loss diverged: {self.last:.3g} at step {step:,} after {self.over} call(s) of steps above "
            f"{self.bound():.3g} (from step {self.since:,}), against {self.first:.3g} at step {self.first_step:,}"
        )


def fit(
    config,
    workdir: str | os.PathLike,
    trainable: Trainable,
    data: TrainingData,
    log=print,
    devices=None,
    on_pass=None,
    report_every: float = 1.0,
) -> dict:
    """Train ``trainable`` on ``data``, resuming from the last checkpoint in ``workdir``; return the
    parameters on the host. The config is validated and the workdir locked by the caller
    (:func:`pixie_jax.experiment.train`); a resume must have the settings and data recorded in its
    run.json (:mod:`pixie_jax.training.workdir`).

    ``on_pass(passes, params)``, if given, is called after each chunk that completes ``report_every``
    passes over the corpus (and after the last), with the number of passes done (a float) and the
    parameters on the host.
    """
    with DeferredInterrupts(log) as interrupts:
        return _fit(config, Path(workdir), trainable, data, log, devices, on_pass, report_every, interrupts)


def _open_workdir(config, workdir: Path, trainable, run: PreparedRun, recorded: dict, log):
    """The run's checkpoints and records in ``workdir``: checked against ``recorded`` (a changed setting is
    refused), stale temporaries and surplus checkpoints removed, the newest verified checkpoint restored into
    ``run``. Returns (the checkpoint manager, the step to start from, whether this process keeps the records)."""
    total = run.total
    manager = checkpoints.manager(workdir / "checkpoints", config.keep_checkpoints)
    latest = manager.latest_step()
    if latest is not None and latest > total and config.resume_with_new_schedule:
        raise workdir_lib.WorkdirError(
            f"{workdir / 'checkpoints'} holds step {latest:,}, beyond the {total:,} steps of the new schedule: the "
            f"run has already trained longer than asked. Ask for a schedule at least as long as the one trained, or "
            f"use another --workdir for the shorter run"
        )
    primary = jax.process_index() == 0  # in a multi-process run, process 0 keeps the workdir's records
    if primary:
        for change in workdir_lib.check_and_record(
            workdir, recorded, latest is not None, config.resume_with_new_schedule, trainable.length_keys
        ):
            log(f"continuing with a new schedule: {change}")
        for path in workdir_lib.remove_stale_temporaries(workdir):
            log(f"removed {path}, left by an interrupted write")
    for step in checkpoints.prune(manager, config.keep_checkpoints):
        log(f"removed the checkpoint of step {step} (keep_checkpoints={config.keep_checkpoints})")
    start = 0
    if latest is not None:
        restored, step = checkpoints.restore_verified(manager, run.placement.host_shapes(run.state), log)
        if restored is not None:
            run.state, start = run.placement.put(restored), step
            log(f"resumed from {workdir / 'checkpoints'} at step {start}")
    if start < total:  # a finished run only rewrites its outputs: no checkpoint to make room for
        checkpoints.check_space(manager.directory, run.state, start or None)
    if primary and workdir_lib.truncate_metrics(workdir / "metrics.jsonl", start):
        log(f"metrics.jsonl cut back to step {start}")
    return manager, start, primary


def _announce(config, trainable, run: PreparedRun, log) -> None:
    """The run's first lines: what is trained, how long, on what; the row tables' placement and reading."""
    counts, per_epoch, total, spc = run.counts, run.per_epoch, run.total, config.steps_per_call
    n_dev = run.mesh.devices.size
    passes = f"({total / per_epoch:.2f} passes) " if counts.per_token else ""
    what = f"{passes}of {counts.examples:,} {counts.unit}"
    in_processes = f" in {jax.process_count()} processes" if jax.process_count() > 1 else ""
    note = f"; {trainable.note}" if trainable.note else ""
    if trainable.tables.names and not config.optimizer.learning_rate:
        note += f"; the tables' rate {optimizers.table_rate(config):g}, {config.optimizer.name}'s own"
    asked = math.ceil(config.epochs * per_epoch) if trainable.total_steps is None else total
    if asked != total:
        note += f"; the {asked:,} steps of {config.epochs:g} passes rounded up to whole calls of steps_per_call = {spc}"
    log(
        f"training {trainable.name}: {total:,} steps {what} on {n_dev} {jax.devices()[0].platform} device(s)"
        f"{in_processes}{note}"
    )
    if run.distinct_note:
        names = ", ".join(trainable.tables.names)
        log(f"each distinct row of {names} read and updated once a step ({run.distinct_note})")
    if config.optimizer.name == "sparse_sgd" and trainable.sampler is not None and trainable.sampler.visual_centres:
        log(
            "note: sparse_sgd with visual centres learns e far less than dense Adam (3 passes of the bundled corpus: "
            "PIXIE's e MEN 0.19 at 0.025, at 256 or 2,048 text centres alike, against 0.54 with adam; SGNS 0.34); "
            "--config.optimizer.name=adam is the choice for quality (docs/guide/training.md)"
        )
    if run.placement_note and (n_dev > 1 or run.placement.sharded):
        names = ", ".join(run.placement.tables or trainable.tables.names)
        how = f"sharded by rows over {n_dev}" if run.placement.sharded else f"replicated on each of {n_dev}"
        log(f"row tables {names} {how} device(s) ({run.placement_note})")


def _check_chunk(metrics: dict, first: int, spc: int, run: PreparedRun, guard, last_good: int, workdir) -> bool:
    """Stop (:class:`TrainingError`) on a non-finite loss, a loss out of :class:`DivergenceGuard`'s bounds
    for too long, or a chunk that drew no pair; return whether the loss is within bounds."""
    if not all(np.isfinite(v).all() for v in metrics.values()):
        raise TrainingError(
            f"the loss became non-finite between steps {first} and {first + spc}; stopped: "
            f"{_kept(last_good, workdir)}. Lower the learning rate or check the features for extreme values"
        )
    within = guard.update(first, metrics["loss"])
    if not within and (guard.over >= guard.stretch or first + spc == run.total):
        raise TrainingError(
            f"{guard.describe(first + spc)}; stopped: {_kept(last_good, workdir)}. Lower the learning rate"
        )
    if run.counts.per_token and not np.any(metrics["loss"]):
        raise TrainingError(
            f"every step from {first} to {first + spc} had a loss of exactly 0: no pair was drawn (the "
            f"subsampled pass kept too few tokens); stopped. Lower --config.subsample or use a larger corpus"
        )
    return within


def _fit(config, workdir: Path, trainable, data, log, devices, on_pass, report_every, interrupts):
    recorded = workdir_lib.run_record(config, data)  # the settings and the data's fingerprint
    processes.check_processes_agree(recorded)  # before anything collective: a mismatch would hang there
    run = setup(config, trainable, data, devices)
    manager, start, primary = _open_workdir(config, workdir, trainable, run, recorded, log)
    _announce(config, trainable, run, log)
    per_epoch, total, spc, counts = run.per_epoch, run.total, config.steps_per_call, run.counts
    records = metrics_log.MetricsLog(workdir, primary, start)
    where, epoch = None, None
    bar = tqdm(total=total, initial=start, unit="step", disable=not config.progress, dynamic_ncols=True)
    last_good = done = start
    guard, put_off = DivergenceGuard(), False
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
            within = _check_chunk(metrics, first, spc, run, guard, last_good, workdir)
            run.state, done = new_state, first + spc
            step = done
            record = {k: float(np.mean(v)) for k, v in metrics.items()}
            per_s = spc * counts.examples / seconds
            record.update({"step": step, "epoch": step / per_epoch, "seconds": seconds, counts.metric: per_s})
            records.write(record)
            bar.update(spc)
            bar.set_postfix({"loss": f"{record['loss']:.3f}", counts.metric.replace("_per_s", "_s"): f"{per_s:.3g}"})
            due = put_off or step // config.checkpoint_every > first // config.checkpoint_every or step == total
            put_off = due and not within  # no checkpoint of a loss out of bounds: the next chunk within writes it
            if due and within:
                checkpoints.save(manager, step, run.host_state())
                last_good = step
            if on_pass is not None and (step // every > first // every or step == total):
                on_pass(step / per_epoch, run.placement.get(run.state.params))
    except KeyboardInterrupt:
        if done > last_good and guard.over == 0:  # the state of step `done` is whole: keep it
            checkpoints.save(manager, done, run.host_state())
            last_good = done
        kept = (
            f"the checkpoint of step {last_good:,} in {workdir / 'checkpoints'} is kept: run the same command to resume"
            if last_good
            else "no checkpoint had been written yet: run the same command to start again"
        )
        raise Interrupted(f"interrupted at step {done:,} of {total:,}; {kept}") from None
    finally:
        bar.close()
        records.close()
        try:
            manager.close()  # waits for every write and ends orbax's threads
        finally:  # a failed write's partial checkpoint, once no writer is left
            checkpoints.remove_partials(manager)
    return run.placement.get(run.state.params)
