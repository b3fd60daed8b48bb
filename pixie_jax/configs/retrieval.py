"""Image/caption retrieval (the paper's section 4.3): GRU + linear image map, VSE hinge loss."""

import ml_collections


def get_config():
    c = ml_collections.ConfigDict()
    c.size = 1024  # joint space
    c.margin = 0.2
    c.hardest = False  # True: VSE++ (hardest negative only)
    c.learning_rate = 2e-4
    c.decay_every = 15  # epochs; the learning rate is divided by 10
    c.epochs = 30
    c.batch_size = 128
    c.clip = 2.0  # gradient norm
    c.seed = 0
    c.max_len = 50
    c.folds = 1  # ImageNet-gloss task: how many class folds to run (mean and spread reported)
    return c
