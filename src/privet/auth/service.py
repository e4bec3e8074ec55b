"""Auth rules (being written)."""


def ensure_first_admin(session):  # noqa: ANN001, ANN201
    return None


def principal_for_api_key(session, token):  # noqa: ANN001, ANN201
    return None


def principal_for_session(session, cookie):  # noqa: ANN001, ANN201
    return None


def csrf_ok(session, cookie, token):  # noqa: ANN001, ANN201
    return False
