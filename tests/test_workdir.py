"""Reliability: the workdir knows its run, one run at a time, metrics and temporaries cleaned on resume,
config values checked before anything is read, unique model names."""

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time

import numpy as np
import pytest
from conftest import tiny_config, train_command, xla_flags

from pixie_jax import experiment, validation
from pixie_jax.evaluate import compare
from pixie_jax.training import loop as train
from pixie_jax.training import workdir as workdir_lib


def quiet(*_):
    pass


def test_resume_with_another_config_or_corpus_is_refused(corpus_file, tmp_path):
    cfg = tiny_config(corpus_file, epochs=0.3)
    experiment.train(cfg, tmp_path / "run", log=quiet)
    with pytest.raises(workdir_lib.WorkdirError, match=r"config seed: 0 -> 1.*another --workdir"):
        experiment.train(tiny_config(corpus_file, epochs=0.3, seed=1), tmp_path / "run", log=quiet)
    with pytest.raises(workdir_lib.WorkdirError, match=r"config sampler.negatives: 4 -> 3"):
        experiment.train(tiny_config(corpus_file, epochs=0.3, **{"sampler.negatives": 3}), tmp_path / "run", log=quiet)
    other = tmp_path / "other.txt"  # same vocabulary, other text
    words = corpus_file.read_text().split()
    other.write_text(" ".join(np.random.default_rng(0).permutation(words)))
    with pytest.raises(workdir_lib.WorkdirError, match=r"data tokens:"):
        experiment.train(tiny_config(other, epochs=0.3), tmp_path / "run", log=quiet)
    # settings that do not change what is trained may differ
    experiment.train(tiny_config(corpus_file, epochs=0.3, checkpoint_every=5), tmp_path / "run", log=quiet)


def test_a_sized_batch_is_recorded_as_trained_and_kept_when_the_run_resumes_longer(corpus_file, tmp_path):
    def sized(epochs, **more):  # 20,000 tokens: 2,048 centres make a pass of 9.8 steps
        return tiny_config(
            corpus_file, epochs=epochs, **{"sampler.text_centres": 0, "sampler.steps_per_run": 8}, **more
        )

    lines = []
    experiment.train(sized(3.0), tmp_path / "run", log=lines.append)  # 29.4 / 8 -> 2^2
    recorded = json.loads((tmp_path / "run" / "run.json").read_text())["config"]
    assert recorded["sampler.text_centres"] == 8192 and recorded["sampler.visual_centres"] == 64
    assert any(line.startswith("the batch sized to the run: 8,192 + 0 centres a step") for line in lines)  # no features
    assert workdir_lib.recorded_batch(tmp_path / "run") == (8192, 64)
    lines.clear()  # twice as long: sized afresh it would be 2^3, but the run keeps its batch
    experiment.train(sized(6.0, resume_with_new_schedule=True), tmp_path / "run", log=lines.append)
    assert any(line.startswith("the batch the resumed run started with: 8,192 + 0") for line in lines)
    assert any("continuing with a new schedule: config epochs: 3.0 -> 6.0" in line for line in lines)
    assert json.loads((tmp_path / "run" / "run.json").read_text())["config"]["sampler.text_centres"] == 8192
    assert workdir_lib.recorded_batch(tmp_path / "fresh") is None  # nothing trained there: sized afresh
    (tmp_path / "started").mkdir()  # a run.json without a checkpoint (stopped before its first): a fresh run
    (tmp_path / "started" / "run.json").write_text((tmp_path / "run" / "run.json").read_text())
    assert workdir_lib.recorded_batch(tmp_path / "started") is None


