"""A run's metrics as it trains: ``metrics.jsonl`` (one JSON line per chunk of steps) and, where
tensorboardX is installed (the ``tensorboard`` extra), TensorBoard event files in the workdir's
``tensorboard/`` folder: each chunk's scalars under ``train/`` and the run's evaluations (its similarity
table) under ``similarity/``. Only process 0 of a multi-process run writes; a resumed run tells
TensorBoard to drop what was logged after the restored step, as metrics.jsonl is cut back."""

from __future__ import annotations

import importlib.util
import json
import os
from pathlib import Path

from pixie_jax.training.workdir import metrics_line_step

FOLDER = "tensorboard"


def tensorboard_available() -> bool:
    return importlib.util.find_spec("tensorboardX") is not None


def _writer(workdir: Path, purge_step: int | None = None):
    from tensorboardX import SummaryWriter

    return SummaryWriter(str(workdir / FOLDER), purge_step=purge_step)


class MetricsLog:
    """metrics.jsonl, and TensorBoard scalars where tensorboardX is installed; ``primary``: whether this
    process writes (process 0), ``start``: the step the run starts or resumes from."""

    def __init__(self, workdir: str | os.PathLike, primary: bool = True, start: int = 0):
        workdir = Path(workdir)
        self.file = open(workdir / "metrics.jsonl" if primary else os.devnull, "a", encoding="utf-8")
        self.board = _writer(workdir, start or None) if primary and tensorboard_available() else None

    def write(self, record: dict) -> None:
        """One chunk's record (its ``step`` among its keys)."""
        self.file.write(json.dumps(record) + "\n")
        self.file.flush()
        if self.board is not None:
            for key, value in record.items():
                if key != "step":
                    self.board.add_scalar(f"train/{key}", value, record["step"])

    def close(self) -> None:
        self.file.close()
        if self.board is not None:
            self.board.close()


def last_step(workdir: str | os.PathLike) -> int:
    """The step of metrics.jsonl's last whole line (0 where there is none)."""
    path = Path(workdir) / "metrics.jsonl"
    lines = path.read_text(encoding="utf-8").splitlines() if path.exists() else []
    return next((s for s in map(metrics_line_step, reversed(lines)) if s is not None), 0)


def log_scores(workdir: str | os.PathLike, results: dict) -> None:
    """The run's similarity table (``{kind: [Score]}``) as TensorBoard scalars at its last step,
    ``similarity/<kind>/<setting>/<benchmark>``; nothing where tensorboardX is not installed."""
    if not tensorboard_available():
        return
    step = last_step(workdir)
    board = _writer(Path(workdir))
    try:
        for kind, scores in results.items():
            for s in scores:
                if s.rho == s.rho:  # NaN: fewer than 3 usable pairs
                    board.add_scalar(f"similarity/{kind}/{s.setting}/{s.benchmark}", s.rho, step)
    finally:
        board.close()
