"""`privet webhooks`: add (secret once), list, deliver --once, failures visible, redeliver, deactivate."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from sqlalchemy.orm import Session

from privet.consent.models import ConsentRecord
from privet.consent.webhooks import service as webhooks
from privet.consent.webhooks import signing
from privet.db.engine import make_engine
from privet.kit.clock import utcnow
from privet.kit.ids import new_id
from tests.consent.test_webhooks import Receiver


@pytest.fixture
def cli(privet, cli_store: str, monkeypatch: pytest.MonkeyPatch):
    """`privet(...)` on a fresh store with every table; one attempt before a delivery fails."""
    from privet.settings import get_settings
    from privet.tables import metadata

    engine = make_engine(cli_store)
    metadata.create_all(engine)  # a no-op once the migration holds this tables
    engine.dispose()
    monkeypatch.setenv("PRIVET_WEBHOOK_MAX_ATTEMPTS", "1")
    monkeypatch.setenv("PRIVET_WEBHOOK_TIMEOUT_SECONDS", "2")
    get_settings.cache_clear()
    return privet


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    running = Receiver().start()
    yield running
    running.server.shutdown()
    running.server.server_close()


def record_change(url: str, visitor: str) -> None:
    """A banner visitor's consent lands in the ledger (as the ledger service does it) and is queued."""
    engine = make_engine(url)
    with Session(engine) as session:
        now = utcnow()
        record = ConsentRecord(
            id=new_id(),
            visitor_id=visitor,
            purpose="analytics",
            categories=[],
            legal_basis="consent",
            event="given",
            at=now,
            recorded_at=now,
            method="banner",
            actor="test:webhooks",
            evidence={},
        )
        session.add(record)
        session.flush()
        webhooks.enqueue(session, record)
        session.commit()
    engine.dispose()


def test_webhooks_commands(cli, cli_store: str, receiver: Receiver) -> None:
    refused = cli("webhooks", "add", "http://hooks.example.com/privet")
    assert refused.exit_code == 2 and "https" in refused.output and "loopback" in refused.output
    assert "Traceback" not in refused.output

    added = cli("webhooks", "add", receiver.url)
    assert added.exit_code == 0, added.output
    endpoint_id = re.search(r"endpoint (\w+)", added.output).group(1)
    secret = re.search(r"(whsec_\S+)", added.output).group(1)
    listed = cli("webhooks", "list").output
    assert endpoint_id in listed and "active" in listed and secret not in listed

    record_change(cli_store, "v-" + new_id())
    done = cli("webhooks", "deliver", "--once")
    assert done.exit_code == 0 and "delivered 1" in done.output, done.output
    headers, body = receiver.requests[0]
    assert signing.verify_signature(secret, headers["privet-signature"], body)

    receiver.script = [(500, 0.0)]
    record_change(cli_store, "v-" + new_id())
    gave_up = cli("webhooks", "deliver", "--once")
    assert gave_up.exit_code == 0 and "failed 1" in gave_up.output, gave_up.output
    failed = cli("webhooks", "deliveries", "--status", "failed")
    assert failed.exit_code == 0 and "answered HTTP 500" in failed.output
    delivery_id = re.search(r"^(\w{26})\s+failed", failed.output, re.M).group(1)
    assert "delivered" in cli("webhooks", "deliveries").output

    assert cli("webhooks", "redeliver", delivery_id).exit_code == 0
    assert "delivered 1" in cli("webhooks", "deliver", "--once").output
    assert (
        len(receiver.requests) == 3 and cli("webhooks", "deliveries", "--status", "failed").output.count("\n") == 1
    )  # the header only
    again = cli("webhooks", "redeliver", delivery_id)
    assert again.exit_code == 2 and "not failed" in again.output

    assert cli("webhooks", "deactivate", endpoint_id).exit_code == 0
    assert "inactive" in cli("webhooks", "list").output
    record_change(cli_store, "v-" + new_id())
    assert "attempted 0" in cli("webhooks", "deliver", "--once").output
    for args in (("webhooks", "deactivate", "nope"), ("webhooks", "deliveries", "--status", "lost")):
        result = cli(*args)
        assert result.exit_code == 2 and "Traceback" not in result.output, args
