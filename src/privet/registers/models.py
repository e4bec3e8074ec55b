"""Registers (P9–P13, P36–P39): processors entrusted with data, recipients (with their agreements) and their
sharing events, public disclosures, corporate transfers, and the grounds the company's policy declares.

No personal data in these rows: sharing and disclosure events keep counts (requested, shared, filtered out by
reason), never who was shared.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from privet.db.base import Base, IdMixin, TimestampMixin
from privet.kit.clock import utcnow


class Processor(IdMixin, TimestampMixin, Base):
    """A processor entrusted with personal data (P9), keyed like the data map's activity `processors`."""

    __tablename__ = "register_processors"

    key: Mapped[str] = mapped_column(String(80), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    agreement_ref: Mapped[str | None] = mapped_column(String(200))  # the signed processing agreement
    signed_on: Mapped[date | None] = mapped_column(Date)
    expires_on: Mapped[date | None] = mapped_column(Date)
    purposes: Mapped[list] = mapped_column(default=list)
    categories: Mapped[list] = mapped_column(default=list)
    regions: Mapped[list] = mapped_column(default=list)  # where it processes (CN, EU, US, ...)
    security_measures: Mapped[list] = mapped_column(default=list)
    created_by: Mapped[str] = mapped_column(String(120))


class Recipient(IdMixin, TimestampMixin, Base):
    """Another controller personal data is provided to (affiliate, partner, authority) (P10, P11, P37)."""

    __tablename__ = "register_recipients"

    key: Mapped[str] = mapped_column(String(80), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(20), default="third_party")  # affiliate | partner | authority | ...
    purposes: Mapped[list] = mapped_column(default=list)  # taxonomy purposes the recipient uses the data for
    categories: Mapped[list] = mapped_column(default=list)  # the most a share may contain (minimal scope)
    region: Mapped[str | None] = mapped_column(String(10))
    legal_grounds: Mapped[list] = mapped_column(default=list)  # legal-ground codes a share may rest on
    # The confidentiality or data-sharing agreement binding the recipient (P38); authorities have none.
    agreement_ref: Mapped[str | None] = mapped_column(String(200))
    signed_on: Mapped[date | None] = mapped_column(Date)
    expires_on: Mapped[date | None] = mapped_column(Date)
    # Set when the recipient changed purpose: consents older than this no longer cover it (re-consent, P10).
    reconsent_since: Mapped[datetime | None]
    purpose_changes: Mapped[list] = mapped_column(default=list)  # [{at, actor, old, new, reason}]
    created_by: Mapped[str] = mapped_column(String(120))


class SharingEvent(IdMixin, Base):
    """One provision of personal data to a recipient, with its basis and counts (never identities)."""

    __tablename__ = "register_sharing_events"

    recipient_id: Mapped[str] = mapped_column(ForeignKey("register_recipients.id"), index=True)
    purpose: Mapped[str] = mapped_column(String(160))
    categories: Mapped[list] = mapped_column(default=list)
    basis: Mapped[str] = mapped_column(String(20))  # consent | legal_ground
    legal_ground: Mapped[str | None] = mapped_column(String(40))  # a code of privet.registers.grounds
    reference: Mapped[str | None] = mapped_column(String(200))  # the law, court order or authority's letter
    requested: Mapped[int] = mapped_column(Integer, default=0)
    shared: Mapped[int] = mapped_column(Integer, default=0)
    filtered_out: Mapped[int] = mapped_column(Integer, default=0)
    reasons: Mapped[dict] = mapped_column(default=dict)  # reason code -> count of subjects filtered out
    note: Mapped[str | None] = mapped_column(Text)
    at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    actor: Mapped[str] = mapped_column(String(120))


class Disclosure(IdMixin, Base):
    """A public disclosure (P13): a separate consent per subject, or a legal reference."""

    __tablename__ = "register_disclosures"

    title: Mapped[str] = mapped_column(String(200))  # what was published (no personal data)
    purpose: Mapped[str] = mapped_column(String(160))
    categories: Mapped[list] = mapped_column(default=list)
    basis: Mapped[str] = mapped_column(String(20))  # consent | legal_ground
    legal_ground: Mapped[str | None] = mapped_column(String(40))
    reference: Mapped[str | None] = mapped_column(String(200))
    requested: Mapped[int] = mapped_column(Integer, default=0)
    disclosed: Mapped[int] = mapped_column(Integer, default=0)
    filtered_out: Mapped[int] = mapped_column(Integer, default=0)
    reasons: Mapped[dict] = mapped_column(default=dict)
    at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    actor: Mapped[str] = mapped_column(String(120))


class CorporateTransfer(IdMixin, TimestampMixin, Base):
    """Data passing to a successor in a merger, acquisition, asset sale or bankruptcy (P12, P36)."""

    __tablename__ = "register_corporate_transfers"

    successor: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(20))  # merger | acquisition | asset_sale | bankruptcy | other
    transfer_date: Mapped[date] = mapped_column(Date)
    binding_statement: Mapped[str] = mapped_column(Text)  # the successor is bound by the privacy policy
    bound: Mapped[bool] = mapped_column(default=True)  # False: the successor must seek consent again
    categories: Mapped[list] = mapped_column(default=list)
    subject_count: Mapped[int] = mapped_column(Integer, default=0)
    reference: Mapped[str | None] = mapped_column(String(200))  # the deal or contract reference
    # The notification (bound) or re-consent (not bound) campaign to the subjects.
    campaign_kind: Mapped[str] = mapped_column(String(20))  # notification | reconsent
    campaign_status: Mapped[str] = mapped_column(String(20), default="prepared")  # prepared | sent
    campaign_subjects: Mapped[int] = mapped_column(Integer, default=0)
    created_by: Mapped[str] = mapped_column(String(120))


class RegisterPolicy(IdMixin, TimestampMixin, Base):
    """The grounds the company's privacy policy declares for sharing and disclosure without consent (P39): at most
    one row. Shares and disclosures on any other ground are refused."""

    __tablename__ = "register_policy"

    name: Mapped[str] = mapped_column(String(200))  # which policy (and version) the grounds come from
    grounds: Mapped[list] = mapped_column(default=list)  # codes of privet.registers.grounds
    declared_by: Mapped[str] = mapped_column(String(120))
