"""PIXIE on the bundled data (a gutenberg8 slice + features of the 1000 ImageNet sample photos).

The paper's sizes (section 4.1: K = 100, 500 tanh hidden units, window 10), with two changes
that make a 2-core CPU run of a few minutes learn useful embeddings (measured, see
benchmarks/RESULTS.md): 5 negatives instead of 64, and Adam at 1e-2 with word2vec's linear decay
instead of a constant 1e-3. On the bundled corpus batches of 2048 + 256 centres: 4096 + 512 ran
15% faster per pass and learned as well for SGNS, but PIXIE-s scored lower (mean of five benchmarks
-0.02, MEN -0.04, one seed) for 8% less time. Each pass reads every token once as a centre, in a
random order, with every context of its reduced window (word2vec's coverage of a pass): against centres drawn with
replacement and 8 contexts drawn each, SGNS at 3 passes gains SimLex-999 0.161 -> 0.194, WS-353 REL
0.242 -> 0.303 and analogies 7.3 -> 11.3% and is at or above gensim's 3 epochs on every set (RESULTS,
"Per-pass learning"). Two centres share a row of 2 (window + 1) context slots, so none is wasted: the
default run took 260 s (514 s with 2 x window slots a centre, 283-399 s with the former sampler).
A longer run gets a larger batch (sampler.text_centres = 0: about steps_per_run = 3,000 steps in all):
on gutenberg8 (19M tokens) 3 passes take 16,384 + 2,048 centres, which at 3 passes of SGNS gave
SimLex-999 0.295 against 2,048's 0.253 and WS-353 0.528 against 0.474 (32,768: 0.292 and 0.502,
MEN 0.623 against 0.656), and one pass takes 4,096 + 512
(MEN 0.61, SimLex-999 0.27 against 0.49 and 0.22 for one pass at 16,384); on the bundled corpus 16,384
learned far less than 2,048 (MEN 0.329 against 0.551).
configs/paper.py keeps the paper's settings.
Override any key on the command line: --config.sampler.negatives=64
"""
import ml_collections


def get_config() -> ml_collections.ConfigDict:
    c = ml_collections.ConfigDict()
    c.corpus = "bundled"          # a file, a folder, 'text8' (downloaded once) or 'bundled'
    c.features = "bundled"        # word-level feature file (npz or word2vec text); '' for none
    c.exclude_visual_words = ()   # words whose features are ignored (visual propagation experiments)
    c.corpus_errors = "strict"    # bytes that are not UTF-8: 'strict' (an error naming the line), 'replace', 'ignore'
    c.cache_dir = ""              # where 'text8' is downloaded and token ids are cached
                                  # ($PIXIE_JAX_CACHE or ~/.cache/pixie-jax)
    c.corpus_cache = True         # keep the corpus's token ids in the cache (the next run maps them)
    c.min_count = 5
    c.max_vocab = 50_000
    c.subsample = 1e-3            # word2vec's threshold t; 0 keeps every token
    c.noise_power = 0.75

    c.model = ml_collections.ConfigDict()
    c.model.name = "pixie"        # or a baseline: 'vsgns', 'vae', 'ivsgns' (configs/*.py, docs/baselines.md)
    c.model.dim = 100             # K
    c.model.hidden = 500
    c.model.features = 1280       # D (EfficientNet-Lite0 pooled features)
    c.model.fusion = "additive"   # eq. (5); or 'gated'

    c.sampler = ml_collections.ConfigDict()
    c.sampler.window = 10                # L
    c.sampler.contexts_per_centre = 8    # C contexts drawn per centre token
    c.sampler.enumerate_window = True    # word2vec's contexts, every one of a reduced window (False: C draws)
    c.sampler.corpus_order = False       # True: each step's centres are the next stretch of the corpus (word2vec's
                                         # order) instead of random tokens
    c.sampler.shuffle = True             # each pass's centres are its tokens in a random order, each once (False:
                                         # drawn with replacement)
    c.sampler.corpus_streams = False     # True: centre b of each step is the next token of stream b, B streams
                                         # each reading its own stretch of the corpus in order (word2vec's threads)
    c.sampler.negatives = 5              # N (the paper: 64)
    c.sampler.negative_group = 1         # G pairs share negatives; 1 = the paper
    c.sampler.text_centres = 0           # centres without features per step; 0: sized to the run, 2,048
                                         # times the power of 2 that brings the run nearest steps_per_run
                                         # steps (the bundled corpus, 3 passes: 2,048; gutenberg8: 16,384,
                                         # and 4,096 for one pass)
    c.sampler.visual_centres = 256       # centres with features per step (times the same power of 2 when
                                         # text_centres is sized: gutenberg8 2,048)
    c.sampler.steps_per_run = 3000       # for the sized batch (0: 2,048 whatever the run)
    c.sampler.visual_words = 64          # words drawn for the VAE term per step
    c.sampler.samples = 1                # J

    c.visual_weight_mode = "per_word"    # lambda = weight * |V_x| / P ('per_word', eq. 7) or weight ('fixed')
    c.visual_weight = 1.0

    c.optimizer = ml_collections.ConfigDict()
    c.optimizer.name = "adam"                 # for the tables e and v (dense; 'row_adam': one second moment a
                                              # row); or 'sparse_sgd', 'capped_sgd', 'lazy_adam' (row-sparse
                                              # updates, docs/objective.md)
    c.optimizer.learning_rate = 1e-2
    c.optimizer.row_cap = 16.0                # capped_sgd: a row gathered n > row_cap times in a step moves by
                                              # row_cap / n of its summed gradient
    c.optimizer.adam_eps = 1e-8               # the tables' (row_)adam, adamw, lazy_adam: eps in lr m / (sqrt(v) + eps)
    c.optimizer.adam_b1 = 0.9                 # their first moment's decay, m <- b1 m + (1 - b1) g
    c.optimizer.adam_b2 = 0.999               # their second moment's decay, v <- b2 v + (1 - b2) g^2
    c.optimizer.network_name = "adam"         # for encoder, decoder and fusion
    c.optimizer.network_learning_rate = 1e-3
    c.optimizer.schedule = "linear"           # word2vec's decay to 1e-4 of the start; or 'constant'

    c.epochs = 3.0
    c.segment_tokens = 20_000_000 # a larger corpus trains one segment at a time (text8 and gutenberg8 are one)
    c.steps_per_call = 20
    c.checkpoint_every = 200      # steps; also at the end
    c.keep_checkpoints = 3
    c.seed = 0
    c.resume_with_new_schedule = False  # resuming a workdir may change epochs (the linear decay restarts
                                        # from the new length at the restored step)
    c.progress = True
    c.embedding = "t"             # written as embeddings.txt (word2vec text): e, s or t
    c.benchmarks = "bundled"      # similarity table at the end; '' to skip
    return c
