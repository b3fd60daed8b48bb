"""A user's mistakes are one line before anything trains; a run never trains on nothing; Ctrl-C stops
a run at any moment with one line; a bug keeps its traceback."""

import json
import os
import re
import signal
import subprocess
import sys
import time
from types import SimpleNamespace

import numpy as np
import pytest
from conftest import ROOT, tiny_config, train_command, xla_flags

from pixie_jax import cli, experiment
from pixie_jax.errors import InputError, ProjectError
from pixie_jax.training.loop import TrainingError


def quiet(*_):
    pass


def one_line_error(fn, *args):
    """The message of the SystemExit ``fn(*args)`` ends in: it must be one line starting 'error: '."""
    with pytest.raises(SystemExit) as exit_info:
        fn(*args)
    message = str(exit_info.value.code)
    assert message.startswith("error: ") and "\n" not in message, message
    return message


# --- data that leaves nothing to train on ---------------------------------------------------------


def test_a_corpus_whose_tokens_subsampling_drops_stops_before_training(tmp_path):
    corpus = tmp_path / "tiny.txt"
    corpus.write_text("the cat sat " * 6)  # 18 tokens, 3 words: at t = 1e-3 about one token survives a pass
    cfg = tiny_config(corpus, subsample=1e-3, epochs=20.0)
    with pytest.raises(
        TrainingError,
        match=r"corpus .*tiny.txt: a subsampled pass keeps about 1\.\d of its 18 "
        r"tokens \(3 words, subsample = 0.001\), so no pair survives subsampling: "
        r"lower --config.subsample",
    ):
        experiment.train(cfg, tmp_path / "run", log=quiet)
    assert not (tmp_path / "run" / "checkpoints").exists()


def test_a_corpus_smaller_than_one_step_stops_before_training(tmp_path):
    corpus = tmp_path / "tiny.txt"
    corpus.write_text("the cat sat " * 6)
    cfg = tiny_config(corpus)  # 64 + 16 centres a step, no subsampling
    with pytest.raises(
        TrainingError,
        match=r"keeps about 18.0 of its 18 tokens .*fewer than the 64 centres of one "
        r"step: lower --config.sampler.text_centres",
    ):
        experiment.train(cfg, tmp_path / "run", log=quiet)


