"""The models: the description a model gives (:mod:`.spec`), the registry by ``config.model.name``, PIXIE
(:mod:`.pixie`, its objective and embeddings) and the paper's baselines (:mod:`.vsgns`, :mod:`.vae`,
:mod:`.ivsgns`; SGNS is PIXIE without features, CNN the features themselves)."""
