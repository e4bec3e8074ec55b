"""Publishing notices as numbered versions, and the material changes that make earlier consent insufficient."""

from __future__ import annotations

import difflib
import hashlib
import json
import re
from collections.abc import Mapping
from datetime import UTC, date, datetime, time

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from privet.audit.service import record
from privet.kit.clock import utcnow
from privet.kit.errors import Conflict, InvalidInput, NotFound, Problem
from privet.notices import diff as differ
from privet.notices.material import detect
from privet.notices.models import Notice, NoticeVersion
from privet.notices.parse import Format, detect_format, parse

KINDS = ("policy", "product", "just_in_time")
KEY = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,79}$")
LANG = re.compile(r"^[a-z]{2,3}(_[A-Z][A-Za-z]{1,3})?$")
MAX_TEXT = 1_000_000  # characters per language: far beyond any real policy, small enough to keep rows sane
RESERVED_KEYS = {"public"}  # /notices/public/... are the privacy centre's routes


def normalise(text: str) -> str:
    """The text as hashed and stored: Unix line ends, no trailing spaces, no leading or trailing blank lines."""
    lines = text.replace("\ufeff", "").replace("\r\n", "\n").replace("\r", "\n").split("\n")
    return "\n".join(line.rstrip() for line in lines).strip("\n")


