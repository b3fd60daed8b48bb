"""pixie-jax: PIXIE multimodal word embeddings (Ailem et al., EMNLP 2018) in JAX/Flax."""

__version__ = "0.1.0"
