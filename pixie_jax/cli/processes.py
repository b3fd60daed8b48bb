"""The processes of a run: several processes or hosts (``--coordinator``, jax.distributed), and Ctrl-C
outside the training loop, which ends the process at once with one line."""

from __future__ import annotations

import contextlib
import sys
from pathlib import Path

from pixie_jax.errors import InputError


def distributed_args(parser):
    group = parser.add_argument_group(
        "several processes (jax.distributed; README, 'Several processes and hosts')",
        "start the same command in every process with its --process-id; under SLURM (or another cluster JAX "
        "detects) set PIXIE_JAX_DISTRIBUTED=1 instead",
    )
    group.add_argument("--coordinator", metavar="HOST:PORT", help="address of process 0")
    group.add_argument("--num-processes", type=int)
    group.add_argument("--process-id", type=int)
    group.add_argument(
        "--heartbeat-timeout",
        type=int,
        default=100,
        metavar="SECONDS",
        help="a process silent this long is taken as dead and the others stop (default: %(default)s)",
    )
    group.add_argument(
        "--startup-timeout",
        type=int,
        default=300,
        metavar="SECONDS",
        help="how long a process waits for all of them to join before it stops (default: %(default)s)",
    )


def check_distributed_args(args) -> None:
    """The multi-process arguments, checked before jax.distributed starts: --coordinator HOST:PORT that
    parses and whose host resolves, --num-processes >= 1, and --process-id in [0, --num-processes)."""
    import os
    import socket

    if not args.coordinator:
        if args.num_processes is not None or args.process_id is not None:
            if not os.environ.get("PIXIE_JAX_DISTRIBUTED"):
                raise InputError(
                    "--num-processes and --process-id need --coordinator HOST:PORT (the address of "
                    "process 0), or PIXIE_JAX_DISTRIBUTED=1 under a cluster JAX detects"
                )
        return
    host, sep, port = args.coordinator.rpartition(":")
    if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise InputError(
            f"--coordinator {args.coordinator!r}: expected HOST:PORT with a port 1-65535, e.g. localhost:12345"
        )
    try:
        socket.getaddrinfo(host.strip("[]"), int(port))
    except (OSError, UnicodeError) as err:
        raise InputError(
            f"--coordinator {args.coordinator!r}: the host {host!r} does not resolve "
            f"({getattr(err, 'strerror', None) or err})"
        ) from None
    if args.num_processes is None or args.process_id is None:
        missing = " and ".join(
            n for n, v in (("--num-processes", args.num_processes), ("--process-id", args.process_id)) if v is None
        )
        raise InputError(
            f"--coordinator needs {missing} too: every process gets the same --num-processes and its "
            f"own --process-id, 0 to N - 1"
        )
    if args.num_processes < 1:
        raise InputError(f"--num-processes must be >= 1, got {args.num_processes}")
    if not 0 <= args.process_id < args.num_processes:
        raise InputError(
            f"--process-id must be 0 to {args.num_processes - 1} (--num-processes "
            f"{args.num_processes}), got {args.process_id}"
        )
    for name in ("heartbeat_timeout", "startup_timeout"):
        if getattr(args, name) < 1:
            raise InputError(f"--{name.replace('_', '-')} must be >= 1 second, got {getattr(args, name)}")


def start_distributed(args) -> None:
    """jax.distributed.initialize from the command line (or from the cluster's environment when
    $PIXIE_JAX_DISTRIBUTED is set); CPU devices of several processes talk through gloo."""
    import os

    if not (args.coordinator or os.environ.get("PIXIE_JAX_DISTRIBUTED")):
        return
    import threading

    import jax

    jax.config.update("jax_cpu_collectives_implementation", "gloo")
    where = f" at {args.coordinator}" if args.coordinator else ""
    print(
        f"process {args.process_id if args.process_id is not None else '?'}: waiting up to {args.startup_timeout} s "
        f"for {args.num_processes or 'all'} processes to join{where}",
        flush=True,
    )

    def give_up():  # jax's own timeout ends in a C++ abort and a stack trace
        sys.stderr.write(
            f"error: process {args.process_id if args.process_id is not None else '?'} waited "
            f"{args.startup_timeout} s for {args.num_processes or 'all'} processes to join{where}; start "
            f"every process (the same command with each --process-id), check that the address is "
            f"reachable from each, or raise --startup-timeout\n"
        )
        sys.stderr.flush()
        os._exit(1)

    timer = threading.Timer(args.startup_timeout, give_up)
    timer.daemon = True
    timer.start()
    jax.distributed.initialize(
        coordinator_address=args.coordinator,
        num_processes=args.num_processes,
        process_id=args.process_id,
        heartbeat_timeout_seconds=args.heartbeat_timeout,
        initialization_timeout=args.startup_timeout + 60,
    )
    timer.cancel()


def interrupted(workdir) -> str:
    """What an interruption outside the training loop leaves: the newest checkpoint, if any. Reads the
    folder itself (no import: it runs in a signal handler, perhaps while jax is being imported)."""
    folder = Path(workdir) / "checkpoints" if workdir else None
    steps = sorted(int(p.name) for p in folder.iterdir() if p.name.isdigit()) if folder and folder.is_dir() else []
    if steps:
        return f"interrupted; the checkpoint of step {steps[-1]:,} in {folder} is kept: run the same command to resume"
    return "interrupted before any checkpoint was written; run the same command to start again"


@contextlib.contextmanager
def interrupts_stop_at_once():
    """Within the block, Ctrl-C outside the training loop (starting up, reading the data, compiling,
    writing the outputs) ends the process at once with one line (:func:`interrupted`) and exit status
    1; the training loop defers it to the end of a chunk of steps (:class:`pixie_jax.training.loop.DeferredInterrupts`).
    Exiting from the handler, not raising, is what makes it reliable: a KeyboardInterrupt raised while
    jax starts up can land in a garbage collector's callback, which swallows it. Yields a dict whose
    'workdir' the caller sets once it is known."""
    import os
    import signal
    import threading

    where = {"workdir": None}

    def handler(signum, frame):
        sys.stdout.flush()
        sys.stderr.write(interrupted(where["workdir"]) + "\n")
        sys.stderr.flush()
        os._exit(1)

    if (
        threading.current_thread() is not threading.main_thread() or signal.getsignal(signal.SIGINT) is signal.SIG_IGN
    ):  # e.g. started with nohup: Ctrl-C stays ignored
        yield where
        return
    previous = signal.signal(signal.SIGINT, handler)
    try:
        yield where
    finally:
        signal.signal(signal.SIGINT, previous)
