"""Shared fixtures. Four host devices make the data-parallel code testable on a CPU."""

import functools
import importlib.util
import lzma
import os
import sys
from pathlib import Path

# XLA's backend optimisations off: a test's programs are small, and compiling them is most of its time
# (measured: the compile-bound tests take 40% less); every comparison a test makes is between programs
# compiled alike, or against a reference with a tolerance
FAST_COMPILE = "--xla_backend_optimization_level=0"
os.environ.setdefault("XLA_FLAGS", f"--xla_force_host_platform_device_count=4 {FAST_COMPILE}")
os.environ.setdefault("PIXIE_JAX_CACHE", str(Path(__file__).parent / ".cache"))
# compiled programs kept on disk, so tests (and their subprocesses) that build the same step compile it once
os.environ.setdefault("JAX_COMPILATION_CACHE_DIR", str(Path(__file__).parent / ".cache" / "jax"))
os.environ.setdefault("JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS", "0.5")  # steps, not single eager ops
os.environ.setdefault("JAX_PERSISTENT_CACHE_MIN_ENTRY_SIZE_BYTES", "0")
# a size limit makes jax read and write entries under a file lock (the filelock package, in the test extras),
# so processes compiling at once (parallel workers, multi-process runs) never read a half-written entry
if importlib.util.find_spec("filelock") is not None:
    os.environ.setdefault("JAX_COMPILATION_CACHE_MAX_SIZE", str(2**31))

import numpy as np  # noqa: E402
import pytest  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared" / "data"
sys.path.insert(0, str(ROOT))


def xla_flags(devices: int) -> str:
    """XLA_FLAGS for a subprocess with ``devices`` CPU devices, compiled as the tests compile."""
    return f"--xla_force_host_platform_device_count={devices} {FAST_COMPILE}"


def shared(*parts) -> Path:
    """A path in the project's shared data folder; the test is skipped where it is absent."""
    path = SHARED.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"shared data not present: {path}")
    return path


def topic_corpus(n_tokens=20000, topics=4, words_per_topic=10, seed=0) -> str:
    """Words w<topic>_<i>; text in runs of 12 tokens drawn from one topic (learnable structure)."""
    rng = np.random.default_rng(seed)
    out = []
    while len(out) < n_tokens:
        t = rng.integers(topics)
        out += [f"t{chr(97 + t)}w{chr(97 + i)}" for i in rng.integers(words_per_topic, size=12)]
    return " ".join(out[:n_tokens])


def bundled_slice(folder, tokens: int) -> tuple[Path, list[str]]:
    """The first ``tokens`` words of the bundled corpus as ``folder``/corpus.txt, and the words."""
    with lzma.open(ROOT / "pixie_jax" / "data" / "corpus" / "gutenberg8_sample.xz", "rt") as f:
        words = f.read(10 * tokens).split()[:tokens]
    corpus = Path(folder) / "corpus.txt"
    corpus.write_text(" ".join(words))
    return corpus, words


@pytest.fixture
def corpus_file(tmp_path):
    path = tmp_path / "corpus.txt"
    path.write_text(topic_corpus())
    return path


def tiny_config(corpus, features="", config="pixie", **overrides):
    """configs/<config>.py shrunk for tests."""
    from pixie_jax.overrides import load_config, set_value

    c = load_config(config)
    c.corpus = str(corpus)
    c.features = str(features)
    c.min_count = 1
    c.subsample = 0.0
    c.model.dim = 8
    c.model.hidden = 16
    c.model.features = 6
    c.sampler.window = 3
    c.sampler.contexts_per_centre = 2
    c.sampler.negatives = 4
    c.sampler.text_centres = 64
    c.sampler.visual_centres = 16
    c.sampler.visual_words = 8
    c.steps_per_call = 5
    c.checkpoint_every = 1000  # the end's checkpoint only, unless a test asks for more
    c.epochs = 0.5
    c.progress = False
    c.benchmarks = ""
    for key, value in overrides.items():
        set_value(c, key, value)
    return c


def train_command(corpus, workdir, *extra):
    """bin/train on ``corpus`` with a tiny text-only model: the argument list for subprocess."""
    args = [
        sys.executable,
        str(ROOT / "bin" / "train"),
        "--config",
        str(ROOT / "configs" / "pixie.py"),
        f"--workdir={workdir}",
        f"--config.corpus={corpus}",
        "--config.features=",
        "--config.min_count=1",
        "--config.model.dim=8",
        "--config.sampler.text_centres=64",
        "--config.sampler.window=3",
        "--config.sampler.negatives=4",
        "--config.steps_per_call=5",
        "--config.checkpoint_every=10",
        "--config.epochs=12",
        "--config.progress=False",
        "--config.benchmarks=",
        "--config.embedding=e",
        *extra,
    ]
    return args


@functools.cache
def _compiled_sample_batch():
    import jax

    from pixie_jax.training import sampling

    return jax.jit(sampling.sample_batch, static_argnums=3)


def sample_batch(key, epoch, tables, cfg, step=0):
    """:func:`pixie_jax.training.sampling.sample_batch` compiled once per sampler config, as the trainer runs it (run
    op by op, each op compiles for each new shape and step)."""
    return _compiled_sample_batch()(key, epoch, tables, cfg, step)


def features_file(tmp_path, words, dim=6, seed=0):
    """Features with 2 visual clusters: words of topic a and b get distinct means."""
    from pixie_jax.data.feature_files import WordFeatures, save_word_features

    rng = np.random.default_rng(seed)
    rows = np.stack([rng.normal(loc=(3.0 if w.startswith("ta") else -3.0), size=dim) for w in words])
    path = tmp_path / "features.npz"
    save_word_features(path, WordFeatures(tuple(words), rows.astype(np.float32)))
    return path


def topic_files(folder):
    """(corpus file, feature file) in ``folder``: :func:`topic_corpus`, and features for the words of
    each topic ending in wa, wb or wc (:func:`features_file`)."""
    from pixie_jax.data import vocab

    corpus = folder / "corpus.txt"
    corpus.write_text(topic_corpus())
    words = vocab.build_vocab(topic_corpus(), 1).words
    return corpus, features_file(folder, [w for w in words if w.endswith(("wa", "wb", "wc"))])


@pytest.fixture(scope="session")
def wn():
    """WordNet 3.0 (NLTK's, or a dict folder); the test is skipped where there is none."""
    from pixie_jax.visual import wordnet

    try:
        return wordnet.load_wordnet()
    except wordnet.WordNetError as err:
        pytest.skip(str(err))
