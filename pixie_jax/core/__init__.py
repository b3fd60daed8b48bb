"""The paper's pure functions: encoder, decoder, fusion, fused SGNS logits, the Monte Carlo ELBO
(:mod:`.model`), and the embeddings s and t with vector helpers (:mod:`.vectors`)."""
