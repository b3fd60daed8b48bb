"""A training workdir that knows its run: one run at a time (a lock), the resolved config and a
fingerprint of the data recorded in run.json and checked on resume, metrics cut back to the
restored step, and no stale temporary files of this project's interrupted writes."""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
from pathlib import Path

import jax
import numpy as np

from pixie_jax.errors import InputError, ProjectError
from pixie_jax.files import atomic_write
from pixie_jax.overrides import flat_keys, get_value, set_value

# settings that may change between a run and its resume: they do not change what is trained
FREE = (
    "progress",
    "keep_checkpoints",
    "checkpoint_every",
    "benchmarks",
    "embedding",
    "cache_dir",
    "corpus",
    "features",
    "resume_with_new_schedule",
    "corpus_cache",
    "sampler.steps_per_run",  # recorded through the batch it sized (sampler.text_centres, visual_centres)
    "shard_tables",  # where the tables live, not what is trained: a run resumes on any number of devices
    "distinct_rows",  # how a step sums its rows' gradients: the same step up to the order of float sums
)
# settings added to the configs after runs were first recorded, with the value that trains as runs did
# before them: a run.json without such a key holds a run trained with that value
ADDED = {
    "optimizer.adam_eps": 1e-8,
    "optimizer.adam_b1": 0.9,
    "optimizer.adam_b2": 0.999,
    "optimizer.table_rates": "",
    "optimizer.lazy_tables": "",
    "sampler.enumerate_window": False,
    "sampler.shuffle": False,
}
# settings and choices the project no longer has, with the value that trained as the project still does: a
# run recorded with that value resumes, one recorded with another is refused naming it
REMOVED = {"optimizer.row_cap": 16.0, "sampler.corpus_order": False, "sampler.corpus_streams": False}
REMOVED_CHOICES = {"optimizer.name": ("capped_sgd", "row_adam")}
# defaults the shipped configs changed, {key: (the default runs were recorded with before, the default now)}:
# a resumed run recorded with the former, whose config gives the present one, keeps the former
# (recorded_defaults), so that a run started before the change resumes as it was trained
CHANGED_DEFAULTS: dict = {
    "sampler.window": (10, 5),
    "subsample": (1e-3, 3e-4),
    "optimizer.learning_rate": (1e-2, 0.0),  # 0 is the optimizer's own: 1e-2 for Adam, as before
}
# the length of the run: may change on resume when config.resume_with_new_schedule is set (with a model's own
# length_keys, pixie_jax.training.trainable.Trainable)
SCHEDULE = ("epochs",)


class WorkdirError(ProjectError):
    """The workdir is in use, or holds a different run; the message says what to do."""


@contextlib.contextmanager
def locked(workdir: str | os.PathLike):
    """Hold an exclusive lock on ``workdir`` for the block; another holder makes this fail at once. In a
    multi-process run (jax.distributed) process 0 holds it for all."""
    workdir = Path(workdir)
    if workdir.exists() and not workdir.is_dir():
        raise WorkdirError(f"--workdir {workdir}: a file, not a folder; give a folder for the run's files")
    workdir.mkdir(parents=True, exist_ok=True)
    if jax.process_index() != 0:
        yield
        return
    with open(workdir / ".lock", "a+", encoding="utf-8") as f:
        try:
            fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            f.seek(0)
            holder = f.read().strip() or "unknown"
            raise WorkdirError(
                f"{workdir} is in use by another run (process {holder}); wait for it to finish or "
                f"choose another --workdir"
            ) from None
        f.seek(0)
        f.truncate()
        f.write(str(os.getpid()))
        f.flush()
        try:
            yield
        finally:
            f.truncate(0)
            fcntl.flock(f, fcntl.LOCK_UN)


def remove_stale_temporaries(workdir: str | os.PathLike) -> list[Path]:
    """Delete the '.NAME.*.tmp' files that interrupted atomic writes left in ``workdir`` (call with the lock)."""
    stale = [p for p in Path(workdir).glob(".*.tmp") if p.is_file()]
    for p in stale:
        p.unlink()
    return stale


def _digest(*arrays) -> str:
    h = hashlib.sha256()
    for a in arrays:
        h.update(np.ascontiguousarray(a).tobytes())
    return h.hexdigest()[:16]


def run_record(config, data) -> dict:
    """The resolved config (flat) and a fingerprint of the data: vocabulary, token ids, visual features."""
    values = {key: get_value(config, key) for key in flat_keys(config)}
    return {
        "config": {k: list(v) if isinstance(v, tuple) else v for k, v in values.items()},
        "data": {
            "vocabulary": _digest(np.array(data.vocab.words), data.vocab.counts),
            "tokens": f"{len(data.ids)} ids, {data.ids_digest or _digest(data.ids)}",
            "features": _digest(data.vis_index, data.raw_features),
        },
    }


def read_record(path: Path) -> dict:
    """A run.json, or :class:`WorkdirError` naming it when it cannot be read."""
    try:
        old = json.loads(path.read_text(encoding="utf-8"))
        if not isinstance(old, dict) or not isinstance(old.get("config"), dict) or "data" not in old:
            raise InputError("no 'config' and 'data' records")
        return old
    except (ValueError, UnicodeDecodeError) as err:
        raise WorkdirError(
            f"{path}: not a run record of this project ({err}); restore it from a backup, or delete "
            f"{path.parent / 'checkpoints'} and {path.name} to start afresh"
        ) from None


def saved_steps(workdir: str | os.PathLike) -> list[int]:
    """The steps of the checkpoints in ``workdir``/checkpoints (its step-named folders), in order; [] if none."""
    folder = Path(workdir) / "checkpoints"
    return sorted(int(p.name) for p in folder.iterdir() if p.name.isdigit()) if folder.is_dir() else []


