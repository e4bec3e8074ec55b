"""The effective taxonomy of the company: the default plus the extension stored with its data map."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from sqlalchemy.orm import Session

from privet.audit.service import record
from privet.db.memo import forget, per_transaction
from privet.taxonomy.entries import SECTIONS
from privet.taxonomy.loader import Taxonomy, default_taxonomy, load_taxonomy
from privet.taxonomy.models import TaxonomyExtension

_ROW_ID = 1
_EMPTY_DIGEST = hashlib.sha256(b"null").hexdigest()
_built: dict[str, Taxonomy] = {}  # digest -> taxonomy, so requests do not re-validate an unchanged extension


def _plain(extension: dict[str, Any] | None) -> tuple[dict | None, str]:
    """JSON-safe copy (line-number mappings become plain dicts) and its canonical digest."""
    content = json.loads(json.dumps(extension, ensure_ascii=False)) if extension else None
    canonical = json.dumps(content, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return content, hashlib.sha256(canonical.encode()).hexdigest()


def set_extension(
    session: Session, extension: dict[str, Any] | None, *, actor: str, source: str = "<extension>"
) -> bool:
    """Validate and store the company's taxonomy additions; audit when they changed. Returns whether they did."""
    taxonomy = load_taxonomy(extension, source)  # raises InvalidInput before anything is written
    content, digest = _plain(extension)
    row = session.get(TaxonomyExtension, _ROW_ID)
    previous = row.digest if row is not None else _EMPTY_DIGEST
    if previous == digest:
        return False
    if row is None:
        row = TaxonomyExtension(id=_ROW_ID, content=content, digest=digest, updated_by=actor)
        session.add(row)
    else:
        row.content, row.digest, row.updated_by = content, digest, actor
    _built[digest] = taxonomy
    counts = {
        section: sum(1 for e in getattr(taxonomy, section).values() if e.source == "company") for section in SECTIONS
    }
    record(
        session,
        actor=actor,
        action="taxonomy.extension_set",
        object_type="taxonomy_extension",
        object_id=str(_ROW_ID),
        details={"digest": digest, "previous_digest": previous, "company_entries": counts},
    )
    session.flush()
    forget(session)
    return True


def effective(session: Session) -> Taxonomy:
    """The default taxonomy plus the stored extension (read once per transaction: `set_extension` forgets it)."""
    return per_transaction(session, "taxonomy.effective", lambda: _effective(session))


def _effective(session: Session) -> Taxonomy:
    row = session.get(TaxonomyExtension, _ROW_ID)
    if row is None or not row.content:
        return default_taxonomy()
    if row.digest not in _built:
        if len(_built) > 16:
            _built.clear()
        _built[row.digest] = load_taxonomy(row.content, "stored taxonomy extension")
    return _built[row.digest]
