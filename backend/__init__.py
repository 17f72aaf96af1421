"""Parsimony explorer backend: data, models, metrics and evidence for seven knowledge-aware methods."""
__version__ = "0.1.0"
