"""Training in several processes (jax.distributed, CPU devices talking through gloo): two processes of
two devices each give the parameters of one process of four devices, resume from their checkpoints,
and stop when one of them dies."""

import os
import signal
import socket
import subprocess
import sys
import time

import numpy as np
import pytest
from conftest import ROOT, features_file, topic_corpus, xla_flags

from pixie_jax.data import vocab


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def setup(tmp_path):
    corpus = tmp_path / "corpus.txt"
    corpus.write_text(topic_corpus())
    words = vocab.build_vocab(topic_corpus(), 1).words
    feats = features_file(tmp_path, [w for w in words if w.endswith(("wa", "wb", "wc"))])
    return corpus, feats


def command(corpus, feats, workdir, epochs, *extra):
    """bin/train of a small PIXIE (the encoder and decoder train too), constant learning rate, a checkpoint
    every 10 steps (a later ``--config.checkpoint_every`` in ``extra`` wins)."""
    return [
        sys.executable,
        str(ROOT / "bin" / "train"),
        "--config",
        str(ROOT / "configs" / "pixie.py"),
        f"--workdir={workdir}",
        f"--config.corpus={corpus}",
        f"--config.features={feats}",
        "--config.min_count=1",
        "--config.subsample=0",
        "--config.model.dim=8",
        "--config.model.hidden=16",
        "--config.model.features=6",
        "--config.sampler.window=3",
        "--config.sampler.contexts_per_centre=2",
        "--config.sampler.negatives=4",
        "--config.sampler.text_centres=64",
        "--config.sampler.visual_centres=16",
        "--config.sampler.visual_words=8",
        "--config.steps_per_call=5",
        "--config.checkpoint_every=10",
        f"--config.epochs={epochs}",
        "--config.optimizer.schedule=constant",
        "--config.progress=False",
        "--config.benchmarks=",
        "--config.embedding=e",
        *extra,
    ]


def start(cmd, devices, **kw):
    env = dict(os.environ, XLA_FLAGS=xla_flags(devices))
    return subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **kw)


def two_processes(cmd, other=None):
    """``cmd`` as processes 0 and 1 of a 2-process run with 2 CPU devices each (``other``, if given, is
    process 1's command)."""
    port = free_port()
    return [
        start(
            [
                *(other if i and other else cmd),
                f"--coordinator=127.0.0.1:{port}",
                "--num-processes=2",
                f"--process-id={i}",
                "--heartbeat-timeout=10",
            ],
            2,
        )
        for i in range(2)
    ]


def finish(procs, timeout=300):
    outs = [p.communicate(timeout=timeout) for p in procs]
    for p, (_out, err) in zip(procs, outs):
        assert p.returncode == 0, err[-3000:]
    return outs


def arrays(workdir):
    with np.load(workdir / "embeddings.npz") as z:
        return {k: z[k] for k in ("e", "v", "mu")}


@pytest.mark.parametrize(
    "tables, optimizer, resume",
    [("replicated", "adam", True), ("sharded", "adam", True), ("sharded", "sparse_sgd", False)],
)
def test_two_processes_of_two_devices_equal_one_of_four_and_resume(setup, tmp_path, tables, optimizer, resume):
    """Two processes of two devices train the parameters of one process of four devices (tables
    replicated) trained straight through, with the tables of the two processes replicated or sharded by
    rows over the four devices of both. With ``resume``, the two processes train half the run, then
    resume from their checkpoints to the full length."""
    corpus, feats = setup
    rate = {"adam": "0.01", "sparse_sgd": "0.025"}[optimizer]
    settings = (
        "--config.checkpoint_every=100000",  # each run's last step only: the half run's is resumed
        f"--config.optimizer.name={optimizer}",
        f"--config.optimizer.learning_rate={rate}",
    )
    one = start(command(corpus, feats, tmp_path / "one", 0.4, *settings, "--config.shard_tables=off"), 4)
    settings += (f"--config.shard_tables={'on' if tables == 'sharded' else 'off'}",)
    first = 0.2 if resume else 0.4
    outs = finish(two_processes(command(corpus, feats, tmp_path / "two", first, *settings)) + [one])
    assert "on 4 cpu device(s) in 2 processes" in outs[0][0]
    assert ("row tables e, v sharded by rows over 4 device(s)" in outs[0][0]) == (tables == "sharded")
    if resume:
        again = command(corpus, feats, tmp_path / "two", 0.4, *settings, "--config.resume_with_new_schedule=True")
        outs = finish(two_processes(again))
        assert "resumed from" in outs[0][0] + outs[0][1] and "resumed from" in outs[1][0] + outs[1][1]
    one, two = arrays(tmp_path / "one"), arrays(tmp_path / "two")
    for kind in one:
        np.testing.assert_allclose(two[kind], one[kind], rtol=1e-4, atol=1e-5)
        assert np.abs(one[kind]).max() > 0.1
    # one writer: a line per chunk, as in the single process
    lines = (tmp_path / "two" / "metrics.jsonl").read_text().splitlines()
    assert len(lines) == len(set(lines)) == len((tmp_path / "one" / "metrics.jsonl").read_text().splitlines())