def test_a_second_run_in_a_busy_workdir_fails_at_once(corpus_file, tmp_path):
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, time\nfrom pixie_jax.training import workdir\n"
            "with workdir.locked(sys.argv[1]):\n    print('locked', flush=True)\n    time.sleep(60)",
            str(tmp_path / "run"),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "locked"
        with pytest.raises(workdir_lib.WorkdirError, match=rf"is in use by another run \(process {holder.pid}\)"):
            experiment.run(tiny_config(corpus_file, epochs=0.3), tmp_path / "run", log=quiet)
    finally:
        holder.kill()
        holder.wait()
    experiment.run(tiny_config(corpus_file, epochs=0.3), tmp_path / "run", log=quiet)  # free again
    with workdir_lib.locked(tmp_path / "run"):  # one holder, even within a process (the experiment locks once)
        with pytest.raises(workdir_lib.WorkdirError, match=rf"is in use by another run \(process {os.getpid()}\)"):
            experiment.train(tiny_config(corpus_file, epochs=0.3), tmp_path / "run", log=quiet)


def test_resume_cuts_metrics_back_and_removes_stale_temporaries(corpus_file, tmp_path):
    cfg = tiny_config(corpus_file, epochs=1.0, checkpoint_every=10, keep_checkpoints=10)
    run = tmp_path / "run"
    experiment.train(cfg, run, log=quiet)
    steps = [json.loads(line)["step"] for line in (run / "metrics.jsonl").read_text().splitlines()]
    kept = sorted(int(p.name) for p in (run / "checkpoints").iterdir() if p.name.isdigit())
    assert len(kept) >= 2
    for step in kept[1:]:  # as if the run had died after its first checkpoint
        shutil.rmtree(run / "checkpoints" / str(step))
    with open(run / "metrics.jsonl", "a") as f:
        f.write('{"loss": 1.0, "st')  # a line cut short by the crash
    (run / ".embeddings.npz.abc123.tmp").write_bytes(b"half written")
    experiment.train(cfg, run, log=quiet)
    again = [json.loads(line)["step"] for line in (run / "metrics.jsonl").read_text().splitlines()]
    assert again == steps  # every step once, in order
    assert not list(run.glob(".*.tmp"))


@pytest.mark.parametrize(
    "key, value, message",
    [
        ("epochs", -1.0, r"epochs = -1.0 \(must be > 0\)"),
        ("sampler.negatives", 0, r"sampler.negatives = 0 \(must be >= 1\)"),
        ("optimizer.learning_rate", -0.1, r"optimizer.learning_rate = -0.1 \(must be >= 0\)"),
        ("model.dim", 0, r"model.dim = 0 \(must be >= 1\)"),
        ("optimizer.adam_b2", 1.0, r"optimizer.adam_b2 = 1.0 \(must be >= 0 and < 1\)"),
        ("steps_per_call", 0, r"steps_per_call = 0 \(must be >= 1\)"),
        ("checkpoint_every", 0, r"checkpoint_every = 0 \(must be >= 1\)"),
        ("noise_power", float("nan"), r"noise_power = nan \(must be a finite number\)"),
        ("subsample", float("nan"), r"subsample = nan \(must be a finite number\)"),
        ("optimizer.learning_rate", float("inf"), r"optimizer.learning_rate = inf \(must be a finite number\)"),
        ("visual_weight", float("-inf"), r"visual_weight = -inf \(must be a finite number\)"),
    ],
)
def test_bad_values_are_refused_before_any_data_is_read(tmp_path, key, value, message):
    cfg = tiny_config(tmp_path / "no such corpus.txt", **{key: value})
    with pytest.raises(validation.ConfigError, match=message):
        experiment.run(cfg, tmp_path / "run", log=quiet)
    assert not (tmp_path / "run").exists()


def test_a_config_of_ones_own_with_a_replaced_setting_is_refused_naming_its_successor(tmp_path):
    cfg = tiny_config(tmp_path / "no such corpus.txt")
    cfg.sampler.steps_per_pass = 1000  # a copy of configs/pixie.py from before the setting was replaced
    with pytest.raises(
        validation.ConfigError,
        match=r"sampler.steps_per_pass is no longer read \(replaced by "
        r"sampler.steps_per_run \(the steps of the whole run",
    ):
        experiment.run(cfg, tmp_path / "run", log=quiet)
    assert not (tmp_path / "run").exists()


