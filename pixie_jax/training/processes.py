"""The processes of one multi-process run agree on what they train: each process's settings and data
fingerprint (:func:`pixie_jax.training.workdir.run_record`) are gathered on every process and compared
before anything is put on the devices. Processes started with different settings would otherwise hang
at the first collective one of them skips (a checkpoint, the last step) or fail deep inside jax."""

from __future__ import annotations

import json

import numpy as np

from pixie_jax.errors import InputError

# settings that may differ between the processes of a run: what each host reads its files from and shows
# (the data's content is compared through the record's fingerprints)
LOCAL = ("progress", "cache_dir", "corpus_cache", "corpus", "features")


class ProcessMismatch(InputError):
    """The processes of one run were started with different settings or data."""


def first_difference(records: list[dict]) -> str | None:
    """Where the records of processes 0..P-1 first differ, as one sentence; None where they agree (beyond
    :data:`LOCAL`). Keys are compared in process 0's order (config first, then data), then any key another
    process has that process 0 lacks."""
    reference = records[0]
    for section in ("config", "data"):
        ours = reference.get(section, {})
        keys = [k for k in ours if k not in LOCAL]
        keys += sorted({k for r in records[1:] for k in r.get(section, {})} - set(ours) - set(LOCAL))
        for key in keys:
            for process, record in enumerate(records[1:], start=1):
                theirs = record.get(section, {})
                if theirs.get(key, "(absent)") != ours.get(key, "(absent)"):
                    what = f"config {key}" if section == "config" else f"the data's {key}"
                    return (
                        f"{what} is {theirs.get(key, '(absent)')!r} in process {process} but "
                        f"{ours.get(key, '(absent)')!r} in process 0"
                    )
    return None


def gather_records(record: dict) -> list[dict]:
    """Every process's ``record``, in process order, on every process (a collective: every process calls it)."""
    from jax.experimental import multihost_utils

    data = np.frombuffer(json.dumps(record, sort_keys=False).encode(), np.uint8)
    lengths = np.asarray(multihost_utils.process_allgather(np.array([len(data)], np.int32))).reshape(-1)
    padded = np.zeros(int(lengths.max()), np.uint8)
    padded[: len(data)] = data
    rows = np.asarray(multihost_utils.process_allgather(padded)).reshape(len(lengths), -1)
    return [json.loads(row[:n].tobytes()) for row, n in zip(rows, lengths)]


def check_processes_agree(record: dict) -> None:
    """Raise :class:`ProcessMismatch` on every process (the same line on each) when the processes of a run
    hold different settings or data; nothing in a single-process run."""
    import jax

    if jax.process_count() == 1:
        return
    difference = first_difference(gather_records(record))
    if difference:
        raise ProcessMismatch(
            f"the {jax.process_count()} processes of this run were started with different settings: {difference}. "
            f"Start every process with the same command (only --process-id differs)"
        )
