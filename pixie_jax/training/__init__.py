"""The trainer, which knows no model: the :class:`.learner.Learner` protocol, row tables, the skip-gram
sampler, row-sparse optimizers, the jitted data-parallel step, the loop with its checkpoints and run records."""
