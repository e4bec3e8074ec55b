"""Publishing versions: seeds, version numbers, content hashes, several notices, bad input."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from privet.audit.models import AuditEvent
from privet.kit.errors import Conflict, InvalidInput, NotFound
from privet.notices import service
from privet.notices.models import Notice, NoticeVersion
from tests.notices.conftest import KEPTEK, POLICY_V1, POLICY_ZH, ZKTECO, seed
from tests.notices.test_parse import KEPTEK_TOP, ZKTECO_TOP

DAY = date(2025, 11, 28)


def _publish(db: Session, key: str = "main", texts: dict | None = None, **kw):
    return service.publish(
        db, key=key, texts=texts or {"en": POLICY_V1}, effective_date=kw.pop("effective", DAY), actor="test", **kw
    )


@pytest.mark.parametrize(("path", "top"), [(KEPTEK, KEPTEK_TOP), (ZKTECO, ZKTECO_TOP)])
def test_both_seed_policies_publish_with_their_sections(db: Session, path, top) -> None:
    version = _publish(db, "seed", {"en": seed(path)})
    assert version.version == 1 and len(version.content_hash) == 64
    stored = db.get(NoticeVersion, version.id).content["en"]
    assert [(s["number"], s["title"]) for s in stored["sections"] if s["level"] == 1] == top
    assert stored["format"] == "text" and stored["text"].strip()
    event = db.execute(select(AuditEvent).where(AuditEvent.action == "notice.published")).scalars().one()
    assert event.object_id == "seed" and event.details["version"] == 1 and event.details["created"]


def test_versions_increment_and_identical_content_is_refused(db: Session) -> None:
    v1 = _publish(db, texts={"en": POLICY_V1, "zh_CN": POLICY_ZH})
    assert v1.content["zh_CN"]["title"] == "Acme 隐私政策"
    assert [s["number"] for s in v1.content["zh_CN"]["sections"]] == ["一", "二", "二.(一)", "二.(二)", "三"]
    with pytest.raises(Conflict, match="no change") as refused:
        _publish(db, texts={"en": POLICY_V1 + "\n\n", "zh_CN": POLICY_ZH}, effective=date(2026, 1, 1))
    assert "version 1" in refused.value.hint
    v2 = _publish(db, texts={"en": POLICY_V1.replace("name and", "name, phone number and")})
    assert v2.version == 2 and v2.content_hash != v1.content_hash
    assert v2.change_summary["previous_version"] == 1
    assert v2.change_summary["sections"]["en"] == {"added": [], "removed": [], "changed": ["1"]}
    assert [v.version for v in service.versions(db, "main")] == [1, 2]
    assert service.current_version(db, "main").id == v2.id
    assert service.get_version(db, "main", 1).id == v1.id
    assert service.current_version(db, "nothing") is None


def test_purposes_are_kept_unless_given_and_count_as_content(db: Session) -> None:
    _publish(db, purposes=["marketing", "service.account"])
    v2 = _publish(db, purposes=["marketing"])  # same text, fewer purposes: a change
    assert v2.purposes == ["marketing"]
    v3 = _publish(db, texts={"en": POLICY_V1 + "5. Cookies\nWe use cookies.\n"})
    assert v3.purposes == ["marketing"]


def test_several_notices_coexist(db: Session) -> None:
    _publish(db, "main")
    _publish(db, "camera_app", kind="product", product="smart_camera", purposes=["service.data_sync"])
    _publish(
        db,
        "newsletter_signup",
        {"en": "We send you our newsletter. Unsubscribe at any time."},
        kind="just_in_time",
        purposes=["marketing.communications.email"],
        title={"en": "Newsletter"},
    )
    notices = {n.key: n for n in service.list_notices(db)}
    assert {k: (n.kind, n.product) for k, n in notices.items()} == {
        "camera_app": ("product", "smart_camera"),
        "main": ("policy", None),
        "newsletter_signup": ("just_in_time", None),
    }
    assert notices["newsletter_signup"].title == {"en": "Newsletter"}
    assert notices["main"].title == {"en": "Acme Privacy Policy"}
    assert all(service.current_version(db, k).version == 1 for k in notices)
    with pytest.raises(InvalidInput, match="is a policy notice"):
        _publish(db, "main", {"en": "Other text."}, kind="product", product="x")


@pytest.mark.parametrize(
    ("kwargs", "where", "message"),
    [
        ({"purposes": ["marketing.emial"]}, "purposes.0", "unknown purpose"),
        ({"material": ["nope"]}, "material.0", "unknown purpose"),
        ({"purposes": ["marketing"], "material": ["service.account"]}, "material", "not among"),
        ({"key": "Main Policy"}, "key", "not a usable notice key"),
        ({"key": "public"}, "key", "not a usable notice key"),
        ({"kind": "banner"}, "kind", "unknown kind"),
        ({"kind": "product"}, "product", "names its product"),
        ({"texts": {"en": "   "}}, "texts.en", "empty"),
        ({"texts": {"english": "Text."}}, "texts.english", "not a language code"),
        ({"texts": {}}, "texts", "no text"),
        ({"title": {"zh_CN": "标题"}}, "title.zh_CN", "no text in it"),
    ],
)
def test_bad_input_is_refused_and_nothing_is_stored(db: Session, kwargs: dict, where: str, message: str) -> None:
    args = {"key": "main", "texts": {"en": POLICY_V1}, **kwargs}
    with pytest.raises(InvalidInput) as refused:
        service.publish(db, effective_date=DAY, actor="test", **args)
    problem = next(p for p in refused.value.problems if p.where == where)
    assert message in problem.message and problem.hint
    assert db.execute(select(Notice)).first() is None


def test_unknown_purpose_hint_suggests_the_close_key(db: Session) -> None:
    with pytest.raises(InvalidInput) as refused:
        _publish(db, purposes=["marketing.survey"])
    assert refused.value.problems[0].hint == "did you mean 'marketing.surveys'?"


def test_effective_date_cannot_go_back(db: Session) -> None:
    _publish(db)
    with pytest.raises(InvalidInput, match="before version 1"):
        _publish(db, texts={"en": "Changed."}, effective=date(2025, 1, 1))
    assert len(service.versions(db, "main")) == 1


def test_unknown_notice_and_version(db: Session) -> None:
    with pytest.raises(NotFound):
        service.versions(db, "missing")
    _publish(db)
    with pytest.raises(NotFound, match="no version 7") as missing:
        service.get_version(db, "main", 7)
    assert missing.value.hint == "versions run from 1 to 1"
