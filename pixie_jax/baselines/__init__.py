"""The paper's competing models (Table 2), each a loss or a post-hoc map; see docs/baselines.md.

- SGNS: PIXIE without features (``configs/sgns.py``), no code of its own.
- CNN: the word-level features themselves (kind ``x`` of any embeddings file).
- VAE: :mod:`pixie_jax.baselines.vae`, the visual term of PIXIE alone.
- CNN+SGNS, VAE+SGNS: concatenations, :func:`pixie_jax.evaluate.kinds.combine`.
- V-SGNS: :mod:`pixie_jax.baselines.vsgns`, multimodal skip-gram (Lazaridou et al., 2015).
- IV-SGNS: :mod:`pixie_jax.baselines.ivsgns`, maps from text to visual features (Collell et al., 2017).
"""
