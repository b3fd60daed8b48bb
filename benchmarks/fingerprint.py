"""Fingerprints of short runs of every shipped config: sha256 of each embedding array a run writes.

A refactor that must not change what the default runs learn keeps these bit-identical. Each config
trains two calls of its steps on the bundled data (configs/paper.py and paper_literal.py on the bundled
corpus instead of text8); the fingerprint is printed one line a config and array, and written as JSON with --out.
XLA's CPU code may differ between processors, so compare fingerprints taken on one machine;
benchmarks/fingerprints.json holds those of the current code on machine dev-2core.

    python benchmarks/fingerprint.py [--configs pixie sgns ...] [--out fingerprints.json]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

TRAINED = ("pixie", "sgns", "vsgns", "vae", "ivsgns", "ivsgns_nonlinear", "paper", "paper_literal")
SHORT = {"epochs": 0.002, "steps_per_call": 4, "progress": False, "benchmarks": "", "checkpoint_every": 1000}
PAPER_SHORT = {"corpus": "bundled", "sampler.text_centres": 2048, "sampler.visual_centres": 256}
SHORT_BY_CONFIG = {"paper": PAPER_SHORT, "paper_literal": PAPER_SHORT, "vae": {"vae.steps": 8}}


def digest(array) -> str:
    import numpy as np

    a = np.ascontiguousarray(array)
    return hashlib.sha256(a.dtype.str.encode() + str(a.shape).encode() + a.tobytes()).hexdigest()[:16]


def fingerprint(name: str) -> dict:
    """{kind: sha256 prefix} of the arrays of a short run of configs/<name>.py."""
    from pixie_jax import experiment
    from pixie_jax.overrides import load_config, set_value

    config = load_config(name)
    for key, value in {**SHORT, **SHORT_BY_CONFIG.get(name, {})}.items():
        set_value(config, key, value)
    with tempfile.TemporaryDirectory() as workdir:
        result = experiment.run(config, workdir, log=lambda *_: None)
    return {kind: digest(array) for kind, array in sorted(result.arrays.items())}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--configs", nargs="+", default=list(TRAINED), choices=TRAINED)
    parser.add_argument("--out", help="write {config: {kind: sha256}} here")
    args = parser.parse_args(argv)
    prints = {}
    for name in args.configs:
        prints[name] = fingerprint(name)
        for kind, sha in prints[name].items():
            print(f"{name:18s} {kind:6s} {sha}", flush=True)
    if args.out:
        from benchmarks.common import machine

        record = {"machine": machine(), "configs": prints}
        Path(args.out).write_text(json.dumps(record, indent=1) + "\n")


if __name__ == "__main__":
    main()
