"""Auth tables (being written)."""
