"""`privet consent decide`: exit 0 allowed, 1 denied, 2 bad input; no identity values printed."""

from __future__ import annotations

import json

import pytest
from faker import Faker

from privet.db.engine import make_engine
from privet.tables import metadata
from tests.consent.conftest import KEPTEK


@pytest.fixture
def store(privet, cli_store: str):
    """A migrated store with this issue's tables (until its migration lands) and the Keptek data map."""
    engine = make_engine(cli_store)
    metadata.create_all(engine)
    engine.dispose()
    assert privet("datamap", "apply", str(KEPTEK)).exit_code == 0
    return privet


def test_decide_exit_codes(store, faker_multi: Faker) -> None:
    email = faker_multi.unique.email()
    who = ["--type", "email", "--value", email]
    assert store("consent", "grant", *who, "--purpose", "marketing.communications").exit_code == 0
    allowed = store("consent", "decide", "marketing.communications", *who)
    assert allowed.exit_code == 0, allowed.output
    assert allowed.output.splitlines()[:2] == ["allowed: CONSENT_GIVEN", "legal basis: consent"]
    assert email not in allowed.output
    record = allowed.output.splitlines()[2].removeprefix("record: ")
    given = json.loads(store("consent", "decide", "marketing.communications", *who, "--json").output)
    assert given == {
        "purpose": "marketing.communications",
        "allowed": True,
        "reason": "CONSENT_GIVEN",
        "legal_basis": "consent",
        "record_id": record,
    }
    assert store("consent", "decide", "service.order", *who).output.startswith("allowed: CONTRACT")
    assert store("consent", "withdraw", *who, "--purpose", "marketing.communications").exit_code == 0
    denied = store("consent", "decide", "marketing.communications", *who)
    assert denied.exit_code == 1 and denied.output.startswith("denied: CONSENT_WITHDRAWN")
    earlier = store("consent", "decide", "marketing.communications", *who, "--at", "2000-01-01T00:00:00Z")
    assert earlier.exit_code == 1 and "NO_CONSENT" in earlier.output
    abroad = store("consent", "decide", "service.order", *who, "--region", "US")
    assert abroad.exit_code == 1 and "CROSS_BORDER_CONSENT_REQUIRED" in abroad.output
    visitor = store("consent", "decide", "analytics.usage", "--visitor", "visitor-cli-0001")
    assert visitor.exit_code == 1 and "NO_CONSENT" in visitor.output
    stranger = store("consent", "decide", "marketing.communications", "--subject-id", "0" * 26)
    assert stranger.exit_code == 1 and "UNKNOWN_SUBJECT" in stranger.output


@pytest.mark.parametrize(
    "args",
    [
        ["no.such.purpose", "--subject-id", "x"],
        ["marketing.communications", "--subject-id", "x", "--category", "user.nope"],
        ["marketing.communications", "--subject-id", "x", "--at", "2024-01-01T00:00:00"],  # no timezone
        ["marketing.communications"],  # nobody
        ["marketing.communications", "--subject-id", "x", "--visitor", "visitor-cli-0001"],
        ["marketing.communications", "--type", "email"],
    ],
)
def test_bad_input_exits_2(store, args: list[str]) -> None:
    result = store("consent", "decide", *args)
    assert result.exit_code == 2, result.output


def test_decide_by_channel(store, faker_multi: Faker) -> None:
    """P44: marketing by a channel the person switched off is denied, by that channel only."""
    privet, MARKETING, NOTICE = store, "marketing.communications", "notice.updates"  # noqa: N806
    who = ["--type", "email", "--value", faker_multi.unique.email()]
    assert privet("consent", "grant", *who, "--purpose", MARKETING).exit_code == 0
    assert privet("consent", "channel", *who, "--purpose", MARKETING, "--channel", "email", "--off").exit_code == 0
    denied = privet("consent", "decide", MARKETING, *who, "--channel", "email")
    assert denied.exit_code == 1 and denied.output.startswith("denied: CHANNEL_OPTED_OUT")
    assert privet("consent", "decide", MARKETING, *who, "--channel", "sms").exit_code == 0
    assert privet("consent", "decide", MARKETING, *who).exit_code == 0
    assert privet("consent", "decide", MARKETING, *who, "--channel", "fax").exit_code == 2
    locked = privet("consent", "channel", *who, "--purpose", NOTICE, "--channel", "sms", "--off")
    assert locked.exit_code == 2 and "cannot be switched off" in locked.output
