"""Retention: rules from the data map, dry-run plans and batched, resumable sweeps of the company's databases."""
