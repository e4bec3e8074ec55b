"""Privet: privacy operations — data map, consent, data-subject requests, retention, audit."""

__version__ = "0.1.0"
