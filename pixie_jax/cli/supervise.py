"""One process of a multi-process run, watched from outside: when the run loses another process, jax's
distributed runtime ends this one with a C++ abort and stack traces (or a Gloo error and a Python
traceback). Run as the child of a small supervisor, the process's stderr passes through line by line
until a traceback or a fatal log line begins; what follows is held, and if it is such a failure the
supervisor prints one line instead (the full text goes to a file), else the held text as it was."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
from pathlib import Path

# the start of a traceback or of a fatal runtime message: hold what follows
HOLD = re.compile(
    r"^(Traceback \(most recent call last\)|[FE]\d{4} \d\d:\d\d:\d\d|\*\*\* Check failure|"
    r"terminate called)"
)
# a held text that means another process of the run is gone (or the network between them)
LOST = re.compile(
    r"heartbeat|another task died|distributed service|[Gg]loo|coordination service|DEADLINE_EXCEEDED|"
    r"UNAVAILABLE|Connection reset|connection closed",
    re.IGNORECASE,
)


def _in_child() -> None:
    """Ctrl-C as usual, and (Linux) killed with the supervisor: a killed process must not live on."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    try:
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


def run_child(argv: list[str], env: dict | None = None, stderr=None) -> tuple[int, str]:
    """Run ``argv`` with its stderr filtered as the module says; return (its exit code, the held text).
    Ctrl-C reaches the child (same process group) and is ignored here; a negative code is a signal."""
    stderr = stderr or sys.stderr
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        child = subprocess.Popen(
            argv, env=env, stderr=subprocess.PIPE, text=True, errors="replace", preexec_fn=_in_child
        )
        held: list[str] = []
        for line in child.stderr:
            if held or HOLD.match(line):
                held.append(line)
            else:
                stderr.write(line)
                stderr.flush()
        return child.wait(), "".join(held)
    finally:
        signal.signal(signal.SIGINT, previous)


def lost_process(code: int, held: str) -> bool:
    """Whether a child that ended with ``code`` and printed ``held`` was stopped by the loss of another process."""
    return code != 0 and bool(LOST.search(held))


def supervise(argv: list[str], process: str, workdir: str) -> int:
    """Run this command's own process as a supervised child (``argv``: its arguments); return the exit code."""
    env = dict(os.environ, PIXIE_JAX_SUPERVISED="1")
    root = str(Path(__file__).resolve().parent.parent)
    env["PYTHONPATH"] = root + os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else root
    code, held = run_child([sys.executable, "-c", "from pixie_jax.cli import train_main; train_main()", *argv], env)
    if not lost_process(code, held):
        sys.stderr.write(held)
        return code if code >= 0 else 128 - code
    log = Path(workdir) / f"process{process}.error.log"
    try:
        log.parent.mkdir(parents=True, exist_ok=True)
        log.write_text(held, encoding="utf-8")
        where = f" (jax's messages in {log})"
    except OSError:
        where = ""
    sys.stderr.write(
        f"error: process {process} stopped: the run lost another of its processes (it stopped, or the "
        f"network between them failed){where}. Start every process again with the same commands to "
        f"resume from the last checkpoint in {Path(workdir) / 'checkpoints'}\n"
    )
    return 1
