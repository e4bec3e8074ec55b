"""Handing the access package to its own signed-in subject from the request's page (no e-mailed link needed).

The rules are `requests.package.hand_out`'s (download count, expiry, purge after the last download, audit); the
package is found by the request instead of by the link's token, which Privet never stores.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from privet.kit.crypto import Keyring
from privet.kit.errors import NotFound
from privet.requests.models import DsrRequest
from privet.requests.packages.service import hand_out
from privet.requests.queries import package_of


def open_for_subject(session: Session, keyring: Keyring, request: DsrRequest, subject_id: str) -> bytes:
    """The zip of `request`'s package for its subject (the caller checked ownership), counting the download."""
    package = package_of(session, request)
    if package is None:
        raise NotFound("This request has no package yet", "wait until the request is completed")
    return hand_out(
        session,
        keyring,
        package,
        actor=f"subject:{subject_id}",
        details={"subject_session": True, "via": "privacy_centre"},
    )