def resumed_config(workdir: str | os.PathLike) -> dict | None:
    """The config run.json records for the run ``workdir`` holds; None where a run would start afresh there
    (no checkpoint, or no run.json)."""
    workdir = Path(workdir)
    if not (workdir / "run.json").exists() or not saved_steps(workdir):
        return None
    return read_record(workdir / "run.json")["config"]


def recorded_batch(workdir: str | os.PathLike) -> tuple[int, int] | None:
    """(text, visual) centres a step of the run ``workdir`` holds, from its run.json; None where it holds no
    checkpoint (a fresh run) or no such record. A resumed run keeps the batch it was sized to."""
    config = resumed_config(workdir)
    if config is None:
        return None
    text, visual = config.get("sampler.text_centres"), config.get("sampler.visual_centres")
    return (text, visual) if text and visual is not None else None


def recorded_defaults(config, workdir: str | os.PathLike, log=print, given=()):
    """``config`` to resume the run ``workdir`` holds with: where a key of :data:`CHANGED_DEFAULTS` has its
    present default but run.json records its former default, a copy with the former (each logged), unless
    the key is in ``given`` (set by the user: the resume then refuses it as any changed setting). A fresh
    run (no checkpoint, or no run.json) gets ``config`` itself."""
    recorded = resumed_config(workdir)
    if recorded is None:
        return config
    recorded = ADDED | recorded
    kept = {
        k: former
        for k, (former, now) in CHANGED_DEFAULTS.items()
        if recorded.get(k) == former and get_value(config, k) == now and k not in given
    }
    if not kept:
        return config
    config = config.copy_and_resolve_references()
    for k, former in kept.items():
        set_value(config, k, former)
    log(
        f"resuming a run started with an earlier version's defaults: keeping "
        f"{', '.join(f'{k} = {v!r}' for k, v in kept.items())} as recorded in {Path(workdir) / 'run.json'}"
    )
    return config


def check_removed(path: Path, config: dict) -> None:
    """Refuse a recorded run that used a setting or choice this version no longer has (:data:`REMOVED`,
    :data:`REMOVED_CHOICES`): it cannot be resumed as it was trained."""
    used = [f"{k} = {config[k]!r}" for k, default in REMOVED.items() if k in config and config[k] != default]
    used += [f"{k} = {config[k]!r}" for k, gone in REMOVED_CHOICES.items() if config.get(k) in gone]
    if used:
        raise WorkdirError(
            f"{path} records a run trained with {', '.join(used)}, which this version of pixie-jax no "
            f"longer has (docs/studies/per_pass.md says why); resume it with the version that "
            f"trained it, or start afresh in another --workdir"
        )


def check_and_record(
    workdir: str | os.PathLike,
    record: dict,
    resuming: bool,
    new_schedule: bool = False,
    length_keys: tuple[str, ...] = (),
) -> list[str]:
    """On resume, refuse a ``record`` that differs from the workdir's run.json (beyond :data:`FREE`, and
    beyond :data:`SCHEDULE` and the model's ``length_keys`` if ``new_schedule``; a key of :data:`ADDED` that
    run.json lacks counts as its value there); then write ``record`` as run.json. Return the schedule
    changes let through, as 'key: old -> new'."""
    path = Path(workdir) / "run.json"
    changed = []
    if resuming and not path.exists():
        raise WorkdirError(
            f"{workdir} holds checkpoints but no run.json to say with which settings and data they "
            f"were trained, so a resume cannot be checked. Put the run's run.json back, or delete "
            f"{Path(workdir) / 'checkpoints'} to start afresh here (or use another --workdir)"
        )
    if resuming:
        old = read_record(path)
        check_removed(path, old["config"])
        recorded = ADDED | old["config"]
        diffs = {
            k: f"config {k}: {recorded.get(k)!r} -> {v!r}"
            for k, v in record["config"].items()
            if k not in FREE and recorded.get(k) != v
        }
        schedule = SCHEDULE + tuple(length_keys)
        changed = [diffs.pop(k) for k in schedule if k in diffs and new_schedule]
        scheduled = [k for k in schedule if k in diffs]
        diffs |= {
            k: f"data {k}: {old['data'].get(k)} -> {v}" for k, v in record["data"].items() if old["data"].get(k) != v
        }
        if diffs:
            hint = (
                " To continue this run with a new length, add --config.resume_with_new_schedule=True"
                if scheduled and len(scheduled) == len(diffs)
                else ""
            )
            raise WorkdirError(
                f"{workdir} holds a run with other settings ({'; '.join(diffs.values())}); resuming "
                f"would mix them. Use another --workdir, or delete {Path(workdir) / 'checkpoints'} to "
                f"start afresh here.{hint}"
            )
    with atomic_write(path, "w") as f:
        json.dump(record, f, indent=1)
    return changed


def metrics_line_step(line: str) -> int | None:
    """The step of one metrics line; None for a line cut short by a crash."""
    try:
        return json.loads(line).get("step", 0)
    except json.JSONDecodeError:
        return None


def truncate_metrics(path: str | os.PathLike, step: int) -> int:
    """Drop the lines of metrics.jsonl logged after ``step`` (the restored checkpoint); return how many."""
    path = Path(path)
    if not path.exists():
        return 0
    lines = path.read_text(encoding="utf-8").splitlines()
    kept = [line for line, s in zip(lines, map(metrics_line_step, lines)) if s is not None and s <= step]
    if len(kept) != len(lines):
        with atomic_write(path, "w") as f:
            f.write("".join(line + "\n" for line in kept))
    return len(lines) - len(kept)
