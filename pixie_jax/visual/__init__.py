"""Visual features: WordNet mapping, feature files, the CNN extractor."""
