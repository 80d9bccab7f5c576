"""Townsquare: a privacy-first neighborhood safety feed."""

__version__ = "0.1.0"