@pytest.mark.parametrize(
    "config, key, value, message",
    [
        ("pixie", "model.fusion", "cubic", r"model.fusion = 'cubic' \(must be one of 'additive', 'gated'\)"),
        ("vsgns", "vsgns.model", "C", r"vsgns.model = 'C' \(must be one of 'A', 'B'\)"),
        ("vsgns", "vsgns.negatives", 0, r"vsgns.negatives = 0 \(must be >= 1\)"),
        ("vae", "vae.steps", 0, r"vae.steps = 0 \(must be >= 1\)"),
        ("ivsgns", "ivsgns.map", "cubic", r"ivsgns.map = 'cubic' \(must be one of 'linear', 'nonlinear'\)"),
    ],
)
def test_a_models_own_settings_are_checked_with_the_rest(tmp_path, config, key, value, message):
    """Each model's spec carries the rules of its own section; they are checked before any data is read."""
    cfg = tiny_config(tmp_path / "no such corpus.txt", config=config, **{key: value})
    with pytest.raises(validation.ConfigError, match=message):
        experiment.run(cfg, tmp_path / "run", log=quiet)
    assert not (tmp_path / "run").exists()


def test_two_embeddings_with_one_name_are_refused(tmp_path):
    from pixie_jax.data import embedding_files

    for name in ("a", "b"):
        embedding_files.save_embeddings(tmp_path / "run" / f"{name}.npz", ["x", "y"], [0, 0], e=np.eye(2))
    with pytest.raises(ValueError, match=r"two embeddings are named 'run'.*NAME=FILE"):
        compare.load([str(tmp_path / "run" / "a.npz"), str(tmp_path / "run" / "b.npz")])
    embeddings, _ = compare.load([f"a={tmp_path / 'run' / 'a.npz'}", f"b={tmp_path / 'run' / 'b.npz'}"])
    assert [e.label for e in embeddings] == ["a:e", "b:e"]


def test_more_epochs_on_resume_need_the_explicit_option(corpus_file, tmp_path):
    run = tmp_path / "run"
    experiment.train(tiny_config(corpus_file, epochs=0.3), run, log=quiet)
    first = [json.loads(line)["step"] for line in (run / "metrics.jsonl").read_text().splitlines()]
    longer = tiny_config(corpus_file, epochs=0.6)
    with pytest.raises(workdir_lib.WorkdirError, match=r"epochs: 0.3 -> 0.6.*resume_with_new_schedule=True"):
        experiment.train(longer, run, log=quiet)
    longer.resume_with_new_schedule = True
    lines = []
    experiment.train(longer, run, log=lines.append)
    assert "continuing with a new schedule: config epochs: 0.3 -> 0.6" in lines
    assert any(f"resumed from {run / 'checkpoints'} at step {first[-1]}" in line for line in lines)
    steps = [json.loads(line)["step"] for line in (run / "metrics.jsonl").read_text().splitlines()]
    assert steps[: len(first)] == first and len(steps) > len(first) and steps == sorted(set(steps))
    # the option lets the schedule through, nothing else
    other_seed = tiny_config(corpus_file, epochs=0.9, seed=3, resume_with_new_schedule=True)
    with pytest.raises(workdir_lib.WorkdirError, match=r"config seed: 0 -> 3"):
        experiment.train(other_seed, run, log=quiet)
    # a schedule shorter than what is trained is refused, with nothing recorded
    record = (run / "run.json").read_text()
    shorter = tiny_config(corpus_file, epochs=0.3, resume_with_new_schedule=True)
    with pytest.raises(workdir_lib.WorkdirError, match=rf"holds step {steps[-1]}, beyond the {first[-1]} steps"):
        experiment.train(shorter, run, log=quiet)
    assert (run / "run.json").read_text() == record
    # a damaged run.json is named; a missing one beside checkpoints is refused with the fix
    (run / "run.json").write_text('{"config": {"seed": 0')
    with pytest.raises(workdir_lib.WorkdirError, match=rf"{run / 'run.json'}: not a run record"):
        experiment.train(longer, run, log=quiet)
    (run / "run.json").unlink()
    with pytest.raises(workdir_lib.WorkdirError, match=r"holds checkpoints but no run.json.*Put the run's run.json"):
        experiment.train(tiny_config(corpus_file, epochs=0.6, seed=5, resume_with_new_schedule=True), run, log=quiet)
    assert not (run / "run.json").exists()


