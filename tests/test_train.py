"""Training end to end on small generated data: learning, data parallelism, exact resume, failures."""

import math
import os
import signal
import subprocess
import sys
import time

import jax
import numpy as np
import pytest
from conftest import ROOT, features_file, tiny_config, topic_corpus, train_command, xla_flags

from pixie_jax import experiment
from pixie_jax.data import vocab
from pixie_jax.models import registry
from pixie_jax.prng import stream_keys
from pixie_jax.training import loop as train
from pixie_jax.training.trainable import skipgram_counts


def quiet(*args, **kwargs):
    pass


def _topic_of(word):
    return word[:2]


def test_sgns_learns_topics(corpus_file, tmp_path):
    cfg = tiny_config(corpus_file, epochs=3.0, **{"optimizer.learning_rate": 0.01})
    params, data = experiment.train(cfg, tmp_path / "run", log=quiet, devices=jax.devices()[:1])
    e = np.asarray(params["e"])
    e = e / np.linalg.norm(e, axis=1, keepdims=True)
    sims = e @ e.T
    topics = np.array([_topic_of(w) for w in data.vocab.words])
    same = topics[:, None] == topics[None, :]
    off_diag = ~np.eye(len(topics), dtype=bool)
    within, between = sims[same & off_diag].mean(), sims[~same].mean()
    assert within > between + 0.3, (within, between)
    lines = (tmp_path / "run" / "metrics.jsonl").read_text().splitlines()
    import json

    first, last = json.loads(lines[0]), json.loads(lines[-1])
    assert last["loss"] < first["loss"] and last["pairs_per_s"] > 0


def test_four_devices_match_one(corpus_file, tmp_path):
    assert len(jax.devices()) >= 4, "conftest asks XLA for 4 host devices"
    words = vocab.build_vocab(topic_corpus(), 1).words
    feats = features_file(tmp_path, [w for w in words if w.endswith(("wa", "wb", "wc"))])
    cfg = tiny_config(corpus_file, features=feats, epochs=0.3, **{"sampler.negative_group": 16})  # 2 rows of 8 slots
    one, _ = experiment.train(cfg, tmp_path / "one", log=quiet, devices=jax.devices()[:1])
    four, _ = experiment.train(cfg, tmp_path / "four", log=quiet, devices=jax.devices()[:4])
    for a, b in zip(jax.tree.leaves(one), jax.tree.leaves(four)):
        np.testing.assert_allclose(a, b, rtol=2e-4, atol=2e-6)
    # the networks learned (not just the tables): every encoder and decoder kernel moved from its start
    start = registry.get(cfg).build(cfg, len(words)).init(stream_keys(cfg.seed).init)
    for net in ("encoder", "decoder"):
        for layer, p in one[net].items():
            assert np.abs(np.asarray(p["kernel"]) - np.asarray(start[net][layer]["kernel"])).max() > 1e-3, (net, layer)


