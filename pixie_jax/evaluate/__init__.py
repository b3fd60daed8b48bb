"""Evaluation: word similarity, neighbours, propagation, retrieval."""