def test_two_processes_started_at_once_in_one_workdir(corpus_file, tmp_path):
    """One run gets the workdir, the other stops at once with one line; the winner's records are whole."""
    env = dict(os.environ, XLA_FLAGS=xla_flags(1))
    command = train_command(corpus_file, tmp_path / "run", "--config.epochs=1")
    procs = [
        subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(2)
    ]
    outs = [p.communicate(timeout=300) for p in procs]
    codes = sorted(p.returncode for p in procs)
    assert codes == [0, 1], outs
    loser = outs[[p.returncode for p in procs].index(1)]
    assert loser[1].strip().splitlines() == [loser[1].strip()] and "is in use by another run" in loser[1]
    steps = [json.loads(line)["step"] for line in (tmp_path / "run" / "metrics.jsonl").read_text().splitlines()]
    assert steps == sorted(set(steps)) and steps[0] == 5
    assert (tmp_path / "run" / "embeddings.npz").exists()


def test_ctrl_c_says_at_which_step_it_stopped(corpus_file, tmp_path):
    env = dict(os.environ, XLA_FLAGS=xla_flags(1))
    run = tmp_path / "run"
    # Ctrl-C raises KeyboardInterrupt in bin/train even where the tests run with SIGINT ignored (started
    # in the background, e.g. nohup ... &), which a child would inherit
    restore_ctrl_c = (
        "import runpy, signal, sys; signal.signal(signal.SIGINT, signal.default_int_handler); "
        "sys.argv = sys.argv[1:]; runpy.run_path(sys.argv[0], run_name='__main__')"
    )
    victim = subprocess.Popen(
        [sys.executable, "-c", restore_ctrl_c, *train_command(corpus_file, run)[1:]],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.time() + 120
    while time.time() < deadline and not (
        (run / "checkpoints").exists() and any(p.name.isdigit() for p in (run / "checkpoints").iterdir())
    ):
        time.sleep(0.05)
    victim.send_signal(signal.SIGINT)
    _, err = victim.communicate(timeout=60)
    assert victim.returncode == 1, err
    match = re.fullmatch(
        r"interrupted at step (\d+) of ([\d,]+); the checkpoint of step (\d+) in (.+) is kept: "
        r"run the same command to resume",
        err.strip(),
    )
    assert match, err
    stopped, kept = int(match[1]), int(match[3])
    assert kept >= 10 and stopped >= kept and (run / "checkpoints" / str(kept)).exists()


def test_no_room_for_a_checkpoint_is_one_clear_error(corpus_file, tmp_path, monkeypatch):
    from pixie_jax.training import checkpoints

    free = {"bytes": 10**12}
    monkeypatch.setattr(checkpoints.shutil, "disk_usage", lambda path: shutil._ntuple_diskusage(0, 0, free["bytes"]))
    cfg = tiny_config(corpus_file, epochs=1.0, checkpoint_every=10)
    real = train.PreparedRun.run_chunk

    def filling(self, first, epoch):  # the disk fills up after the first checkpoint
        free["bytes"] = 1000 if first >= 10 else free["bytes"]
        return real(self, first, epoch)

    monkeypatch.setattr(train.PreparedRun, "run_chunk", filling)
    with pytest.raises(checkpoints.CheckpointError, match=r"0.0 MB free on its disk, a checkpoint needs about"):
        experiment.train(cfg, tmp_path / "run", log=quiet)
    assert sorted(p.name for p in (tmp_path / "run" / "checkpoints").iterdir()) == ["10"]
    monkeypatch.setattr(train.PreparedRun, "run_chunk", real)
    with pytest.raises(checkpoints.CheckpointError, match="MB free"):  # checked before anything compiles
        experiment.train(cfg, tmp_path / "other", log=quiet)


def test_the_space_check_uses_the_size_a_checkpoint_takes_and_old_ones_beyond_keep_go_first(
    corpus_file, tmp_path, monkeypatch
):
    from pixie_jax.training import checkpoints

    (tmp_path / "ckpt" / "7").mkdir(parents=True)
    (tmp_path / "ckpt" / "7" / "data").write_bytes(b"x" * 10 * 2**20)  # written compressed: 10 MB on disk
    state = {"table": np.zeros(10 * 2**20 // 4 * 4, np.float32)}  # 40 MB of arrays
    monkeypatch.setattr(checkpoints.shutil, "disk_usage", lambda path: shutil._ntuple_diskusage(0, 0, 30 * 2**20))
    checkpoints.check_space(tmp_path / "ckpt", state, latest=7)  # 10 x 1.1 + 1 MB fits in 30 MB
    with pytest.raises(checkpoints.CheckpointError, match=r"30.0 MB free on its disk, a checkpoint needs about 49.0"):
        checkpoints.check_space(tmp_path / "ckpt", state)  # before any checkpoint: 1.2 x 40 + 1 MB
    monkeypatch.undo()
    run = tmp_path / "run"
    experiment.train(tiny_config(corpus_file, epochs=0.5, checkpoint_every=5, keep_checkpoints=4), run, log=quiet)
    steps = sorted(int(p.name) for p in (run / "checkpoints").iterdir() if p.name.isdigit())
    assert len(steps) == 4
    lines = []
    experiment.train(
        tiny_config(corpus_file, epochs=0.5, checkpoint_every=5, keep_checkpoints=1), run, log=lines.append
    )
    assert [f"removed the checkpoint of step {s} (keep_checkpoints=1)" for s in steps[:-1]] == [
        line for line in lines if line.startswith("removed the checkpoint")
    ]
    assert [p.name for p in (run / "checkpoints").iterdir() if p.name.isdigit()] == [str(steps[-1])]


def test_partial_checkpoints_are_removed_even_when_a_late_writer_adds_one(tmp_path):
    """A writer thread of a failed save that recreates its folder after the first removal is outlasted."""
    import threading
    import types

    from pixie_jax.training import checkpoints

    (tmp_path / "10.orbax-checkpoint-tmp" / "d").mkdir(parents=True)
    late = threading.Timer(0.3, lambda: (tmp_path / "10.orbax-checkpoint-tmp-1" / "d").mkdir(parents=True))
    late.start()
    checkpoints.remove_partials(types.SimpleNamespace(directory=tmp_path), settle=1.0)
    late.join()
    assert list(tmp_path.iterdir()) == []
    (tmp_path / "20").mkdir()  # a finished checkpoint is not a partial one
    checkpoints.remove_partials(types.SimpleNamespace(directory=tmp_path))
    assert [p.name for p in tmp_path.iterdir()] == ["20"]


def test_a_failed_checkpoint_write_is_one_line_and_leaves_nothing_half_written(corpus_file, tmp_path):
    """Writes cut off by the file-size limit (as by a full disk): the message names the step and the
    reason, the partial checkpoint is gone, and the run resumes once the disk has room."""
    env = dict(os.environ, XLA_FLAGS=xla_flags(1), PIXIE_JAX_CACHE=str(tmp_path / "cache"))
    env.pop("JAX_COMPILATION_CACHE_DIR", None)  # jax's own cache writes would hit the limit first
    run = tmp_path / "run"
    limited = [
        sys.executable,
        "-c",
        "import resource, runpy, signal, sys; "
        "signal.signal(signal.SIGXFSZ, signal.SIG_IGN); "
        "resource.setrlimit(resource.RLIMIT_FSIZE, (20000, 20000)); "
        "sys.argv = sys.argv[1:]; runpy.run_path(sys.argv[0], run_name='__main__')",
        *train_command(corpus_file, run, "--config.epochs=0.5")[1:],
    ]
    out = subprocess.run(limited, env=env, capture_output=True, text=True, timeout=300)
    assert out.returncode == 1  # first the token cache cannot be written
    assert re.fullmatch(
        r"error: .*/corpora: cannot write the corpus's token ids \(File too large\); free space "
        r"there, .*--config.corpus_cache=False to keep them in memory\n",
        out.stderr,
    ), out.stderr
    assert not list((tmp_path / "cache" / "corpora").iterdir())
    out = subprocess.run(
        [*limited, "--config.corpus_cache=False"], env=env, capture_output=True, text=True, timeout=300
    )
    assert out.returncode == 1
    assert re.fullmatch(
        r"error: .*cannot write the checkpoint of step 10 \(File too large, errno 27\); no earlier "
        r"checkpoint exists\. .*\n",
        out.stderr,
    ), out.stderr  # one line: no writer-thread tracebacks
    assert not list((run / "checkpoints").glob("*tmp*")) and not (run / "embeddings.npz").exists()
    subprocess.run(train_command(corpus_file, run, "--config.epochs=0.5"), env=env, check=True, capture_output=True)
    assert (run / "embeddings.npz").exists()


def test_a_run_recorded_before_a_setting_was_added_resumes_only_with_its_earlier_value(tmp_path):
    data = {"vocabulary": "v", "tokens": "t", "features": "f"}
    old = {"config": {"seed": 0}, "data": data}  # recorded before sampler.shuffle existed
    (tmp_path / "run.json").write_text(json.dumps(old))
    now = {"config": {"seed": 0, "sampler.shuffle": False}, "data": data}
    assert workdir_lib.check_and_record(tmp_path, now, resuming=True) == []
    (tmp_path / "run.json").write_text(json.dumps(old))
    changed = {"config": {"seed": 0, "sampler.shuffle": True}, "data": data}
    with pytest.raises(workdir_lib.WorkdirError, match="config sampler.shuffle: False -> True"):
        workdir_lib.check_and_record(tmp_path, changed, resuming=True)
    unknown = {"config": {"seed": 0, "sampler.unheard_of": 1}, "data": data}  # not a known addition: compared
    with pytest.raises(workdir_lib.WorkdirError, match="config sampler.unheard_of: None -> 1"):
        workdir_lib.check_and_record(tmp_path, unknown, resuming=True)


@pytest.mark.parametrize(
    "recorded, refused",
    [
        ({"sampler.corpus_order": False, "sampler.corpus_streams": False, "optimizer.row_cap": 16.0}, None),
        ({"sampler.corpus_order": True}, "sampler.corpus_order = True"),
        ({"sampler.corpus_streams": True}, "sampler.corpus_streams = True"),
        (
            {"optimizer.name": "capped_sgd", "optimizer.row_cap": 8.0},
            "optimizer.row_cap = 8.0, optimizer.name = 'capped_sgd'",
        ),
        ({"optimizer.name": "row_adam"}, "optimizer.name = 'row_adam'"),
    ],
)
def test_a_run_recorded_with_a_removed_option_resumes_only_at_its_old_default(tmp_path, recorded, refused):
    data = {"vocabulary": "v", "tokens": "t", "features": "f"}
    (tmp_path / "run.json").write_text(
        json.dumps({"config": {"seed": 0, "optimizer.name": "adam"} | recorded, "data": data})
    )
    now = {"config": {"seed": 0, "optimizer.name": "adam"}, "data": data}
    if refused is None:
        assert workdir_lib.check_and_record(tmp_path, now, resuming=True) == []
        return
    with pytest.raises(
        workdir_lib.WorkdirError,
        match=rf"records a run trained with {re.escape(refused)}, which "
        r"this version of pixie-jax no longer has",
    ):
        workdir_lib.check_and_record(tmp_path, now, resuming=True)


def test_a_config_of_ones_own_holding_a_removed_option_is_refused(tmp_path):
    from pixie_jax.overrides import load_config

    config = load_config("pixie")
    config.sampler.corpus_order = True
    with pytest.raises(
        validation.ConfigError,
        match=r"sampler.corpus_order is no longer read \(removed: centres in "
        r"corpus order collapse a batched trainer",
    ):
        experiment.check(config)
    config = load_config("pixie")
    config.optimizer.name = "row_adam"
    with pytest.raises(validation.ConfigError, match=r"optimizer.name = 'row_adam' \(must be one of 'adam', "):
        experiment.check(config)


def test_a_models_own_length_may_change_only_with_a_new_schedule(tmp_path):
    data = {"vocabulary": "v", "tokens": "t", "features": "f"}
    (tmp_path / "run.json").write_text(json.dumps({"config": {"epochs": 1.0, "vae.steps": 100}, "data": data}))
    longer = {"config": {"epochs": 1.0, "vae.steps": 200}, "data": data}
    with pytest.raises(workdir_lib.WorkdirError, match=r"vae.steps: 100 -> 200\); .*resume_with_new_schedule=True"):
        workdir_lib.check_and_record(tmp_path, longer, resuming=True, new_schedule=False, length_keys=("vae.steps",))
    with pytest.raises(workdir_lib.WorkdirError, match=r"vae.steps: 100 -> 200"):  # not this model's length
        workdir_lib.check_and_record(tmp_path, longer, resuming=True, new_schedule=True)
    assert workdir_lib.check_and_record(
        tmp_path, longer, resuming=True, new_schedule=True, length_keys=("vae.steps",)
    ) == ["config vae.steps: 100 -> 200"]
    assert json.loads((tmp_path / "run.json").read_text())["config"]["vae.steps"] == 200


def test_a_run_started_before_a_default_changed_resumes_with_its_recorded_default(corpus_file, tmp_path, monkeypatch):
    """A default the configs changed (workdir.CHANGED_DEFAULTS) does not strand older runs: resumed with the
    present default, a run recorded with the former keeps the former, and says so; a value given on
    purpose that is neither is still refused."""
    experiment.train(tiny_config(corpus_file, epochs=0.3, **{"sampler.window": 3}), tmp_path / "run", log=quiet)
    now = tiny_config(corpus_file, epochs=0.3, **{"sampler.window": 2})
    with pytest.raises(workdir_lib.WorkdirError, match=r"config sampler.window: 3 -> 2"):
        experiment.train(now, tmp_path / "run", log=quiet)
    monkeypatch.setattr(workdir_lib, "CHANGED_DEFAULTS", {"sampler.window": (3, 2)})
    lines = []
    experiment.train(now, tmp_path / "run", log=lines.append)
    assert any("keeping sampler.window = 3 as recorded in" in line for line in lines), lines
    record = json.loads((tmp_path / "run" / "run.json").read_text())
    assert record["config"]["sampler.window"] == 3
    with pytest.raises(workdir_lib.WorkdirError, match=r"config sampler.window: 3 -> 4"):
        experiment.train(tiny_config(corpus_file, epochs=0.3, **{"sampler.window": 4}), tmp_path / "run", log=quiet)


def test_a_run_recorded_with_the_former_window_and_threshold_resumes_with_them(tmp_path):
    """The shipped defaults moved to window 5 and threshold 3e-4 (workdir.CHANGED_DEFAULTS): a run.json of
    an older run, recorded with window 10 and 1e-3, resumes with those under today's configs/pixie.py."""
    from pixie_jax.overrides import get_value, load_config

    config = load_config("pixie")
    assert {k: get_value(config, k) for k in workdir_lib.CHANGED_DEFAULTS} == {
        k: now for k, (_, now) in workdir_lib.CHANGED_DEFAULTS.items()
    }
    (tmp_path / "checkpoints" / "200").mkdir(parents=True)
    record = {"config": {"sampler.window": 10, "subsample": 0.001}, "data": {}}
    (tmp_path / "run.json").write_text(json.dumps(record))
    lines = []
    resumed = workdir_lib.recorded_defaults(config, tmp_path, lines.append)
    assert (resumed.sampler.window, resumed.subsample) == (10, 0.001)
    assert (config.sampler.window, config.subsample) == (5, 3e-4)  # the caller's config is left as it is
    assert lines == [
        "resuming a run started with an earlier version's defaults: keeping sampler.window = 10, "
        f"subsample = 0.001 as recorded in {tmp_path / 'run.json'}"
    ]
