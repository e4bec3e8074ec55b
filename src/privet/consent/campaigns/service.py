"""Campaigns: who a material change affects, one queued message each, and the counts of what happened.

A campaign is started by a job the notice publication queues (`START_JOB`), so a publication never waits for the
campaign and a crash in between loses nothing. The people are those whose current consent to a changed purpose
(or a narrower one) was given before the change takes hold; decisions deny those purposes until they give consent
again (`privet.consent.decisions`), which is what the campaign asks them to do. A policy change is an important
notice (P35): marketing channel choices do not stop it.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, func, or_, select
from sqlalchemy.orm import Session

from privet.audit.service import record as audit
from privet.consent.models import Campaign, CampaignMessage, ConsentRecord, ConsentState
from privet.kit.clock import utcnow
from privet.kit.errors import NotFound

START_JOB = "consent.campaign_start"
MESSAGE_JOB = "consent.campaign_message"
POSITIVE = ("given", "renewed")
STATUSES = ("queued", "sent", "failed", "no_address")
CHANNEL_OF = {"email": "email", "phone": "sms"}  # identity type -> channel; e-mail first, SMS when it is the only
CHUNK = 500
SYSTEM = "system:campaigns"


@dataclass
class Counts:
    """What happened: messages the sender accepted, those that failed for good, waiting, unreachable people, and
    people who gave consent again (to every changed purpose they held) since the change."""

    people: int = 0
    queued: int = 0
    sent: int = 0
    failed: int = 0
    no_address: int = 0
    reconsented: int = 0

    def as_dict(self) -> dict:
        """JSON-ready form."""
        return dict(self.__dict__)


def _covered(purposes: list[str]) -> ColumnElement[bool]:
    """The projection's purposes equal to a changed purpose or narrower than one."""
    return or_(
        *[
            or_(ConsentState.purpose == p, ConsentState.purpose.like(p.replace("_", r"\_") + ".%", escape="\\"))
            for p in purposes
        ]
    )


def affected(session: Session, purposes: list[str], moment: datetime) -> dict[str, list[tuple[str, int]]]:
    """subject id → [(purpose, ledger seq of its consent)] for consent given before `moment` and still in force."""
    now = utcnow()
    rows = session.execute(
        select(ConsentState.holder, ConsentState.purpose, ConsentState.record_seq)
        .where(
            ConsentState.holder.like("s:%"),
            ConsentState.event.in_(POSITIVE),
            ConsentState.at < moment,
            or_(ConsentState.expires_at.is_(None), ConsentState.expires_at > now),
            _covered(purposes),
        )
        .order_by(ConsentState.holder, ConsentState.purpose)
    )
    out: dict[str, list[tuple[str, int]]] = defaultdict(list)
    for holder, purpose, seq in rows:
        out[holder[2:]].append((purpose, seq))
    return out


def _languages(session: Session, seqs: list[int]) -> dict[int, str | None]:
    out: dict[int, str | None] = {}
    for i in range(0, len(seqs), CHUNK):
        chunk = seqs[i : i + CHUNK]
        out.update(
            session.execute(select(ConsentRecord.seq, ConsentRecord.language).where(ConsentRecord.seq.in_(chunk))).all()
        )
    return out


def _channels(session: Session, subject_ids: list[str]) -> tuple[dict[str, str], set[str]]:
    """subject → the channel to write on (e-mail if the person has one, else SMS), and the active subjects."""
    from privet.subjects.models import Identity, Subject

    channels: dict[str, str] = {}
    active: set[str] = set()
    for i in range(0, len(subject_ids), CHUNK):
        chunk = subject_ids[i : i + CHUNK]
        active |= set(
            session.execute(select(Subject.id).where(Subject.id.in_(chunk), Subject.status == "active")).scalars()
        )
        for subject_id, kind in session.execute(
            select(Identity.subject_id, Identity.type).where(
                Identity.subject_id.in_(chunk), Identity.type.in_(list(CHANNEL_OF))
            )
        ):
            if channels.get(subject_id) != "email":
                channels[subject_id] = CHANNEL_OF[kind]
    return channels, active


def _language(value: str | None) -> str:
    return "zh_CN" if (value or "").lower().replace("-", "_").startswith("zh") else "en"


