"""The trainer, which knows no model: the :class:`.trainable.Trainable` protocol, row tables, the skip-gram
sampler, row-sparse optimizers, the jitted data-parallel step, the loop with its checkpoints and run records."""
