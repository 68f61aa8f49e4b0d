"""Sections -> chunks measured in the embedding model's tokens, each with its context."""
