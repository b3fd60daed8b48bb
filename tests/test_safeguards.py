"""A run that keeps what it trained: checkpoints verified on resume, a divergence stopped without a NaN,
Ctrl-C keeping the current step, explicit settings never replaced by recorded ones, a finished run that
rewrites its outputs without room for a checkpoint, processes of one run that must agree."""

import json
import shutil
from pathlib import Path

import jax
import numpy as np
import pytest
from conftest import tiny_config

from pixie_jax import experiment
from pixie_jax.training import checkpoints, processes
from pixie_jax.training import loop as train
from pixie_jax.training import workdir as workdir_lib


def quiet(*_):
    pass


def steps(run: Path) -> list[int]:
    return sorted(int(p.name) for p in (run / "checkpoints").iterdir() if p.name.isdigit())


def assert_same(a, b) -> None:
    """Two parameter trees, equal bit for bit."""
    for x, y in zip(jax.tree.leaves(a), jax.tree.leaves(b), strict=True):
        np.testing.assert_array_equal(np.asarray(x), np.asarray(y))


def damage(folder: Path, count: int = 100) -> Path:
    """Flip ``count`` bytes in the middle of the largest file under ``folder``."""
    target = max((p for p in folder.rglob("*") if p.is_file()), key=lambda p: p.stat().st_size)
    data = bytearray(target.read_bytes())
    middle = len(data) // 2
    for i in range(middle, min(middle + count, len(data))):
        data[i] ^= 0xFF
    target.write_bytes(bytes(data))
    return target


def test_a_damaged_checkpoint_is_skipped_for_the_last_that_verifies(corpus_file, tmp_path):
    """100 bytes flipped in the newest checkpoint: the resume says so in one line, moves it aside, continues
    from the one before and ends bit-identical to a run never damaged; a state that does not match its
    checksum is refused even where orbax reads it."""
    cfg = tiny_config(corpus_file, epochs=1.0, checkpoint_every=10)
    whole, _ = experiment.train(cfg, tmp_path / "whole", log=quiet)
    run = tmp_path / "run"
    experiment.train(cfg, run, log=quiet)
    last = steps(run)[-1]
    assert (run / "checkpoints" / str(last) / checkpoints.CHECKSUM).exists()
    damage(run / "checkpoints" / str(last))
    lines = []
    resumed, _ = experiment.train(cfg, run, log=lines.append)
    damaged = [line for line in lines if "is damaged" in line]
    assert len(damaged) == 1, lines
    earlier = steps(tmp_path / "whole")[-2]
    assert damaged[0].startswith(f"the checkpoint of step {last} is damaged (")
    assert damaged[0].endswith(f"moved to {run / 'checkpoints' / 'damaged' / str(last)}; resuming from step {earlier}")
    assert (run / "checkpoints" / "damaged" / str(last)).is_dir() and steps(run)[-1] == last  # written again
    assert_same(resumed, whole)

    state = {"e": np.arange(6.0, dtype=np.float32).reshape(2, 3)}
    folder = tmp_path / "ckpt"
    (folder / "7").mkdir(parents=True)
    checkpoints.write_checksum(folder, 7, state)
    checkpoints.verify(folder, 7, state)
    state["e"][1, 2] = 0.5
    with pytest.raises(checkpoints.CheckpointError, match="do not match the checksum written with them"):
        checkpoints.verify(folder, 7, state)


def test_when_no_checkpoint_verifies_the_run_starts_afresh_and_says_so(corpus_file, tmp_path):
    cfg = tiny_config(corpus_file, epochs=0.3, checkpoint_every=1000)
    run = tmp_path / "run"
    first, _ = experiment.train(cfg, run, log=quiet)
    (only,) = steps(run)
    (run / "checkpoints" / str(only) / checkpoints.CHECKSUM).write_text('{"sha256": "0"}')
    lines = []
    again, _ = experiment.train(cfg, run, log=lines.append)
    assert any(f"step {only} is damaged" in line and "starting afresh" in line for line in lines), lines
    assert_same(again, first)


def test_a_loss_that_diverges_without_a_nan_stops_the_run(corpus_file, tmp_path):
    cfg = tiny_config(corpus_file, epochs=3.0, checkpoint_every=5, **{"optimizer.learning_rate": 1e12})
    with pytest.raises(train.TrainingError) as info:
        experiment.train(cfg, tmp_path / "run", log=quiet)
    message = str(info.value)
    assert message.startswith("the loss diverged: ") and "Lower the learning rate" in message, message
    assert not (tmp_path / "run" / "embeddings.npz").exists()
    # no checkpoint holds a loss out of bounds: whatever is kept was written while the loss was within them
    records = [json.loads(line) for line in (tmp_path / "run" / "metrics.jsonl").read_text().splitlines()]
    bound = records[0]["loss"] * 10
    kept = steps(tmp_path / "run") if (tmp_path / "run" / "checkpoints").exists() else []
    for step in kept:
        assert next(r["loss"] for r in records if r["step"] == step) < bound