def test_the_rounding_of_the_steps_to_whole_calls_is_stated(corpus_file, tmp_path):
    lines = []
    cfg = tiny_config(corpus_file, epochs=0.1, steps_per_call=20)
    experiment.train(cfg, tmp_path / "run", log=lines.append)
    training = next(line for line in lines if line.startswith("training"))
    match = re.search(
        r"training sgns: (\d+) steps \(([\d.]+) passes\).*; the (\d+) steps of 0.1 passes rounded "
        r"up to whole calls of steps_per_call = 20$",
        training,
    )
    assert match, training
    total, asked = int(match[1]), int(match[3])
    assert asked < total == -(-asked // 20) * 20
    metrics = (tmp_path / "run" / "metrics.jsonl").read_text().splitlines()
    assert json.loads(metrics[-1])["step"] == total  # the steps stated are the steps trained


# --- settings and arguments -----------------------------------------------------------------------


def test_a_removed_option_on_the_command_line_is_one_line_saying_why(tmp_path):
    message = one_line_error(
        cli.parse_config, cli.config_parser("", "", "runs"), ["--config", "pixie", "--config.sampler.corpus_order=True"]
    )
    assert message.startswith("error: --config.sampler.corpus_order: no longer read (removed: centres in corpus order")


def test_a_section_given_a_value_is_one_line_naming_the_key(tmp_path):
    message = one_line_error(
        cli.parse_config, cli.config_parser("", "", "runs"), ["--config", "pixie", "--config.sampler=3"]
    )
    assert re.search(
        r"--config.sampler=3: sampler is a section of settings, not a value; set one of its keys, "
        r"e.g. sampler\.\w+=VALUE$",
        message,
    ), message


@pytest.mark.parametrize(
    "argv, message",
    [
        (
            ["--coordinator", "localhost:1234", "--num-processes", "2", "--process-id", "5"],
            "--process-id must be 0 to 1 (--num-processes 2), got 5",
        ),
        (["--coordinator", "localhost:1234", "--num-processes", "2"], "--coordinator needs --process-id too"),
        (
            ["--coordinator", "nohost:abc", "--num-processes", "2", "--process-id", "0"],
            "--coordinator 'nohost:abc': expected HOST:PORT with a port 1-65535",
        ),
        (
            ["--coordinator", "no-such-host.invalid:1234", "--num-processes", "2", "--process-id", "0"],
            "the host 'no-such-host.invalid' does not resolve",
        ),
        (["--num-processes", "2", "--process-id", "0"], "--num-processes and --process-id need --coordinator"),
    ],
)
def test_multi_process_argument_mistakes_are_one_line_before_jax_distributed_starts(tmp_path, argv, message):
    out = subprocess.run(
        [sys.executable, str(ROOT / "bin" / "train"), "--config", "sgns", f"--workdir={tmp_path}", *argv],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 1 and out.stderr.strip().splitlines() == [f"error: {out.stderr.strip()[7:]}"], out.stderr
    assert message in out.stderr and "waiting" not in out.stdout
    assert not any(tmp_path.iterdir())


def test_retrieval_settings_are_checked_before_anything_is_read(tmp_path):
    from pixie_jax.evaluate import retrieval
    from pixie_jax.overrides import load_config

    config = load_config("retrieval")
    config.folds = 0
    with pytest.raises(InputError, match=r"folds = 0 \(must be >= 1\)"):
        retrieval.run(config, tmp_path, [("a", str(tmp_path / "missing.npz"))], "precomputed:" + str(tmp_path))


def test_the_cache_command_names_a_file_given_as_its_folder_and_creates_no_folder(tmp_path):
    afile = tmp_path / "afile"
    afile.write_text("x")
    message = one_line_error(cli.cache_main, ["--cache-dir", str(afile)])
    assert f"{afile} (--cache-dir) is a file, not a folder" in message
    cli.cache_main(["--cache-dir", str(tmp_path / "nowhere")])
    assert not (tmp_path / "nowhere").exists()


# --- the project's errors against bugs --------------------------------------------------------------


def test_the_projects_errors_are_one_line_and_a_bug_keeps_its_traceback(capsys):
    @cli.command
    def ours(argv=None):
        raise InputError("a setting is wrong: set --config.x")

    @cli.command
    def bug(argv=None):
        return {}["v"]

    assert one_line_error(ours) == "error: a setting is wrong: set --config.x"
    with pytest.raises(SystemExit) as exit_info:
        bug()
    assert exit_info.value.code == cli.BUG
    err = capsys.readouterr().err
    assert "Traceback (most recent call last)" in err and "KeyError: 'v'" in err
    assert isinstance(InputError("x"), ValueError) and isinstance(InputError("x"), ProjectError)


# --- embedding files ----------------------------------------------------------------------------------


def test_evaluate_refuses_files_without_usable_vectors(tmp_path):
    vocab = tmp_path / "vocab.tsv"
    vocab.write_text("the\t100\nking\t50\nqueen\t40\n")
    assert "vectors of 1 dimension" in one_line_error(cli.evaluate_main, ["--embeddings", str(vocab)])
    words = np.array(["king", "queen", "man"])
    np.savez(tmp_path / "nan.npz", words=words, e=np.full((3, 4), np.nan, np.float32), mask=np.zeros(3))
    assert "every one of its 3 rows holds a value that is not finite" in one_line_error(
        cli.evaluate_main, ["--embeddings", str(tmp_path / "nan.npz")]
    )
    np.savez(tmp_path / "short.npz", words=words, e=np.ones((2, 4), np.float32), mask=np.zeros(3))
    assert "e has 2 rows for 3 words" in one_line_error(
        cli.evaluate_main, ["--embeddings", str(tmp_path / "short.npz")]
    )
    np.savez(tmp_path / "ints.npz", words=words, counts=np.ones((3, 1), np.int64))
    assert "no matrix of float vectors" in one_line_error(
        cli.evaluate_main, ["--embeddings", str(tmp_path / "ints.npz")]
    )


def test_rows_that_are_not_finite_are_named_and_left_out(tmp_path, capsys):
    rng = np.random.default_rng(0)
    e = rng.normal(size=(4, 5)).astype(np.float32)
    e[1, 2] = np.inf
    np.savez(tmp_path / "some.npz", words=np.array(["king", "queen", "man", "woman"]), e=e, mask=np.zeros(4))
    cli.evaluate_main(["--embeddings", str(tmp_path / "some.npz"), "--query", "king - man + woman"])
    out = capsys.readouterr().out
    assert "1 rows hold values that are not finite and are left out: queen" in out
    assert "nan" not in out.split("king - man + woman")[1]


def test_every_evaluation_reads_a_mixed_case_word2vec_file_alike(tmp_path):
    """Words are case-folded and, of words that fold alike, the first row is kept: similarity scores and
    analogies see the same rows."""
    from pixie_jax.data import embedding_files
    from pixie_jax.evaluate import analogy, similarity

    rng = np.random.default_rng(1)
    words = ["King", "queen", "MAN", "woman", "king", "Tiger", "cat"]
    vectors = rng.normal(size=(len(words), 6)).astype(np.float32)
    path = tmp_path / "vectors.txt"
    embedding_files.save_word2vec_text(path, words, vectors)
    notes = []
    arrays = embedding_files.load_embeddings(path, notes.append)
    assert arrays["words"] == ["king", "queen", "man", "woman", "tiger", "cat"]
    np.testing.assert_allclose(arrays["e"][0], vectors[0], rtol=1e-5)  # 'King' (the first) wins over 'king'
    assert (
        "1 words are the same as an earlier word after case folding; the earlier row is kept (e.g. 'king'" in notes[0]
    )
    bench = tmp_path / "pairs.txt"
    bench.write_text("king\tqueen\t9\nman\twoman\t8\ntiger\tcat\t7\nking\tcat\t1\n")
    score = similarity.score(similarity.read_benchmark(bench), arrays["words"], arrays["e"])
    assert score.used == 4
    cos = [
        similarity.cosine_similarities(vectors, np.array([i]), np.array([j]))[0]
        for i, j in ((0, 1), (2, 3), (5, 6), (0, 6))
    ]
    assert score.rho == pytest.approx(__import__("scipy.stats").stats.spearmanr(cos, [9, 8, 7, 1]).statistic)
    index = analogy.first_rows(arrays["words"], None)[1]
    assert index == {w: i for i, w in enumerate(arrays["words"])}


# --- the benchmark scripts check every argument first -------------------------------------------------


@pytest.mark.parametrize(
    "argv, message",
    [
        (["--recipe", "r", "--set", "bogus.key=1"], "--set: config has no key 'bogus.key'"),
        (["--recipe", "r", "sampler.windw=3"], "--recipe r: config has no key 'sampler.windw'"),
        (["--recipe", "r", "--corpus", "no/such/corpus.txt"], "no/such/corpus.txt: no such file or folder"),
        (["--recipe", "r", "--epochs", "-1"], "--epochs must be > 0"),
        (["--recipe", "r", "--systems", "pixie"], "--systems pixie needs --features"),
        (["--recipe", "r", "optimizer.learning_rate=-1"], "optimizer.learning_rate = -1.0 (must be >= 0)"),
    ],
)
def test_per_pass_checks_its_arguments_before_training(tmp_path, argv, message):
    sys.path.insert(0, str(ROOT))
    from benchmarks import per_pass

    assert message in one_line_error(per_pass.main, [*argv, "--out", str(tmp_path / "out")])
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize(
    "argv, message",
    [
        (["--config.bogus=1"], "--config: config has no key 'bogus'"),
        (["--evals-per-epoch", "0"], "--evals-per-epoch must be >= 1, got 0"),
        (["--epochs", "0"], "--epochs must be >= 1"),
        (["--merge", "no/such/file.json"], "no/such/file.json: No such file or directory"),
    ],
)
def test_time_to_quality_checks_its_arguments_before_training(tmp_path, argv, message):
    sys.path.insert(0, str(ROOT))
    from benchmarks import time_to_quality

    assert message in one_line_error(time_to_quality.main, [*argv, "--out", str(tmp_path / "out")])
    assert not (tmp_path / "out").exists()


def test_time_to_quality_merges_only_its_own_results(tmp_path):
    sys.path.insert(0, str(ROOT))
    from benchmarks import time_to_quality

    run_json = tmp_path / "run.json"
    run_json.write_text(json.dumps({"config": {}, "data": {}}))
    assert f"--merge {run_json}: not a time_to_quality.json" in one_line_error(
        time_to_quality.main, ["--merge", str(run_json), "--out", str(tmp_path / "out")]
    )


# --- Ctrl-C at any moment -----------------------------------------------------------------------------

CTRL_C = (
    "import runpy, signal, sys; signal.signal(signal.SIGINT, signal.default_int_handler); "
    "sys.argv = sys.argv[1:]; runpy.run_path(sys.argv[0], run_name='__main__')"
)  # SIGINT not ignored


@pytest.mark.parametrize("after", [0.3, 1.5, 3.0, "checkpoint"])
def test_ctrl_c_at_any_moment_stops_with_one_line(corpus_file, tmp_path, after):
    """SIGINT while python and jax start up, while the data is read and the step compiles, and after the
    first checkpoint: the run stops with one line and exit status 1."""
    run = tmp_path / "run"
    env = dict(os.environ, XLA_FLAGS=xla_flags(1), JAX_COMPILATION_CACHE_DIR="")  # compile: the slow start
    victim = subprocess.Popen(
        [sys.executable, "-c", CTRL_C, *train_command(corpus_file, run)[1:], "--config.epochs=100"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    if after == "checkpoint":
        deadline = time.time() + 120
        while time.time() < deadline and not (
            (run / "checkpoints").exists() and any(p.name.isdigit() for p in (run / "checkpoints").iterdir())
        ):
            time.sleep(0.05)
    else:
        time.sleep(after)
    victim.send_signal(signal.SIGINT)
    out, err = victim.communicate(timeout=120)
    assert victim.returncode == 1, (out, err)
    lines = [line for line in err.strip().splitlines() if not line.startswith("stopping after the current steps")]
    assert len(lines) == 1 and lines[0].startswith("interrupted") and "Traceback" not in err, err
    if after == "checkpoint":
        assert "the checkpoint of step" in lines[0] and "is kept: run the same command to resume" in lines[0]
    assert not (run / "embeddings.npz").exists()


def test_the_distributed_checks_take_the_parsed_arguments():
    args = SimpleNamespace(
        coordinator="127.0.0.1:8476", num_processes=2, process_id=1, heartbeat_timeout=100, startup_timeout=300
    )
    cli.check_distributed_args(args)  # a valid set passes
    args.startup_timeout = 0
    with pytest.raises(InputError, match="--startup-timeout must be >= 1 second"):
        cli.check_distributed_args(args)


# --- whose exception it is, and which file a message names ----------------------------------------------


def test_an_exception_in_a_users_own_config_or_model_file_is_labelled_as_theirs(tmp_path, capsys):
    config = tmp_path / "mine.py"
    config.write_text("def get_config():\n    return {}['typo']\n")
    with pytest.raises(SystemExit) as info:
        cli.train_main(["--config", str(config), f"--workdir={tmp_path / 'run'}"])
    assert info.value.code == (
        f"error: the exception above was raised in your own file {config}, line 2 (in get_config): KeyError: 'typo'"
    )
    assert "Traceback (most recent call last)" in capsys.readouterr().err
    model = tmp_path / "model.py"
    model.write_text("import math\n\nSPEC = math.sqrt(-1)\n")
    with pytest.raises(SystemExit) as info:
        cli.train_main(["--config", "pixie", f"--config.model.name={model}", f"--workdir={tmp_path / 'run'}"])
    assert info.value.code.startswith(f"error: the exception above was raised in your own file {model}, line 3")
    none = tmp_path / "none.py"
    none.write_text("def get_config():\n    pass\n")
    message = one_line_error(cli.train_main, ["--config", str(none)])
    assert message == f"error: {none}: get_config() returned NoneType, not a ConfigDict; a config file defines " + (
        "get_config() returning an ml_collections.ConfigDict (see configs/pixie.py)"
    )


def test_an_oserror_without_a_path_keeps_its_traceback_and_one_with_a_path_is_one_line(capsys):
    @cli.command
    def internal(argv=None):
        raise ConnectionResetError(104, "Connection reset by peer")

    @cli.command
    def unreadable(argv=None):
        raise PermissionError(13, "Permission denied", "/data/corpus.txt")

    with pytest.raises(SystemExit) as info:
        internal()
    assert info.value.code.startswith("error: ConnectionResetError: [Errno 104] Connection reset by peer")
    assert "Traceback (most recent call last)" in capsys.readouterr().err
    assert one_line_error(unreadable) == "error: /data/corpus.txt: Permission denied"


def test_a_workdir_that_is_a_file_and_a_full_disk_name_their_paths(tmp_path, monkeypatch):
    import errno

    from pixie_jax import files

    plain = tmp_path / "afile"
    plain.write_text("x")
    message = one_line_error(cli.train_main, ["--config", "pixie", f"--workdir={plain}"])
    assert message == f"error: --workdir {plain}: a file, not a folder; give a folder for the run's files"

    def full(*_args, **_kw):
        raise OSError(errno.ENOSPC, "No space left on device")

    target = tmp_path / "out" / "embeddings.npz"
    monkeypatch.setattr(files.np, "savez_compressed", full)
    with pytest.raises(OSError) as info:
        files.save_npz(target, a=np.zeros(3))
    assert info.value.filename == str(target) and info.value.errno == errno.ENOSPC
    assert list((tmp_path / "out").iterdir()) == []  # nothing half written


def test_an_empty_embeddings_file_says_it_is_empty(tmp_path):
    empty = tmp_path / "vectors.txt"
    empty.write_text("")
    message = one_line_error(cli.evaluate_main, ["--embeddings", str(empty)])
    assert message.startswith(f"error: {empty}: an empty file, no vector rows; expected an .npz or word2vec text")
    empty.write_text("0 50\n")
    assert "only a header line, no vector rows" in one_line_error(cli.evaluate_main, ["--embeddings", str(empty)])


def test_the_numba_reference_without_numba_names_the_extra_to_install():
    blocked = (
        "import runpy, sys; sys.modules['numba'] = None; sys.argv = ['reference_sgns.py', '--help']; "
        f"runpy.run_path({str(ROOT / 'benchmarks' / 'reference_sgns.py')!r}, run_name='__main__')"
    )
    done = subprocess.run([sys.executable, "-c", blocked], capture_output=True, text=True, timeout=120)
    assert done.returncode == 1 and "Traceback" not in done.stderr, done.stderr
    assert done.stderr.strip() == (
        "error: benchmarks/reference_sgns.py needs numba: pip install -e '.[bench]' (numba and gensim)"
    )


# --- nothing read runs code ----------------------------------------------------------------------------


class _Payload:
    def __reduce__(self):
        return (os.system, ("touch PWNED",))


@pytest.mark.parametrize("where", ["magic", "system info", "keys"])
def test_a_crafted_torch_file_runs_no_code(tmp_path, monkeypatch, where):
    import pickle

    from pixie_jax.visual import torch_pickle

    monkeypatch.chdir(tmp_path)
    parts = {
        "magic": torch_pickle.MAGIC,
        "protocol": 1001,
        "system info": {"little_endian": True},
        "object": {},
        "keys": [],
    }
    parts[where] = _Payload()
    path = tmp_path / "crafted.pth"
    path.write_bytes(b"".join(pickle.dumps(v, protocol=2) for v in parts.values()))
    with pytest.raises(torch_pickle.TorchFileError, match=r"crafted.pth: unsupported object .*posix.system"):
        torch_pickle.load_state_dict(path)
    assert not (tmp_path / "PWNED").exists()


# --- inputs used as given ----------------------------------------------------------------------------------


def test_feature_words_match_the_vocabulary_case_folded_and_list_settings_parse(corpus_file, tmp_path):
    from conftest import features_file

    from pixie_jax.data import training_data
    from pixie_jax.overrides import load_config, set_value, typed

    words = ["TAWA", "tawb", "Tawc", "tbwa", "nowhere"]
    feats = features_file(tmp_path, words)
    config = load_config("pixie")
    set_value(config, "exclude_visual_words", typed(config, "exclude_visual_words", "('tbwa','zzzz')"))
    assert config.exclude_visual_words == ("tbwa", "zzzz")
    assert typed(config, "exclude_visual_words", " 'a' , \"b\",c") == ("a", "b", "c")
    assert typed(config, "exclude_visual_words", "") == ()
    with pytest.raises(InputError, match=r"exclude_visual_words: .*is not a Python list or tuple"):
        typed(config, "exclude_visual_words", "('a',")
    cfg = tiny_config(corpus_file, feats, exclude_visual_words=config.exclude_visual_words)
    lines = []
    data = training_data.prepare_data(cfg, lines.append)
    assert data.n_visual == 3  # TAWA, tawb and Tawc; tbwa excluded
    assert sorted(data.vocab.words[i] for i in np.flatnonzero(data.vis_index >= 0)) == ["tawa", "tawb", "tawc"]
    said = "\n".join(lines)
    assert "3 of 40 vocabulary words (5 words in the file: 1 not in the vocabulary, 2 matched in lower case" in said
    assert "1 excluded)" in said
    assert f"exclude_visual_words: 1 word(s) not in {feats}, so nothing to exclude: zzzz" in said


# run a command with SIGINT at its default, as in a terminal (python then installs its own handler), even
# where the tests run with it ignored: exec'd from a process that resets it (no preexec_fn: a fork of a
# multithreaded process must not run Python before exec)
SIGINT_DEFAULT = [
    sys.executable,
    "-c",
    "import os, signal, sys; signal.signal(signal.SIGINT, signal.SIG_DFL); os.execv(sys.argv[1], sys.argv[1:])",
]


def test_ctrl_c_twice_while_the_step_compiles_stops_at_once_without_a_crash(corpus_file, tmp_path):
    """The first Ctrl-C asks to stop after the current steps; a second, while XLA compiles the first, ends the
    process at once with one line (not a segmentation fault)."""
    run = tmp_path / "run"
    env = dict(os.environ, XLA_FLAGS=xla_flags(1), JAX_COMPILATION_CACHE_DIR="")
    victim = subprocess.Popen(
        [*SIGINT_DEFAULT, *train_command(corpus_file, run), "--config.epochs=100"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    for line in victim.stdout:
        if line.startswith("training "):
            break
    victim.send_signal(signal.SIGINT)
    time.sleep(0.05)
    victim.send_signal(signal.SIGINT)
    out, err = victim.communicate(timeout=120)
    assert victim.returncode == 1, (out, err)
    assert err.strip().splitlines()[-1].startswith("interrupted") and "Traceback" not in err, err


@pytest.mark.parametrize("after", [0.15, 0.6])
def test_ctrl_c_while_the_command_starts_is_one_line(corpus_file, tmp_path, after):
    victim = subprocess.Popen(
        [*SIGINT_DEFAULT, *train_command(corpus_file, tmp_path / "run")],
        env=dict(os.environ, XLA_FLAGS=xla_flags(1)),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    time.sleep(after)
    victim.send_signal(signal.SIGINT)
    out, err = victim.communicate(timeout=120)
    assert victim.returncode == 1 and "Traceback" not in err, (out, err)
    assert len(err.strip().splitlines()) == 1 and err.startswith("interrupted"), err