def start(session: Session, notice_key: str, version_number: int) -> Campaign | None:
    """Create the campaign of a published version and queue one message per affected person (once: a second call
    returns the existing campaign). None when the version changed nothing materially."""
    from privet.jobs.service import enqueue
    from privet.notices.service import get_version, material_moment

    existing = session.execute(
        select(Campaign).where(Campaign.notice_key == notice_key, Campaign.notice_version == version_number)
    ).scalar_one_or_none()
    if existing is not None:
        return existing
    version = get_version(session, notice_key, version_number)
    if not version.material_purposes:
        return None
    moment = material_moment(version)
    campaign = Campaign(
        notice_key=notice_key,
        notice_version=version_number,
        purposes=list(version.material_purposes),
        moment=moment,
        created_at=utcnow(),
    )
    session.add(campaign)
    session.flush()
    people = affected(session, campaign.purposes, moment)
    languages = _languages(session, [seq for held in people.values() for _, seq in held])
    channels, active = _channels(session, list(people))
    messages = []
    for subject_id, held in people.items():
        if subject_id not in active:  # closed or merged: closure withdrew their consent already
            continue
        channel = channels.get(subject_id)
        language = _language(next((languages.get(seq) for _, seq in held if languages.get(seq)), None))
        messages.append(
            CampaignMessage(
                campaign_id=campaign.id,
                subject_id=subject_id,
                purposes=[p for p, _ in held],
                channel=channel,
                language=language,
                status="queued" if channel else "no_address",
                attempts=0,
                created_at=campaign.created_at,
            )
        )
    session.add_all(messages)
    session.flush()
    for message in messages:
        if message.status == "queued":
            enqueue(session, MESSAGE_JOB, {"message_id": message.id}, dedupe_key=f"campaign:{message.id}")
    audit(
        session,
        actor=SYSTEM,
        action="consent.campaign_started",
        object_type="campaign",
        object_id=campaign.id,
        details={
            "notice": notice_key,
            "version": version_number,
            "purposes": campaign.purposes,
            "queued": sum(m.status == "queued" for m in messages),
            "no_address": sum(m.status == "no_address" for m in messages),
        },
    )
    return campaign


def get_campaign(session: Session, campaign_id: str) -> Campaign:
    """One campaign by id, or NotFound."""
    campaign = session.get(Campaign, campaign_id)
    if campaign is None:
        raise NotFound(
            f"No campaign {campaign_id!r}", "list them with `privet campaigns list` or GET /api/v1/campaigns"
        )
    return campaign


def list_campaigns(session: Session) -> list[Campaign]:
    """Every campaign, newest first."""
    return list(session.execute(select(Campaign).order_by(Campaign.created_at.desc(), Campaign.id)).scalars())


def _reconsented(session: Session, campaign: Campaign) -> int:
    """People who have given consent again, since the change, to every changed purpose they had consented to."""
    rows = session.execute(
        select(CampaignMessage.subject_id, CampaignMessage.purposes).where(CampaignMessage.campaign_id == campaign.id)
    ).all()
    done = 0
    for i in range(0, len(rows), CHUNK):
        chunk = rows[i : i + CHUNK]
        holders = [f"s:{subject_id}" for subject_id, _ in chunk]
        fresh = {
            tuple(row)
            for row in session.execute(
                select(ConsentState.holder, ConsentState.purpose).where(
                    ConsentState.holder.in_(holders),
                    ConsentState.event.in_(POSITIVE),
                    ConsentState.at >= campaign.moment,
                )
            )
        }
        done += sum(all((f"s:{subject_id}", p) in fresh for p in purposes) for subject_id, purposes in chunk)
    return done


def counts(session: Session, campaign: Campaign) -> Counts:
    """The campaign's counts, as they stand now."""
    found = Counts()
    for status, n in session.execute(
        select(CampaignMessage.status, func.count())
        .where(CampaignMessage.campaign_id == campaign.id)
        .group_by(CampaignMessage.status)
    ):
        setattr(found, status, n)
        found.people += n
    found.reconsented = _reconsented(session, campaign)
    return found


def messages(session: Session, campaign: Campaign, *, status: str | None = None, limit: int = 100) -> list:
    """The campaign's messages (subject ids, channel, status, attempts, error class; no address)."""
    stmt = select(CampaignMessage).where(CampaignMessage.campaign_id == campaign.id)
    if status is not None:
        stmt = stmt.where(CampaignMessage.status == status)
    return list(session.execute(stmt.order_by(CampaignMessage.created_at, CampaignMessage.id).limit(limit)).scalars())


def retry_failed(session: Session, campaign: Campaign, *, actor: str) -> int:
    """Queue the failed messages again (after the sender is fixed); returns how many."""
    from privet.jobs.service import enqueue

    failed = list(
        session.execute(
            select(CampaignMessage).where(
                CampaignMessage.campaign_id == campaign.id, CampaignMessage.status == "failed"
            )
        ).scalars()
    )
    for message in failed:
        message.status, message.attempts = "queued", 0
        enqueue(session, MESSAGE_JOB, {"message_id": message.id}, dedupe_key=f"campaign:{message.id}")
    audit(
        session,
        actor=actor,
        action="consent.campaign_retried",
        object_type="campaign",
        object_id=campaign.id,
        details={"messages": len(failed)},
    )
    return len(failed)
