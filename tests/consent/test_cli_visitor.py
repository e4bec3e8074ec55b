"""`privet consent show --type visitor`: a banner visitor by their id; unknown and malformed ids exit 2."""

from __future__ import annotations

from faker import Faker

from tests.consent.test_cli import store  # noqa: F401 - the fixture: a migrated store with the Keptek data map


def test_show_a_banner_visitor(store) -> None:
    from privet.consent.visitors import record_cookie_choice
    from privet.db.store import store_session

    visitor = "v-" + Faker().hexify("^" * 24)
    with store_session() as session:
        record_cookie_choice(session, visitor_id=visitor, categories={"analytics": True}, gpc=True, actor="test")
    shown = store("consent", "show", "--type", "visitor", "--value", visitor)
    assert shown.exit_code == 0, shown.output
    assert f"banner visitor {visitor} (not signed in)" in shown.output
    assert "analytics.usage" in shown.output and "given" in shown.output and "refused" in shown.output
    unknown = store("consent", "show", "--type", "visitor", "--value", "v-" + Faker().hexify("^" * 24))
    assert unknown.exit_code == 2 and "No banner choice is recorded for this visitor id" in unknown.output
    malformed = store("consent", "show", "--type", "visitor", "--value", "v-bad id!")
    assert malformed.exit_code == 2 and "A visitor id is 8 to 64 letters" in malformed.output