def kill_and_resume(command, tmp_path, kinds, devices=1):
    """Run ``command(workdir)`` straight, then SIGKILL a second run after its first checkpoint and run it
    again (each on ``devices`` host devices): the resumed run's embeddings of ``kinds`` must equal the
    straight run's bit for bit. Only the killed run writes a checkpoint every 10 steps (how often is free
    to change on resume)."""
    env = dict(os.environ, XLA_FLAGS=xla_flags(devices))
    rarely = "--config.checkpoint_every=100000"
    subprocess.run([*command(tmp_path / "straight"), rarely], check=True, env=env, capture_output=True)
    victim = subprocess.Popen(
        command(tmp_path / "killed"), env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    ckpt = tmp_path / "killed" / "checkpoints"
    deadline = time.time() + 120
    while time.time() < deadline and not (ckpt.exists() and any(p.name.isdigit() for p in ckpt.iterdir())):
        time.sleep(0.05)
    time.sleep(0.3)
    victim.send_signal(signal.SIGKILL)
    victim.wait()
    assert victim.returncode == -signal.SIGKILL, "the run finished before it could be killed"
    assert not (tmp_path / "killed" / "embeddings.npz").exists()
    out = subprocess.run([*command(tmp_path / "killed"), rarely], check=True, env=env, capture_output=True, text=True)
    assert "resumed from" in out.stdout + out.stderr
    a, b = np.load(tmp_path / "straight" / "embeddings.npz"), np.load(tmp_path / "killed" / "embeddings.npz")
    for kind in kinds:
        np.testing.assert_array_equal(a[kind], b[kind])


def test_resume_after_sigkill_gives_identical_parameters(corpus_file, tmp_path):
    kill_and_resume(lambda workdir: train_command(corpus_file, workdir), tmp_path, ("e", "v"))


def test_vae_baseline_resumes_after_sigkill(corpus_file, tmp_path):
    """The VAE runs through the same trainer, so it checkpoints and resumes like PIXIE."""
    words = vocab.build_vocab(topic_corpus(), 1).words
    feats = features_file(tmp_path, [w for w in words if w.startswith(("ta", "tb"))])

    def command(workdir):
        return [
            sys.executable,
            str(ROOT / "bin" / "train"),
            "--config",
            str(ROOT / "configs" / "vae.py"),
            f"--workdir={workdir}",
            f"--config.corpus={corpus_file}",
            f"--config.features={feats}",
            "--config.min_count=1",
            "--config.model.dim=4",
            "--config.model.hidden=8",
            "--config.model.features=6",
            "--config.sampler.visual_words=8",
            "--config.steps_per_call=5",
            "--config.checkpoint_every=10",
            "--config.vae.steps=400",
            "--config.progress=False",
            "--config.benchmarks=",
        ]

    kill_and_resume(command, tmp_path, ("mu",))


def test_non_finite_loss_stops_and_keeps_last_checkpoint(corpus_file, tmp_path):
    cfg = tiny_config(corpus_file, epochs=5.0, **{"optimizer.name": "sgd", "optimizer.learning_rate": 1e30})
    with pytest.raises(train.TrainingError, match=r"non-finite.*no checkpoint had been written yet"):
        experiment.train(cfg, tmp_path / "run", log=quiet, devices=jax.devices()[:1])


def test_non_finite_loss_after_a_checkpoint_names_it(corpus_file, tmp_path, monkeypatch):
    cfg = tiny_config(corpus_file, epochs=2.0, checkpoint_every=10)
    real = train.PreparedRun.run_chunk

    def poisoned(self, first, epoch):
        state, metrics = real(self, first, epoch)
        if first >= 20:
            metrics = dict(metrics, loss=metrics["loss"] * float("nan"))
        return state, metrics

    monkeypatch.setattr(train.PreparedRun, "run_chunk", poisoned)
    with pytest.raises(train.TrainingError, match=r"steps 20 and 25.*last good checkpoint \(step 20\)"):
        experiment.train(cfg, tmp_path / "run", log=quiet, devices=jax.devices()[:1])
    assert (tmp_path / "run" / "checkpoints" / "20").exists()


def test_an_unreadable_checkpoint_is_moved_aside_and_said(corpus_file, tmp_path):
    cfg = tiny_config(corpus_file, epochs=0.2)
    experiment.train(cfg, tmp_path / "run", log=quiet, devices=jax.devices()[:1])
    ckpt = tmp_path / "run" / "checkpoints"
    steps = sorted((p for p in ckpt.iterdir() if p.name.isdigit()), key=lambda p: int(p.name))
    for f in steps[-1].rglob("*"):
        if f.is_file():
            f.write_bytes(b"garbage")
    lines = []
    again, _ = experiment.train(cfg, tmp_path / "run", log=lines.append, devices=jax.devices()[:1])
    damaged = [line for line in lines if "is damaged" in line]
    assert (
        len(damaged) == 1 and f"the checkpoint of step {steps[-1].name} is damaged (it cannot be read: " in (damaged[0])
    ), lines
    assert damaged[0].endswith("no earlier checkpoint verifies: starting afresh")
    assert (ckpt / "damaged" / steps[-1].name).is_dir() and (ckpt / steps[-1].name).is_dir()  # trained again


def test_outputs_include_words_with_features_but_no_text(corpus_file, tmp_path):
    from pixie_jax import experiment

    words = [w for w in vocab.build_vocab(topic_corpus(), 1).words if w.startswith("ta")] + ["zebra"]
    cfg = tiny_config(corpus_file, features=features_file(tmp_path, words), epochs=0.1)
    result = experiment.run_and_write(cfg, tmp_path / "run", log=quiet, devices=jax.devices()[:1])
    assert result.data.visual_only_words == ("zebra",)
    only = np.load(tmp_path / "run" / "visual_only_embeddings.npz")
    assert list(only["words"]) == ["zebra"] and only["t"].shape == (1, 16)
    np.testing.assert_array_equal(only["t"][0, :8], 0)
    np.testing.assert_allclose(only["t"][0, 8:], only["s"][0])
    main = np.load(tmp_path / "run" / "embeddings.npz")
    assert "zebra" not in set(main["words"]) and int(main["mask"].sum()) == len(words) - 1


def test_on_pass_is_called_after_each_pass_with_the_parameters(corpus_file, tmp_path):
    # centres with replacement and C draws: a pass of 2 x 10 steps, so half-pass reports fall on chunk ends
    cfg = tiny_config(corpus_file, epochs=2.0, **{"sampler.shuffle": False, "sampler.enumerate_window": False})
    seen = []
    params, _ = experiment.train(
        cfg,
        tmp_path / "run",
        log=quiet,
        devices=jax.devices()[:1],
        on_pass=lambda passes, p: seen.append((passes, np.asarray(p["e"]).copy())),
    )
    assert [round(p) for p, _ in seen] == [1, 2] and 1.0 <= seen[0][0] < 1.2
    np.testing.assert_array_equal(seen[-1][1], params["e"])
    assert not np.array_equal(seen[0][1], seen[1][1])
    halves = []
    experiment.train(
        cfg,
        tmp_path / "halves",
        log=quiet,
        devices=jax.devices()[:1],
        report_every=0.5,
        on_pass=lambda passes, p: halves.append(passes),
    )
    assert [round(2 * p) for p in halves] == [1, 2, 3, 4]


def test_a_step_that_cannot_fit_is_refused_before_compiling(monkeypatch):
    from pixie_jax.training import sampling

    cfg = sampling.SamplerConfig(window=5, contexts_per_centre=4, negatives=5, text_centres=1000, visual_centres=24)
    assert cfg.rows_per_step == 1024 * (1 + 4 * 6)  # each centre, each context and its own negatives
    shared = sampling.SamplerConfig(
        window=5, contexts_per_centre=4, negatives=5, negative_group=8, text_centres=1000, visual_centres=24
    )
    assert shared.rows_per_step == 1024 * 5 + 1024 * 4 // 8 * 5
    train.check_step_fits(skipgram_counts(cfg), 100, jax.devices())  # 20 MB: fits anywhere
    monkeypatch.setattr(train, "host_bytes_available", lambda: 2**30)
    huge = sampling.SamplerConfig(window=5, contexts_per_centre=4, negatives=5, text_centres=10**7)
    with pytest.raises(
        train.TrainingError,
        match=r"one step gathers 250,006,400 table rows .* at least 186.3 GiB per "
        r"device .* has 1.0 GiB free. Lower --config.sampler.text_centres \(the rows alone fill it at about 1% "
        r"of this batch\)",
    ):
        train.check_step_fits(skipgram_counts(huge), 100, jax.devices()[:1])


def test_the_batch_is_sized_to_the_run():
    from types import SimpleNamespace

    from pixie_jax.training import sampling

    given = sampling.SamplerConfig(window=10, negatives=5, text_centres=2048, visual_centres=256, enumerate_window=True)
    corpus = lambda kept: SimpleNamespace(expected_kept=lambda: kept)  # noqa: E731
    assert train.steps_per_epoch(corpus(2.36e6), given) == 1025  # the bundled corpus's size
    assert train.batch_scale(given, corpus(2.36e6), 3.0, 3000) == 1  # 3 passes: log2 (3,075 / 3,000) -> 2^0
    assert train.batch_scale(given, corpus(2.36e6), 6.0, 3000) == 2  # 6 passes: log2 2.05 -> 2^1
    assert train.steps_per_epoch(corpus(15.7e6), given) == 6815  # gutenberg8's
    assert train.batch_scale(given, corpus(15.7e6), 3.0, 3000) == 8  # log2 6.8 = 2.77 -> 2^3
    assert train.batch_scale(given, corpus(15.7e6), 1.0, 3000) == 2  # one pass: log2 2.27 = 1.18 -> 2^1
    assert train.batch_scale(given, corpus(15.7e6), 0.5, 3000) == 1  # log2 1.14 -> 2^0
    assert train.batch_scale(given, corpus(1e4), 3.0, 3000) == 1  # never smaller
    assert train.batch_scale(given, corpus(15.7e6), 3.0, 0) == 1
    assert train.batch_scale(given, corpus(1e11), 3.0, 3000) == train.SIZED_TEXT_CENTRES[1] // 2048
    vae = sampling.SamplerConfig(text_centres=0, visual_centres=0, visual_words=64)
    assert train.batch_scale(vae, corpus(15.7e6), 3.0, 3000) == 1  # no pairs: nothing to size


def test_a_config_sizes_its_batch_and_says_so(corpus_file):
    from pixie_jax.data import training_data

    cfg = tiny_config(
        corpus_file, epochs=2.0, **{"sampler.text_centres": 0, "sampler.visual_centres": 4, "sampler.steps_per_run": 4}
    )
    data = training_data.prepare_data(cfg, quiet)
    lines = []
    sized = experiment.sized_batch(cfg, data, log=lines.append)
    scale = sized.sampler.text_centres // 2048
    assert scale > 1 and sized.sampler.text_centres == 2048 * scale and sized.sampler.visual_centres == 4 * scale
    steps = train.steps_per_epoch(data, experiment.sampler(cfg, data))  # ceil(kept / text centres): no features
    assert abs(math.log2(2 * data.expected_kept() / sized.sampler.text_centres / 4)) <= 0.5  # 2 passes, ~4 steps
    assert cfg.sampler.text_centres == 0  # cfg as it was
    assert lines == [
        f"the batch sized to the run: {2048 * scale:,} + 0 centres a step, {steps} steps a pass, "
        f"about {2 * steps} in 2 (sampler.steps_per_run = 4; give sampler.text_centres for a batch "
        f"of your own)"
    ]  # no features: no visual centres
    assert experiment.trainable(sized, data).sampler.text_centres == 2048 * scale
    cfg.epochs = 0.5  # a quarter of the run: a quarter of the batch
    assert experiment.sized_batch(cfg, data).sampler.text_centres == 2048 * scale // 4
    lines.clear()  # a resumed run keeps its batch whatever the length asked now
    assert experiment.sized_batch(cfg, data, log=lines.append, recorded=(4096, 8)).sampler.text_centres == 4096
    assert lines[0].startswith("the batch the resumed run started with: 4,096 + 0 centres a step")
    cfg.sampler.text_centres = 8  # a batch of one's own is trained as given
    assert experiment.sized_batch(cfg, data) is cfg and experiment.sampler(cfg, data).text_centres == 8


def test_ctrl_c_while_xla_works_is_held_until_the_trainer_checks():
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    lines, finished = [], []
    try:
        with train.DeferredInterrupts(lines.append) as interrupts:
            os.kill(os.getpid(), signal.SIGINT)
            time.sleep(0.05)  # the handler runs here; Python's default would raise now
            finished.append(True)
            with pytest.raises(KeyboardInterrupt):
                interrupts.check()
            interrupts.check()  # asked once, raised once
        assert finished == [True] and lines == ["stopping after the current steps (Ctrl-C again to stop at once)"]
        with pytest.raises(KeyboardInterrupt):  # a second Ctrl-C stops at once
            with train.DeferredInterrupts(lines.append):
                os.kill(os.getpid(), signal.SIGINT)
                time.sleep(0.05)
                os.kill(os.getpid(), signal.SIGINT)
                time.sleep(0.05)
                finished.append(True)
        assert finished == [True]
        with pytest.raises(KeyboardInterrupt):  # one left pending is raised when the block ends
            with train.DeferredInterrupts(lines.append):
                os.kill(os.getpid(), signal.SIGINT)
                time.sleep(0.05)
        assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
    finally:
        signal.signal(signal.SIGINT, previous)


def test_the_trainer_counts_the_examples_a_model_says_its_step_holds(corpus_file, tmp_path, monkeypatch):
    """A model of another objective states its own count (CBOW: its centres): the first line, metrics.jsonl's
    rate and sparse_sgd's scale use it; by default it is the skip-gram pairs of the batch."""
    import dataclasses
    import json

    from pixie_jax.data import training_data
    from pixie_jax.training import optimizers

    cfg = tiny_config(corpus_file, config="sgns", epochs=0.1, **{"optimizer.name": "sparse_sgd"})
    data = training_data.prepare_data(cfg, log=quiet)
    bound = experiment.trainable(experiment.sized_batch(cfg, data), data)
    assert bound.step_counts == skipgram_counts(bound.sampler) and bound.step_counts.unit == "pairs"
    centres = bound.sampler.text_centres
    counts = dataclasses.replace(bound.step_counts, examples=centres, unit="centres", per_token=1)
    own = dataclasses.replace(bound, counts=counts)
    scales, real = [], optimizers.table_optimizer
    monkeypatch.setattr(optimizers, "table_optimizer", lambda c, t, n, names: scales.append(n) or real(c, t, n, names))
    lines = []
    train.fit(cfg, tmp_path / "run", own, data, log=lines.append, devices=jax.devices()[:1])
    first = next(line for line in lines if line.startswith("training sgns: "))
    assert f" of {centres:,} centres on 1 cpu device(s)" in first and "pairs" not in first
    assert scales == [centres]
    records = [json.loads(line) for line in (tmp_path / "run" / "metrics.jsonl").read_text().splitlines()]
    assert records and all("centres_per_s" in r and "pairs_per_s" not in r for r in records)


def test_a_model_with_a_sampler_of_its_own_states_its_counts_and_the_trainer_needs_nothing_else(corpus_file, tmp_path):
    """Without the skip-gram sampler's settings the trainer reads only the model's StepCounts: its pass
    length, data and device checks, its first line and throughput."""
    import dataclasses
    import json

    from pixie_jax.data import training_data
    from pixie_jax.errors import InputError
    from pixie_jax.training.trainable import StepCounts

    cfg = tiny_config(corpus_file, config="sgns", epochs=1.0)
    data = training_data.prepare_data(cfg, log=quiet)
    bound = experiment.trainable(experiment.sized_batch(cfg, data), data)
    with pytest.raises(InputError, match="states its StepCounts"):
        dataclasses.replace(bound, sampler=None)
    centres = bound.sampler.text_centres
    counts = StepCounts(centres, "windows", per_token=0.5, centres=centres, rows=10, splits=(("my.batch", 6, 1, ""),))
    own = dataclasses.replace(bound, sampler=None, counts=counts)
    with pytest.raises(InputError, match=r"my.batch \(6\) must be a multiple of the number of devices \(4\)"):
        train.fit(cfg, tmp_path / "four", own, data, log=quiet, devices=jax.devices()[:4])
    lines = []
    train.fit(cfg, tmp_path / "run", own, data, log=lines.append, devices=jax.devices()[:1])
    steps = math.ceil(data.expected_kept() * 0.5 / centres)  # half a window a kept token: a pass of half the steps
    first = next(line for line in lines if line.startswith("training sgns: "))
    assert f" of {centres:,} windows " in first and f"the {steps:,} steps of 1 passes" in first, first
    records = [json.loads(line) for line in (tmp_path / "run" / "metrics.jsonl").read_text().splitlines()]
    assert records[-1]["step"] == math.ceil(steps / cfg.steps_per_call) * cfg.steps_per_call
    assert all(r["windows_per_s"] > 0 for r in records)
