"""Nuanliu (暖流): smart district heating from source to household (源、网、站、户)."""

__version__ = "0.1.0"
