"""PIXIE with the paper's settings (section 4.1) on text8 (downloaded once, ~31 MB).

K = 100, encoder/decoder 500 tanh units, window 10, 64 negatives per pair (G = 1),
Adam 1e-3 constant, vocabulary of 50,000 words. Meant for a GPU; on a CPU it is slow. A pass reads
word2vec's pairs as configs/pixie.py does: each token once as a centre, in a random order
(sampler.shuffle), with every context of its reduced window (sampler.enumerate_window, two centres
packed a row, no slot wasted). On the CPU this learns more per pass than C = 8 drawn contexts and
computes more pairs per second (benchmarks/RESULTS.md, "Per-pass learning", third round); its GPU
speed is not measured yet (benchmarks/gpu.sh measures it). Shared negatives (negative_group > 1) must
then come in multiples of a row's 2 (window + 1) = 22 slots. Its batch, 16,384 + 2,048 centres a
step, is given, so it is not sized to the run (configs/pixie.py sizes its own: 16,384 + 2,048 for 3
passes of gutenberg8 too).
The paper's optimizer learns slowly at this size: on the bundled corpus (3 passes, N = 64, G = 22, CPU)
Adam 1e-3 constant reached MEN 0.06, while Adam 1e-2 with word2vec's decay and the tables' b2 at 0.99
(--config.optimizer.learning_rate=0.01 --config.optimizer.schedule=linear --config.optimizer.adam_b2=0.99)
was above gensim with 64 negatives on every set but SimLex-999 (benchmarks/RESULTS.md, "Per-pass
learning", ninth round).
The bundled features cover the visual words of gutenberg8's 50k vocabulary (1,872 words, from
1000 photos); for the paper's coverage build your own with bin/build-visual-features and pass
--config.features=FILE (npz or word2vec text).
"""

import pathlib
import runpy

_PIXIE = runpy.run_path(str(pathlib.Path(__file__).with_name("pixie.py")))


def get_config():
    c = _PIXIE["get_config"]()
    c.corpus = "text8"
    c.max_vocab = 50_000
    c.sampler.negatives = 64
    c.sampler.negative_group = 1
    c.sampler.text_centres = 16384
    c.sampler.visual_centres = 2048
    c.sampler.visual_words = 256
    c.optimizer.learning_rate = 1e-3
    c.optimizer.schedule = "constant"
    c.epochs = 5.0
    c.steps_per_call = 50
    c.checkpoint_every = 1000
    return c
