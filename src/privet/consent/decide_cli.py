"""`privet consent decide` (being written)."""


def decide_command() -> None:
    """Decide whether a subject's data may be used for a purpose."""
