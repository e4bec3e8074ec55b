"""Public disclosures (P13, P39): only with each subject's separate consent, or on a ground of the company's
policy written for disclosures where law, legal process or a government authority requires it (a legal reference).
Minimised: the categories are recorded; counts only."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.orm import Session

from privet.audit.service import record as audit
from privet.kit.clock import utcnow
from privet.kit.errors import InvalidInput, Problem
from privet.registers import common, grounds, policy
from privet.registers import screening as screen
from privet.registers.models import Disclosure
from privet.registers.sharing import ShareOutcome

if TYPE_CHECKING:
    from privet.kit.crypto import Keyring

DISCLOSURE_PURPOSE = "sharing.public_disclosure"


def _default_purpose(session: Session) -> str:
    """The data map's purpose for public disclosure (the taxonomy's key when the map declares none)."""
    from privet.datamap.models import DatamapActivity
    from privet.taxonomy.service import effective

    taxonomy = effective(session)
    for (purpose,) in session.execute(select(DatamapActivity.purpose).order_by(DatamapActivity.key)):
        if purpose in taxonomy.purposes and taxonomy.is_within(purpose, DISCLOSURE_PURPOSE, "purposes"):
            return purpose
    return DISCLOSURE_PURPOSE


def default_ground(accepted: list[str]) -> str:
    """The ground a disclosure with a legal reference but no code rests on: `law_required` when the company's
    policy has it, else the policy's first ground written for disclosures (Keptek 3(5)2)."""
    if "law_required" in accepted:
        return "law_required"
    return next((c for c in accepted if grounds.DISCLOSURE in grounds.get(c).uses), "law_required")


def disclose(
    session: Session,
    *,
    title: str,
    actor: str,
    categories: list[str] | None = None,
    subject_ids: list[str] | None = None,
    identities: list[tuple[str, str]] | None = None,
    legal_ground: str | None = None,
    reference: str | None = None,
    purpose: str | None = None,
    keyring: Keyring | None = None,
    at: datetime | None = None,
) -> ShareOutcome[Disclosure]:
    """Record a public disclosure. With a legal reference it rests on that; otherwise each subject needs a separate
    consent to disclosure and those without it are filtered out. Neither: refused, nothing recorded."""
    title = common.check_text(title, "title")
    categories = common.check_categories(session, categories)
    if not categories:
        raise common.bad(
            "A disclosure names the data categories it makes public",
            "categories",
            "give the categories (minimised) with --category",
        )
    legal = bool(legal_ground or (reference or "").strip())
    if not legal and not (subject_ids or identities):
        raise InvalidInput(
            "A public disclosure needs a separate consent from each person or a legal reference: "
            "nothing was disclosed or recorded",
            "name the consenting subjects, or give the legal ground and reference (--ground, --reference)",
            [Problem("no consent and no legal ground", "reference")],
        )
    purpose = purpose or _default_purpose(session)
    common.check_purposes(session, [purpose], "purpose")
    if legal:
        accepted = policy.accepted(session)
        legal_ground, reference = grounds.check_ground(
            legal_ground or default_ground(accepted), reference, policy=accepted, use=grounds.DISCLOSURE
        )
    if subject_ids or identities:
        found, screening = screen.resolve(session, keyring, subject_ids, identities)
        if legal:
            screen.accept_all(found, screening)
        else:
            screen.screen_consent(
                session,
                found,
                screening,
                purpose=purpose,
                categories=categories,
                region=None,
                reconsent_since=None,
                separate=True,
            )
    else:
        screening = screen.Screening()
    row = Disclosure(
        title=title,
        purpose=purpose,
        categories=categories,
        basis="legal_ground" if legal else "consent",
        legal_ground=legal_ground,
        reference=reference,
        requested=screening.requested,
        disclosed=len(screening.allowed),
        filtered_out=screening.filtered_out,
        reasons=dict(sorted(screening.reasons.items())),
        at=at or utcnow(),
        actor=actor,
    )
    session.add(row)
    session.flush()
    audit(
        session,
        actor=actor,
        action="registers.disclosed",
        object_type="disclosure",
        object_id=row.id,
        details={
            "purpose": purpose,
            "categories": categories,
            "basis": row.basis,
            "legal_ground": legal_ground,
            "requested": row.requested,
            "disclosed": row.disclosed,
            "filtered_out": row.filtered_out,
            "reasons": row.reasons,
        },
    )
    return ShareOutcome(row, screening.allowed, screening.positions)


def list_disclosures(session: Session, limit: int = 100) -> list[Disclosure]:
    """Public disclosures newest first."""
    return list(session.execute(select(Disclosure).order_by(Disclosure.at.desc()).limit(limit)).scalars())
