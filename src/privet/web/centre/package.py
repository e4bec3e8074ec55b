"""Handing the access package to its own signed-in subject from the request's page (no e-mailed link needed).

The same rules as `requests.package.open_package` (download count, expiry, purge after the last download, audit),
found by the request instead of by the link's token, which Privet never stores.
"""

from __future__ import annotations

from sqlalchemy import update
from sqlalchemy.orm import Session

from privet.audit.service import record
from privet.kit.clock import utcnow
from privet.kit.crypto import Keyring
from privet.kit.errors import NotFound
from privet.requests.models import AccessPackage, DsrRequest
from privet.requests.package import Gone, package_context
from privet.requests.queries import package_of

HINT = "ask for a new copy: file a new access request from the privacy centre"


def open_for_subject(session: Session, keyring: Keyring, request: DsrRequest, subject_id: str) -> bytes:
    """The zip of `request`'s package for its subject (the caller checked ownership), counting the download."""
    package = package_of(session, request)
    if package is None:
        raise NotFound("This request has no package yet", "wait until the request is completed")
    if package.downloads >= package.max_downloads:
        raise Gone(f"This package was already downloaded {package.max_downloads} times, the most allowed", HINT)
    now = utcnow()
    if package.blob_enc is None or package.purged_at is not None or now >= package.expires_at:
        raise Gone("This download link has expired and the package was deleted", HINT)
    counted = session.execute(
        update(AccessPackage).where(AccessPackage.id == package.id,
                                    AccessPackage.downloads < AccessPackage.max_downloads)
        .values(downloads=AccessPackage.downloads + 1).execution_options(synchronize_session=False)).rowcount
    session.refresh(package)
    if not counted:
        raise Gone(f"This package was already downloaded {package.max_downloads} times, the most allowed", HINT)
    data = keyring.decrypt(package.blob_enc, context=package_context(package.id))
    last = package.downloads >= package.max_downloads
    if last:
        package.blob_enc, package.purged_at = None, now
    record(session, actor=f"subject:{subject_id}", action="package.downloaded", object_type="access_package",
           object_id=package.id, details={"request_id": package.request_id, "downloads": package.downloads,
                                          "max_downloads": package.max_downloads, "purged": last,
                                          "subject_session": True, "via": "privacy_centre"})
    session.flush()
    return data
