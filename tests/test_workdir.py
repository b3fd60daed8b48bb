"""Reliability: the workdir knows its run, one run at a time, metrics and temporaries cleaned on resume,
config values checked before anything is read, unique model names."""
import json
import shutil

import numpy as np
import pytest
from conftest import tiny_config

from pixie_jax import experiment, train, validation, workdir as workdir_lib
from pixie_jax.evaluate import compare


def quiet(*_):
    pass


def test_resume_with_another_config_or_corpus_is_refused(corpus_file, tmp_path):
    cfg = tiny_config(corpus_file, epochs=0.3)
    train.train(cfg, tmp_path / "run", log=quiet)
    with pytest.raises(workdir_lib.WorkdirError, match=r"config seed: 0 -> 1.*another --workdir"):
        train.train(tiny_config(corpus_file, epochs=0.3, seed=1), tmp_path / "run", log=quiet)
    with pytest.raises(workdir_lib.WorkdirError, match=r"config sampler.negatives: 4 -> 3"):
        train.train(tiny_config(corpus_file, epochs=0.3, **{"sampler.negatives": 3}), tmp_path / "run", log=quiet)
    other = tmp_path / "other.txt"  # same vocabulary, other text
    words = corpus_file.read_text().split()
    other.write_text(" ".join(np.random.default_rng(0).permutation(words)))
    with pytest.raises(workdir_lib.WorkdirError, match=r"data tokens:"):
        train.train(tiny_config(other, epochs=0.3), tmp_path / "run", log=quiet)
    # settings that do not change what is trained may differ
    train.train(tiny_config(corpus_file, epochs=0.3, checkpoint_every=5), tmp_path / "run", log=quiet)


def test_a_second_run_in_a_busy_workdir_fails_at_once(corpus_file, tmp_path):
    with workdir_lib.locked(tmp_path / "run"):
        with pytest.raises(workdir_lib.WorkdirError, match="is in use by another run"):
            train.train(tiny_config(corpus_file, epochs=0.3), tmp_path / "run", log=quiet)
    train.train(tiny_config(corpus_file, epochs=0.3), tmp_path / "run", log=quiet)  # free again


def test_resume_cuts_metrics_back_and_removes_stale_temporaries(corpus_file, tmp_path):
    cfg = tiny_config(corpus_file, epochs=1.0, checkpoint_every=10, keep_checkpoints=10)
    run = tmp_path / "run"
    train.train(cfg, run, log=quiet)
    steps = [json.loads(line)["step"] for line in (run / "metrics.jsonl").read_text().splitlines()]
    kept = sorted(int(p.name) for p in (run / "checkpoints").iterdir() if p.name.isdigit())
    assert len(kept) >= 2
    for step in kept[1:]:  # as if the run had died after its first checkpoint
        shutil.rmtree(run / "checkpoints" / str(step))
    with open(run / "metrics.jsonl", "a") as f:
        f.write('{"loss": 1.0, "st')  # a line cut short by the crash
    (run / ".embeddings.npz.abc123.tmp").write_bytes(b"half written")
    train.train(cfg, run, log=quiet)
    again = [json.loads(line)["step"] for line in (run / "metrics.jsonl").read_text().splitlines()]
    assert again == steps  # every step once, in order
    assert not list(run.glob(".*.tmp"))


@pytest.mark.parametrize("key, value, message", [
    ("epochs", -1.0, r"epochs = -1.0 \(must be > 0\)"),
    ("sampler.negatives", 0, r"sampler.negatives = 0 \(must be >= 1\)"),
    ("optimizer.learning_rate", -0.1, r"optimizer.learning_rate = -0.1 \(must be > 0\)"),
    ("model.dim", 0, r"model.dim = 0 \(must be >= 1\)"),
    ("steps_per_call", 0, r"steps_per_call = 0 \(must be >= 1\)"),
    ("checkpoint_every", 0, r"checkpoint_every = 0 \(must be >= 1\)"),
])
def test_bad_values_are_refused_before_any_data_is_read(tmp_path, key, value, message):
    cfg = tiny_config(tmp_path / "no such corpus.txt", **{key: value})
    with pytest.raises(validation.ConfigError, match=message):
        experiment.run(cfg, tmp_path / "run", log=quiet)
    assert not (tmp_path / "run").exists()


def test_two_embeddings_with_one_name_are_refused(tmp_path):
    from pixie_jax import io
    for name in ("a", "b"):
        io.save_embeddings(tmp_path / "run" / f"{name}.npz", ["x", "y"], [0, 0], e=np.eye(2))
    with pytest.raises(ValueError, match=r"two embeddings are named 'run'.*NAME=FILE"):
        compare.load([str(tmp_path / "run" / "a.npz"), str(tmp_path / "run" / "b.npz")])
    embeddings, _ = compare.load([f"a={tmp_path / 'run' / 'a.npz'}", f"b={tmp_path / 'run' / 'b.npz'}"])
    assert [e.label for e in embeddings] == ["a:e", "b:e"]
