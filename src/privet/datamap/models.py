"""Data map tables (being written)."""
