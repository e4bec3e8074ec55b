"""Campaign jobs: start a campaign for a published material version; send one person's message.

A message whose send fails is retried with the job's back-off; each attempt is counted on the message, and when
the last attempt fails the message is marked failed (shown in the campaign's counts; `privet campaigns retry`
queues it again). Sent means the mail server or SMS gateway accepted it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.orm import Session

from privet.audit.service import record as audit
from privet.consent.campaigns import messages, service
from privet.consent.models import Campaign, CampaignMessage
from privet.jobs.registry import handler
from privet.kit.clock import utcnow

if TYPE_CHECKING:
    from privet.jobs.context import JobContext

ERROR_CHARS = 200


@handler(service.START_JOB)
def start_job(ctx: JobContext, payload: dict) -> None:
    """Create the campaign of a published version and queue its messages (once)."""
    with ctx.session(last=True) as session:
        service.start(session, payload["notice"], int(payload["version"]))


def _prepare(session: Session, ctx: JobContext, message: CampaignMessage) -> tuple[str, messages.Rendered] | None:
    from privet.datamap.models import DatamapOrganisation
    from privet.notices.service import get_notice
    from privet.subjects.service import get_subject, identities_of
    from privet.taxonomy.service import effective

    campaign = session.get(Campaign, message.campaign_id)
    assert campaign is not None  # a message belongs to its campaign (deleting a campaign deletes its messages)
    subject = get_subject(session, message.subject_id, follow_merge=False)
    wanted = "email" if message.channel == "email" else "phone"
    ranked = sorted(
        (v for v in identities_of(session, ctx.keyring, subject) if v.type == wanted),
        key=lambda v: v.verified_at is None,
    )
    if not ranked:
        return None
    notice = get_notice(session, campaign.notice_key)
    language = message.language
    title = (notice.title or {}).get(language) or (notice.title or {}).get("en") or notice.key
    taxonomy = effective(session)
    organisation = session.execute(select(DatamapOrganisation.name).limit(1)).scalar()
    rendered = messages.render(
        language,
        notice=title,
        version=campaign.notice_version,
        purposes=[taxonomy.label("purposes", p, language) for p in message.purposes],
        moment=campaign.moment,
        link=messages.link(ctx.settings),
        organisation=organisation,
    )
    return ranked[0].value, rendered


def _error(exc: Exception) -> str:
    """The error's class, with Privet's own message (which never names an address); others' messages may."""
    from privet.kit.errors import PrivetError

    text = exc.detail.splitlines()[0] if isinstance(exc, PrivetError) and exc.detail else ""
    return f"{type(exc).__name__}: {text}"[:ERROR_CHARS] if text else type(exc).__name__


@handler(service.MESSAGE_JOB)
def message_job(ctx: JobContext, payload: dict) -> None:
    """Send one campaign message; record sent, or the attempt's error (failed after the last attempt)."""
    with ctx.session(write=False) as session:
        message = session.get(CampaignMessage, payload["message_id"])
        if message is None or message.status != "queued":
            return  # sent already (a repeated delivery of this job) or the campaign is gone
        prepared = _prepare(session, ctx, message)
        channel = message.channel
    if prepared is None:
        with ctx.session(last=True) as session:
            found = session.get(CampaignMessage, payload["message_id"])
            assert found is not None  # read above in this job
            found.status, found.channel = "no_address", None
        return
    to, rendered = prepared
    assert channel is not None  # a queued message has one (None only with the status no_address)
    try:
        messages.deliver(ctx.settings, channel, to, rendered)
    except Exception as exc:
        error = _error(exc)
        with ctx.session() as session:
            found = session.get(CampaignMessage, payload["message_id"])
            assert found is not None  # read above in this job
            found.attempts += 1
            found.last_error = error
            if ctx.final_attempt:
                found.status = "failed"
                _audit(session, found, "consent.campaign_message_failed", error=error.split(":")[0])
        raise
    with ctx.session(last=True) as session:
        found = session.get(CampaignMessage, payload["message_id"])
        assert found is not None  # read above in this job
        found.attempts += 1
        found.status, found.sent_at, found.last_error = "sent", utcnow(), None
        _audit(session, found, "consent.campaign_message_sent")


def _audit(session: Session, message: CampaignMessage, action: str, **details: object) -> None:
    audit(
        session,
        actor=service.SYSTEM,
        action=action,
        object_type="campaign",
        object_id=message.campaign_id,
        details={"subject_id": message.subject_id, "channel": message.channel, "attempts": message.attempts, **details},
    )
