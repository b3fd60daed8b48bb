"""A run's curves where JAX users look at them: TensorBoard event files beside metrics.jsonl (tensorboardX
installed), with each chunk's scalars and the run's similarity scores, cut back on resume."""

import struct

import pytest
from conftest import tiny_config

from pixie_jax import experiment
from pixie_jax.evaluate.similarity import Score
from pixie_jax.training import metrics_log

pytest.importorskip("tensorboardX")


def scalars(folder) -> dict:
    """{tag: [(step, value), ...]} of every event file in ``folder`` (TFRecord framing, Event protos)."""
    from tensorboardX.proto import event_pb2

    out = {}
    for path in sorted(folder.glob("events.out.tfevents.*")):
        data = path.read_bytes()
        pos = 0
        while pos < len(data):
            (length,) = struct.unpack("<Q", data[pos : pos + 8])
            event = event_pb2.Event.FromString(data[pos + 12 : pos + 12 + length])
            pos += 12 + length + 4
            for value in event.summary.value:
                out.setdefault(value.tag, []).append((event.step, value.simple_value))
    return out


def test_a_run_writes_its_curves_and_scores_for_tensorboard(corpus_file, tmp_path):
    run = tmp_path / "run"
    experiment.train(tiny_config(corpus_file, epochs=0.2), run, log=lambda *_: None)
    curves = scalars(run / metrics_log.FOLDER)
    steps = [s for s, _ in curves["train/loss"]]
    assert steps == sorted(steps) and steps[-1] == metrics_log.last_step(run) > 0
    assert {"train/loss", "train/pairs_per_s", "train/epoch"} <= set(curves)
    metrics_log.log_scores(
        run, {"e": [Score("EN-MEN-TR-3k", "all", 0.5, 10, 20), Score("X", "all", float("nan"), 1, 2)]}
    )
    curves = scalars(run / metrics_log.FOLDER)
    assert curves["similarity/e/all/EN-MEN-TR-3k"] == [(steps[-1], 0.5)] and "similarity/e/all/X" not in curves
