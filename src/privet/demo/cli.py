"""`privet demo` (being written)."""


def demo() -> None:
    """Load a demo company."""