def content_hash(texts: dict[str, str], purposes: list[str]) -> str:
    """sha256 over the canonical content: every language's normalised text and the purposes covered."""
    body = {"texts": {lang: normalise(text) for lang, text in texts.items()}, "purposes": sorted(set(purposes))}
    return hashlib.sha256(
        json.dumps(body, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode()
    ).hexdigest()


def _check_purposes(session: Session, purposes: list[str], field: str) -> list[Problem]:
    from privet.taxonomy.service import effective

    known = effective(session).purposes
    problems = []
    for i, key in enumerate(purposes):
        if key not in known:
            close = difflib.get_close_matches(key, list(known), n=1)
            problems.append(
                Problem(
                    f"unknown purpose {key!r}",
                    f"{field}.{i}",
                    f"did you mean {close[0]!r}?"
                    if close
                    else "use a purpose key from `privet taxonomy list purposes` or add it in the taxonomy extension",
                )
            )
    return problems


def _validate(
    session: Session,
    key: str,
    kind: str,
    product: str | None,
    texts: dict[str, str],
    title: dict | None,
    purposes: list[str] | None,
    material: list[str],
) -> None:
    problems = []
    if not isinstance(key, str) or not KEY.match(key) or key in RESERVED_KEYS:
        problems.append(
            Problem(
                f"{key!r} is not a usable notice key",
                "key",
                "use lowercase letters, digits, `_`, `-` or `.` (max 80), e.g. main_policy",
            )
        )
    if kind not in KINDS:
        problems.append(Problem(f"unknown kind {kind!r}", "kind", f"use one of {', '.join(KINDS)}"))
    if kind == "product" and not product:
        problems.append(Problem("a product notice names its product", "product", "give the product key"))
    if not texts:
        problems.append(Problem("no text given", "texts", "give the text in at least one language (en, zh_CN)"))
    for lang, text in (texts or {}).items():
        if not LANG.match(lang):
            problems.append(Problem(f"{lang!r} is not a language code", f"texts.{lang}", "use en or zh_CN"))
        elif not isinstance(text, str) or not text.strip():
            problems.append(Problem("the text is empty", f"texts.{lang}", "give the notice's full text"))
        elif len(text) > MAX_TEXT:
            problems.append(
                Problem(
                    f"the text is longer than {MAX_TEXT:,} characters", f"texts.{lang}", "split it into several notices"
                )
            )
    for lang in title or {}:
        if lang not in (texts or {}):
            problems.append(
                Problem(
                    f"a title in {lang!r} but no text in it",
                    f"title.{lang}",
                    "give titles only for the languages of the texts",
                )
            )
    problems += _check_purposes(session, purposes or [], "purposes")
    problems += _check_purposes(session, material, "material")
    outside = [p for p in material if purposes and p not in purposes]
    problems += [
        Problem(
            f"{p!r} is not among this notice's purposes",
            "material",
            "add it to the purposes or leave it out of material",
        )
        for p in outside
    ]
    if problems:
        raise InvalidInput(f"The notice cannot be published: {len(problems)} problem(s)", problems=problems)


def get_notice(session: Session, key: str) -> Notice:
    """One notice by key."""
    notice = session.execute(select(Notice).where(Notice.key == key)).scalar_one_or_none()
    if notice is None:
        raise NotFound(f"No notice {key!r}", "list them with `privet notices list` or GET /api/v1/notices")
    return notice


def _latest(session: Session, notice_id: str) -> NoticeVersion | None:
    return session.execute(
        select(NoticeVersion)
        .where(NoticeVersion.notice_id == notice_id)
        .order_by(NoticeVersion.version.desc())
        .limit(1)
    ).scalar_one_or_none()


def _known_format(fmt: str | None) -> Format | None:
    """`markdown` or `text` as given, else None (the format is then detected from the text)."""
    if fmt == "markdown":
        return "markdown"
    if fmt == "text":
        return "text"
    return None


def publish(
    session: Session,
    *,
    key: str,
    kind: str = "policy",
    product: str | None = None,
    texts: dict[str, str],
    effective_date: date,
    title: dict | None = None,
    purposes: list[str] | None = None,
    material: list[str] | None = None,
    actor: str,
    formats: Mapping[str, str] | None = None,
) -> NoticeVersion:
    """Publish the next version of notice `key` (created on first publication).

    `purposes=None` keeps the previous version's purposes. Material purposes are the ones given (a right
    reduced cannot be judged from text) plus those the data map shows widened since the previous version.
    """
    material = sorted(set(material or []))
    _validate(session, key, kind, product, texts, title, purposes, material)
    notice = session.execute(select(Notice).where(Notice.key == key)).scalar_one_or_none()
    if notice is not None and notice.kind != kind:
        raise InvalidInput(
            f"Notice {key!r} is a {notice.kind} notice", f"publish it with kind {notice.kind!r} or use another key"
        )
    previous = _latest(session, notice.id) if notice is not None else None
    purposes = sorted(set(purposes if purposes is not None else (previous.purposes if previous else [])))
    if previous is not None and effective_date < previous.effective_date:
        raise InvalidInput(
            f"The effective date is before version {previous.version}'s ({previous.effective_date.isoformat()})",
            "give a date on or after it",
        )
    digest = content_hash(texts, purposes)
    if previous is not None and previous.content_hash == digest:
        raise Conflict(
            "no change",
            f"version {previous.version} of {key!r} already has this content; "
            "change the text or the purposes before publishing",
        )
    content = {}
    for lang in sorted(texts):
        fmt = (formats or {}).get(lang)
        text = normalise(texts[lang])
        parsed = parse(text, fmt=_known_format(fmt))
        content[lang] = {
            "text": text,
            "format": _known_format(fmt) or detect_format(text),
            **parsed.as_dict(),
            "title": (title or {}).get(lang) or parsed.title,
        }
    now = utcnow()
    if notice is None:
        notice = Notice(key=key, kind=kind, product=product, title={}, created_at=now)
        session.add(notice)
        session.flush()
    notice.product = product or notice.product
    notice.title = {**(notice.title or {}), **{lang: c["title"] for lang, c in content.items() if c["title"]}}
    reasons, datamap_version = detect(session, kind, purposes, previous)
    for purpose in material:
        reasons.setdefault(purpose, []).append({"code": "marked"})
    version = NoticeVersion(
        notice_id=notice.id,
        version=(previous.version if previous else 0) + 1,
        effective_date=effective_date,
        content_hash=digest,
        content=content,
        purposes=purposes,
        material_purposes=sorted(reasons),
        published_at=now,
        published_by=actor,
    )
    version.change_summary = {
        "previous_version": previous.version if previous else None,
        "datamap_version": datamap_version,
        "material": {p: reasons[p] for p in sorted(reasons)},
        "sections": {lang: differ.sections_summary(differ.section_diff(previous, version, lang)) for lang in content}
        if previous
        else {},
    }
    session.add(version)
    try:
        session.flush()
    except IntegrityError:
        raise Conflict("Another publication of this notice finished first", "run it again") from None
    record(
        session,
        actor=actor,
        action="notice.published",
        object_type="notice",
        object_id=key,
        details={
            "version": version.version,
            "kind": kind,
            "languages": sorted(content),
            "content_hash": digest,
            "purposes": purposes,
            "material_purposes": version.material_purposes,
            "datamap_version": datamap_version,
            "created": previous is None,
        },
    )
    if version.material_purposes:
        _queue_campaign(session, key, version.version)
    return version


CAMPAIGN_JOB = "consent.campaign_start"  # handled in privet.consent.campaigns (consent sits above notices)


def _queue_campaign(session: Session, key: str, number: int) -> None:
    """P30: a material version tells each person whose consent it affects; the job finds them after this commits."""
    from privet.jobs.service import enqueue

    enqueue(session, CAMPAIGN_JOB, {"notice": key, "version": number}, dedupe_key=f"campaign:{key}:{number}")


def current_version(session: Session, key: str) -> NoticeVersion | None:
    """The latest published version of `key` (its effective date may lie ahead), or None."""
    notice = session.execute(select(Notice).where(Notice.key == key)).scalar_one_or_none()
    return _latest(session, notice.id) if notice is not None else None


def versions(session: Session, key: str) -> list[NoticeVersion]:
    """Every version of notice `key`, oldest first."""
    notice = get_notice(session, key)
    return list(
        session.execute(
            select(NoticeVersion).where(NoticeVersion.notice_id == notice.id).order_by(NoticeVersion.version)
        ).scalars()
    )


def get_version(session: Session, key: str, version: int) -> NoticeVersion:
    """Version `version` of notice `key`."""
    notice = get_notice(session, key)
    found = session.execute(
        select(NoticeVersion).where(NoticeVersion.notice_id == notice.id, NoticeVersion.version == version)
    ).scalar_one_or_none()
    if found is None:
        count = session.execute(
            select(func.max(NoticeVersion.version)).where(NoticeVersion.notice_id == notice.id)
        ).scalar()
        raise NotFound(
            f"Notice {key!r} has no version {version}",
            f"versions run from 1 to {count}" if count else "publish a version first",
        )
    return found


def list_notices(session: Session) -> list[Notice]:
    """Every notice, by key."""
    return list(session.execute(select(Notice).order_by(Notice.key)).scalars())


def version_counts(session: Session) -> dict[str, int]:
    """notice id → its latest version number."""
    rows = session.execute(
        select(NoticeVersion.notice_id, func.max(NoticeVersion.version)).group_by(NoticeVersion.notice_id)
    )
    return dict(rows.all())  # not dict(rows): a Result has keys() (its column names), so dict() takes it as a mapping


def material_moment(version: NoticeVersion) -> datetime:
    """When a version's material change takes hold: its publication, or its effective date if later."""
    effective = datetime.combine(version.effective_date, time(0), tzinfo=UTC)
    return max(version.published_at, effective)


def material_changes(session: Session) -> dict[str, datetime]:
    """purpose → the moment of the latest material change to it; consent given before it must be renewed."""
    out: dict[str, datetime] = {}
    rows = session.execute(
        select(NoticeVersion.material_purposes, NoticeVersion.published_at, NoticeVersion.effective_date)
    )
    for purposes, published_at, effective_date in rows:
        if not purposes:
            continue
        moment = max(published_at, datetime.combine(effective_date, time(0), tzinfo=UTC))
        for purpose in purposes:
            if purpose not in out or moment > out[purpose]:
                out[purpose] = moment
    return out