def test_the_divergence_guard_counts_a_stretch_and_forgives_a_recovery():
    guard = train.DivergenceGuard(factor=10.0, stretch=3)
    assert guard.update(0, [4.0, 3.9]) and guard.bound() == pytest.approx(44.0)
    assert not guard.update(5, [50.0, 60.0]) and guard.over == 1
    assert guard.update(10, [3.0, 3.0]) and guard.over == 0  # back within: the count starts again
    for i, first in enumerate((15, 20, 25), start=1):
        assert not guard.update(first, [1e20, 1e20]) and guard.over == i
    assert "from step 15" in guard.describe(30) and "against 4 at step 0" in guard.describe(30)
    negative = train.DivergenceGuard()  # a loss below zero (a Gaussian ELBO) has a bound of its own scale
    assert negative.update(0, [-200.0]) and negative.bound() == pytest.approx(1800.0)


def test_ctrl_c_keeps_the_step_it_stopped_at(corpus_file, tmp_path, monkeypatch):
    cfg = tiny_config(corpus_file, epochs=1.0, checkpoint_every=1000)
    real = train.PreparedRun.run_chunk

    def interrupted(self, first, epoch):
        if first == 15:
            raise KeyboardInterrupt  # as DeferredInterrupts.check raises it between chunks
        return real(self, first, epoch)

    monkeypatch.setattr(train.PreparedRun, "run_chunk", interrupted)
    with pytest.raises(train.Interrupted, match=r"interrupted at step 15 of [\d,]+; the checkpoint of step 15 in"):
        experiment.train(cfg, tmp_path / "run", log=quiet)
    assert steps(tmp_path / "run") == [15]
    monkeypatch.setattr(train.PreparedRun, "run_chunk", real)
    resumed, _ = experiment.train(cfg, tmp_path / "run", log=quiet)
    whole, _ = experiment.train(cfg, tmp_path / "whole", log=quiet)
    assert_same(resumed, whole)


def test_explicit_settings_are_never_replaced_by_a_runs_recorded_former_defaults(corpus_file, tmp_path, monkeypatch):
    experiment.train(tiny_config(corpus_file, epochs=0.3, **{"sampler.window": 3}), tmp_path / "run", log=quiet)
    monkeypatch.setattr(workdir_lib, "CHANGED_DEFAULTS", {"sampler.window": (3, 2)})
    now = tiny_config(corpus_file, epochs=0.3, **{"sampler.window": 2})
    with pytest.raises(workdir_lib.WorkdirError, match=r"config sampler.window: 3 -> 2"):
        experiment.train(now, tmp_path / "run", log=quiet, given=("sampler.window",))


def test_a_finished_run_rewrites_its_outputs_without_room_for_a_checkpoint(corpus_file, tmp_path, monkeypatch):
    cfg = tiny_config(corpus_file, epochs=0.3)
    experiment.run_and_write(cfg, tmp_path / "run", log=quiet)
    (tmp_path / "run" / "embeddings.npz").unlink()
    monkeypatch.setattr(checkpoints.shutil, "disk_usage", lambda path: shutil._ntuple_diskusage(0, 0, 1000))
    experiment.run_and_write(cfg, tmp_path / "run", log=quiet)
    assert (tmp_path / "run" / "embeddings.npz").exists()


def test_the_processes_of_a_run_name_the_first_setting_they_differ_in():
    ours = {"config": {"seed": 0, "epochs": 1.0, "progress": True, "corpus": "/a"}, "data": {"tokens": "5 ids, ab"}}
    same = {"config": {"seed": 0, "epochs": 1.0, "progress": False, "corpus": "/b"}, "data": {"tokens": "5 ids, ab"}}
    assert processes.first_difference([ours, same]) is None  # what each host shows or reads its files from
    longer = json.loads(json.dumps(same))
    longer["config"]["epochs"] = 2.0
    assert processes.first_difference([ours, same, longer]) == "config epochs is 2.0 in process 2 but 1.0 in process 0"
    other_data = json.loads(json.dumps(same))
    other_data["data"]["tokens"] = "5 ids, cd"
    assert processes.first_difference([ours, other_data]) == (
        "the data's tokens is '5 ids, cd' in process 1 but '5 ids, ab' in process 0"
    )
    extra = json.loads(json.dumps(same))
    extra["config"]["vsgns.gamma"] = 0.3
    assert "config vsgns.gamma is 0.3 in process 1 but '(absent)' in process 0" == processes.first_difference(
        [ours, extra]
    )
