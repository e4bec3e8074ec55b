"""The "completed" message in a person's words: data categories from the taxonomy in the person's language, never
datastore, table or column keys, and no doubled punctuation."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from privet.requests.messages.notify import _dates
from privet.requests.messages.render import render_message, render_sms
from privet.requests.messages.wording import in_plain_words, sentence

KEYS = re.compile(r"shop_db|login_events|order_items|\.customers|user\.[a-z]|\.\.|\.,|。。|\.。")


def _values(store: Session, request) -> dict:
    from privet.jobs.models import Job

    payloads = store.scalars(select(Job.payload).where(Job.kind == "requests.message")).all()
    values = next(p["values"] for p in payloads if p["request_id"] == request.id and p["kind"] == "completed")
    return _dates(values)  # as the job does before it sends


@pytest.mark.parametrize("language", ["en", "zh_CN"])
def test_an_erasure_message_names_categories_in_the_persons_language(
    store: Session, file, verified, drain, shop_db, language: str
) -> None:
    customer = shop_db.customers[1]
    request = file("erasure", customer, language=language)
    verified(request)
    drain()
    assert request.status == "completed", request.result
    values = _values(store, request)
    _subject, body = render_message(
        "completed", language, reference=request.reference, request_type="erasure", **values
    )
    assert not KEYS.search(body), body
    assert not KEYS.search(
        render_sms("completed", language, reference=request.reference, request_type="erasure", **values)
    )
    if language == "en":
        assert "- Contact details: 1 deleted" in body  # the address row
        assert "- Contact details, name: 1 with the personal details removed" in body  # the customer row
        assert re.search(r"- Purchase details: kept until \d+ \w+ \d{4}\. Accounting records\.\n", body), body
        assert re.search(r"- User identifier: kept until .*\. Keeps retained orders consistent\.\n", body), body
    else:
        assert "- 联系方式：已删除 1 条" in body and "- 联系方式、姓名：1 条已去除个人信息" in body
        assert re.search(r"- 购买记录：保留至\d{4}年\d+月\d+日。Accounting records\.\n", body), body


def test_unknown_tables_and_internal_reasons_are_said_in_words(store: Session) -> None:
    values = {
        "changes": {"legacy.notes": {"deleted": 2}, "shop_db.login_events": {"deleted": 3}},
        "consent": {"marketing.communications": "withdrawn", "made.up": "withdrawn"},
        "retained": [
            {
                "datastore": "shop_db",
                "table": "orders",
                "field": None,
                "kind": "shared",
                "reason": "shared with other records",
            },
            {
                "datastore": "legacy",
                "table": "notes",
                "field": "x",
                "kind": "retained",
                "reason": "  kept by law..  ",
                "until": "2030-01-01",
            },
            {
                "datastore": "legacy",
                "table": "notes",
                "field": "x",
                "kind": "retained",
                "reason": "kept by law",
                "until": "2030-01-01",
            },
        ],
        "exceptions": [{"datastore": "legacy", "table": "notes", "reason": "unreachable", "rows": None}],
    }
    en = in_plain_words(store, "en", values)
    assert en["changes"] == {"Other records about you": {"deleted": 2}, "Device information": {"deleted": 3}}
    assert set(en["consent"]) == {"Marketing messages", "made up"}
    assert [r["reason"] for r in en["retained"]] == [
        "It is shared with other people's records, so it stays as it is.",
        "Kept by law.",
    ]  # the same line once
    assert en["exceptions"][0]["item"] == "Other records about you"
    zh = in_plain_words(store, "zh-CN", values)
    assert "与您相关的其他记录" in zh["changes"] and "个人常用设备信息" in zh["changes"]
    assert zh["retained"][0]["reason"].startswith("该记录与他人的记录共用")
    _, body = render_message("completed", "zh_CN", reference="R-1", request_type="erasure", **_dates(zh))
    assert not KEYS.search(body) and "保留至2030年1月1日。Kept by law.\n" in body


def test_a_reason_ends_in_one_full_stop() -> None:
    assert sentence("accounting records.") == "Accounting records."
    assert sentence("税法要求保留。") == "税法要求保留。" and sentence("税法要求保留") == "税法要求保留。"
    assert sentence(" ; ") == "" and sentence(None) == ""
