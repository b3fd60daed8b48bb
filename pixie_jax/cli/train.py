"""``bin/train`` (``pixie-train``) and ``bin/cache`` (``pixie-cache``): train a config, list or prune
the token cache."""

from __future__ import annotations

import argparse
import sys

from pixie_jax.cli.arguments import config_parser, parse_config
from pixie_jax.cli.processes import (
    check_distributed_args,
    distributed_args,
    interrupted,
    interrupts_stop_at_once,
    start_distributed,
)
from pixie_jax.cli.running import command, quiet


@command
def train_main(argv=None):
    with interrupts_stop_at_once() as where:
        parser = config_parser(
            "Train PIXIE or a baseline (config.model.name) and write its embeddings.",
            "a config file, e.g. configs/pixie.py",
            "runs/default",
        )
        distributed_args(parser)
        args, config = parse_config(parser, argv)
        where["workdir"] = args.workdir
        check_distributed_args(args)
        import os

        if (args.coordinator or os.environ.get("PIXIE_JAX_DISTRIBUTED")) and not os.environ.get("PIXIE_JAX_SUPERVISED"):
            from pixie_jax.cli import supervise  # the process runs as a child, so that losing another ends in one line

            sys.exit(
                supervise.supervise(
                    sys.argv[1:] if argv is None else list(argv),
                    "?" if args.process_id is None else str(args.process_id),
                    args.workdir,
                )
            )
        quiet()
        start_distributed(args)
        from pixie_jax import experiment

        try:
            experiment.run_and_write(config, args.workdir, given=args.given)
        except KeyboardInterrupt as err:
            # what was trained is written and closed: end now, so that a second Ctrl-C cannot land in the
            # interpreter's shutdown (where it kills the process with SIGINT)
            sys.stdout.flush()
            sys.stderr.write(f"{err.args[0] if err.args else interrupted(args.workdir)}\n")
            sys.stderr.flush()
            os._exit(1)


@command
def cache_main(argv=None):
    parser = argparse.ArgumentParser(
        description="List the token cache (a corpus's vocabulary and token ids, one entry per corpus and "
        "vocabulary settings, about 4 bytes a token) and remove what no run can use any more."
    )
    parser.add_argument("--cache-dir", help="default: $PIXIE_JAX_CACHE, else ~/.cache/pixie-jax")
    action = parser.add_mutually_exclusive_group()
    action.add_argument(
        "--remove-stale",
        action="store_true",
        help="remove the entries whose corpus changed or is gone, of another version, or half built",
    )
    action.add_argument("--clear", action="store_true", help="remove every entry (the next run rebuilds its own)")
    args = parser.parse_args(argv)
    from pixie_jax.data import download, tokens

    root = download.cache_dir(args.cache_dir, create=False) / "corpora"
    if not root.parent.is_dir():
        print(f"{root.parent}: no such folder, so no cache there yet (a run makes it)")
        return
    entries = tokens.cache_entries(args.cache_dir)
    if args.clear or args.remove_stale:
        gone = [e for e in entries if args.clear or e.stale]
        freed = tokens.remove_entries(gone)
        print(f"removed {len(gone)} of {len(entries)} entries from {root}, {freed / 1e6:,.1f} MB")
        return
    print(f"{root}: {len(entries)} entries, {sum(e.bytes for e in entries) / 1e6:,.1f} MB")
    for e in entries:
        print(
            f"  {e.folder.name}  {e.bytes / 1e6:10,.1f} MB  {e.source or '?'}"
            + (f"  (stale: {e.stale})" if e.stale else "")
        )
    if any(e.stale for e in entries):
        print("remove the stale ones with --remove-stale")
