"""Demo loading (being written)."""


def load_demo_if_empty(settings, engine, company):  # noqa: ANN001, ANN201
    return "demo: not yet available"