def test_when_one_process_dies_the_other_stops(setup, tmp_path):
    corpus, feats = setup
    procs = two_processes(command(corpus, feats, tmp_path / "run", 50))
    ckpt = tmp_path / "run" / "checkpoints"
    deadline = time.time() + 180
    while time.time() < deadline and not (ckpt.exists() and any(p.name.isdigit() for p in ckpt.iterdir())):
        time.sleep(0.1)
    procs[1].send_signal(signal.SIGKILL)
    t0 = time.time()
    _, err = procs[0].communicate(timeout=120)
    assert procs[0].returncode == 1 and time.time() - t0 < 90
    lines = err.strip().splitlines()
    assert lines[-1].startswith("error: process 0 stopped: the run lost another of its processes"), err[-3000:]
    assert not any(line.startswith(("Traceback", "*** Check failure")) for line in lines), err[-3000:]
    log = (tmp_path / "run" / "process0.error.log").read_text()
    assert "heartbeat" in log or "another task died" in log or "gloo" in log.lower(), log[-2000:]
    procs[1].communicate()


def test_a_process_left_alone_at_startup_stops_after_its_timeout_with_one_line(setup, tmp_path):
    corpus, feats = setup
    port = free_port()
    t0 = time.time()
    alone = start(
        [
            *command(corpus, feats, tmp_path / "run", 1),
            f"--coordinator=127.0.0.1:{port}",
            "--num-processes=2",
            "--process-id=0",
            "--startup-timeout=5",
        ],
        1,
    )
    out, err = alone.communicate(timeout=120)
    assert alone.returncode == 1 and time.time() - t0 < 60
    assert f"waiting up to 5 s for 2 processes to join at 127.0.0.1:{port}" in out
    assert err.strip().splitlines() == [
        f"error: process 0 waited 5 s for 2 processes to join at 127.0.0.1:{port}; "
        f"start every process (the same command with each --process-id), check that "
        f"the address is reachable from each, or raise --startup-timeout"
    ]


@pytest.mark.parametrize(
    "extra, named",
    [
        ("--config.epochs=0.4", "config epochs is 0.4 in process 1 but 0.2 in process 0"),
        ("--config.checkpoint_every=20", "config checkpoint_every is 20 in process 1 but 10 in process 0"),
    ],
)
def test_processes_started_with_different_settings_stop_at_once_naming_the_setting(setup, tmp_path, extra, named):
    """Each process gets the same one line and exits 1, before anything trains (they hung before)."""
    corpus, feats = setup
    cmd = command(corpus, feats, tmp_path / "run", 0.2)
    procs = two_processes(cmd, [*cmd, extra])
    for p in procs:
        _, err = p.communicate(timeout=120)
        assert p.returncode == 1, err[-3000:]
        assert err.strip().splitlines()[-1] == (
            f"error: the 2 processes of this run were started with different settings: {named}. Start every "
            f"process with the same command (only --process-id differs)"
        ), err[-3000:]
    assert not (tmp_path / "run" / "checkpoints").exists()
