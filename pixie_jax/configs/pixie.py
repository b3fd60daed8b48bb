"""PIXIE on the bundled data: a gutenberg8 slice and word features of 1000 ImageNet photos.

The paper's model (K = 100, 500 tanh units) with a CPU recipe chosen by time to quality against gensim
(docs/studies/time_to_quality.md): window 5 (the paper's 10: configs/paper.py), subsampling at 3e-4, 5
negatives, Adam 1e-2 with word2vec's linear decay, a batch sized to the run. Every key: docs/config.md.
Override any key on the command line: --config.sampler.window=10"""

import ml_collections


def get_config() -> ml_collections.ConfigDict:
    c = ml_collections.ConfigDict()
    c.corpus = "bundled"  # a file, a folder, 'text8' (downloaded once) or 'bundled'
    c.features = "bundled"  # word features (npz or word2vec text); '' for none
    c.exclude_visual_words = ()  # words whose features are ignored (visual propagation)
    c.corpus_errors = "strict"  # bytes that are not UTF-8: 'strict', 'replace' or 'ignore'
    c.cache_dir = ""  # downloads and token ids ('' = $PIXIE_JAX_CACHE or ~/.cache/pixie-jax)
    c.corpus_cache = True  # keep the corpus's token ids in the cache
    c.min_count = 5
    c.max_vocab = 50_000
    c.subsample = 3e-4  # word2vec's threshold t (word2vec: 1e-3); 0 keeps every token
    c.noise_power = 0.75  # P_n(w) ~ count^0.75

    c.model = ml_collections.ConfigDict()
    c.model.name = "pixie"  # or 'vsgns', 'vae', 'ivsgns', or a model file of one's own
    c.model.dim = 100  # K
    c.model.hidden = 500  # encoder and decoder units
    c.model.features = 1280  # D, the feature size
    c.model.fusion = "additive"  # eq. (5); or 'gated'

    c.sampler = ml_collections.ConfigDict()
    c.sampler.window = 5  # L (the paper: 10)
    c.sampler.contexts_per_centre = 8  # C draws a centre when enumerate_window is False
    c.sampler.enumerate_window = True  # every context of word2vec's reduced window
    c.sampler.shuffle = True  # a pass's tokens in a random order, each once
    c.sampler.negatives = 5  # N (the paper: 64)
    c.sampler.negative_group = 1  # G pairs share negatives; 1 = the paper
    c.sampler.text_centres = 0  # centres without features a step; 0 = sized to the run
    c.sampler.visual_centres = 256  # centres with features a step (scaled with a sized batch)
    c.sampler.steps_per_run = 3000  # the steps a sized batch aims at
    c.sampler.visual_words = 64  # words drawn for the VAE term a step
    c.sampler.samples = 1  # J, reparameterisation samples

    c.visual_weight_mode = "per_word"  # lambda = weight |V_x| / P ('per_word', eq. 7) or weight ('fixed')
    c.visual_weight = 1.0

    c.optimizer = ml_collections.ConfigDict()
    c.optimizer.name = "adam"  # tables e, v: 'adam', 'adamw', or row-sparse 'sparse_sgd', 'lazy_adam'
    c.optimizer.learning_rate = 0.0  # the tables' rate; 0: the optimizer's own (Adam 1e-2, sparse_sgd 0.025)
    c.optimizer.adam_eps, c.optimizer.adam_b1, c.optimizer.adam_b2 = 1e-8, 0.9, 0.999  # the tables' Adam
    c.optimizer.table_rates = ""  # multiples of the tables' rate for some tables: 'v:0.5'; '' for none
    c.optimizer.lazy_tables = ""  # with lazy_adam, the tables it updates lazily ('e', 'v'); '' every table
    c.optimizer.network_name = "adam"  # encoder, decoder and fusion
    c.optimizer.network_learning_rate = 1e-3
    c.optimizer.schedule = "linear"  # word2vec's decay to 1e-4 of the start; or 'constant'

    c.epochs = 3.0
    c.segment_tokens = 20_000_000  # a larger corpus trains one segment at a time
    c.steps_per_call = 20  # steps in one jitted call
    c.shard_tables = "auto"  # e, v and their optimizer state split by rows over the devices: 'auto', 'on', 'off'
    c.distinct_rows = "auto"  # each distinct row read and updated once a step: 'auto', 'on', 'off' (docs/config.md)
    c.checkpoint_every = 200  # steps; also at the end
    c.keep_checkpoints = 3
    c.seed = 0
    c.resume_with_new_schedule = False  # let a resume change epochs
    c.progress = True
    c.embedding = "t"  # written as embeddings.txt: e, s or t
    c.benchmarks = "bundled"  # similarity table at the end; '' to skip
    return c
