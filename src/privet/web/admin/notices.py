"""Notices: every notice and its versions, the section diff between two versions with its plain summary, and
publishing a new version (text typed or a file uploaded per language, purposes covered, material purposes)."""

from __future__ import annotations

from datetime import date

from fastapi import APIRouter, Request
from starlette.datastructures import FormData
from starlette.responses import HTMLResponse, Response

from privet.http.routes import DB
from privet.kit.errors import InvalidInput
from privet.notices import service
from privet.notices.diff import section_diff, summary, version_summary
from privet.web.admin.common import Form, guard, officer, page, redirect, text
from privet.web.render import language
from privet.web.word_changes import section_changes

router = APIRouter(prefix="/notices")
READ, WRITE = guard("notices:read"), guard("notices:write")
LANGS = ("en", "zh_CN")
MAX_TEXT = 500_000


def _purposes(db: DB, lang: str) -> dict[str, str]:
    from privet.taxonomy.service import effective

    return {key: p.label(lang) for key, p in sorted(effective(db).purposes.items())}


@router.get("", dependencies=READ, response_class=HTMLResponse)
def notices(request: Request, db: DB) -> HTMLResponse:
    """Every notice with its latest version, and the publish form."""
    latest = service.version_counts(db)
    rows = [(n, latest.get(n.id)) for n in service.list_notices(db)]
    return page(
        request,
        "admin/notices.html",
        {"rows": rows, "purposes": _purposes(db, language(request)), "today": date.today(), "langs": LANGS},
        section="notices",
    )


def _int(value: str | None) -> int | None:
    try:
        number = int(value) if value else None
    except ValueError:
        return None
    return number if number is not None and 1 <= number <= 2**31 else None  # a version number


@router.get("/{key}", dependencies=READ, response_class=HTMLResponse)
def notice(key: str, request: Request, db: DB) -> HTMLResponse:
    """A notice's versions (newest first, summarised) and the diff between two of them."""
    found = service.get_notice(db, key)
    versions = service.versions(db, key)
    lang = language(request)
    names = _purposes(db, lang)
    summaries = {v.version: version_summary(v, lang, names) for v in versions}
    diff = None
    newest = versions[-1].version if versions else 0
    to_v = _int(request.query_params.get("to")) or newest
    from_v = _int(request.query_params.get("from")) or max(1, to_v - 1)
    text_lang = request.query_params.get("lang") or ("zh_CN" if lang == "zh_CN" else "en")
    if len(versions) > 1 and from_v != to_v:
        a, b = service.get_version(db, key, from_v), service.get_version(db, key, to_v)
        if text_lang not in a.content and text_lang not in b.content:
            text_lang = next(iter(sorted(b.content)))
        changes = section_diff(a, b, text_lang)
        material = (b.change_summary or {}).get("material", {}) if b.version == a.version + 1 else {}
        diff = {
            "from": a.version,
            "to": b.version,
            "lang": text_lang,
            "changes": section_changes(request, changes),
            "summary": summary(changes, material, lang if lang in ("en", "zh_CN") else "en", names),
        }
    return page(
        request,
        "admin/notice.html",
        {
            "notice": found,
            "versions": list(reversed(versions)),
            "summaries": summaries,
            "diff": diff,
            "names": names,
            "langs": LANGS,
        },
        section="notices",
    )


def _texts(form: FormData) -> tuple[dict[str, str], dict[str, str]]:
    texts, formats = {}, {}
    for lang in LANGS:
        upload = form.get(f"file_{lang}")
        body = ""
        if upload is not None and not isinstance(upload, str) and upload.filename:
            raw = upload.file.read(MAX_TEXT + 1)
            if len(raw) > MAX_TEXT:
                raise InvalidInput("The uploaded notice is too large", "upload a text or Markdown file under 500 KB")
            try:
                body = raw.decode("utf-8-sig")
            except UnicodeDecodeError:
                raise InvalidInput(
                    "The uploaded notice is not UTF-8 text", "save it as UTF-8 and upload again"
                ) from None
            if upload.filename.lower().endswith(".txt"):
                formats[lang] = "text"
            elif upload.filename.lower().endswith((".md", ".markdown")):
                formats[lang] = "markdown"
        typed = form.get(f"text_{lang}")
        body = body or (typed if isinstance(typed, str) else "")
        if body.strip():
            texts[lang] = body[:MAX_TEXT]
    if not texts:
        raise InvalidInput("A version needs its text", "type or upload the text in English, Chinese or both")
    return texts, formats


@router.post("", dependencies=WRITE)
def publish(request: Request, form: Form, db: DB) -> Response:
    """Publish the next version of a notice (created on first publication); audited."""
    key = text(form, "key", 80)
    kind = text(form, "kind", 20) or "policy"
    try:
        effective = date.fromisoformat(text(form, "effective_date", 10))
    except ValueError:
        raise InvalidInput("The effective date is not a date", "give it as YYYY-MM-DD") from None
    texts, formats = _texts(form)
    purposes = [p for p in form.getlist("purposes") if isinstance(p, str) and p]
    material = [p for p in form.getlist("material") if isinstance(p, str) and p]
    service.publish(
        db,
        key=key,
        kind=kind,
        product=text(form, "product", 80) or None,
        texts=texts,
        effective_date=effective,
        purposes=purposes or None,
        material=material or None,
        actor=officer(request).actor,
        formats=formats or None,
    )
    return redirect(f"/admin/notices/{key}", done="published")
