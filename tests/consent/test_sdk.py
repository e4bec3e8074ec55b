"""The Python SDK against a real uvicorn server: answers, the cache, and its invalidation by consent changes."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import date, timedelta

import httpx
import pytest
from sqlalchemy.orm import Session

from privet.auth.keys import create_api_key
from privet.consent.ledger import service as ledger
from privet.kit.clock import utcnow
from privet.sdk import PrivetAPIError, PrivetClient

pytestmark = pytest.mark.usefixtures("keptek")


@pytest.fixture
def server(app, db: Session) -> Iterator[str]:
    """The app served by uvicorn in a thread on a free loopback port, on the test's transaction."""
    import uvicorn

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    db.flush()
    srv = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not srv.started and time.monotonic() < deadline:
        time.sleep(0.02)
    app.state.sessionmaker = app.state.test_sessionmaker  # after the lifespan set its own
    yield f"http://127.0.0.1:{port}"
    srv.should_exit = True
    thread.join(timeout=10)


class Counting(httpx.HTTPTransport):
    """Counts the requests that reach the network."""

    def __init__(self) -> None:
        super().__init__()
        self.paths: list[str] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self.paths.append(request.url.path)
        return super().handle_request(request)


@pytest.fixture
def key(db: Session) -> str:
    token = create_api_key(db, "sdk", ["decide"], actor="test")[1]
    db.flush()
    return token


def _record(db: Session, subject, event: str = "given", purpose: str = "marketing.communications") -> None:
    ledger.record(db, subject_id=subject.id, purpose=purpose, event=event, method="api", actor="t")
    db.flush()


def test_cache_is_used_and_invalidated_by_a_consent_change(server: str, key: str, db: Session, make_subject) -> None:
    person = make_subject()
    wire = Counting()
    with PrivetClient(server, key, sync_interval=3600, transport=wire) as privet:
        assert privet.decide("marketing.communications", subject_id=person.id).reason == "NO_CONSENT"
        asked = len(wire.paths)
        assert privet.decide("marketing.communications", subject_id=person.id).reason == "NO_CONSENT"
        assert len(wire.paths) == asked  # served from the cache
        _record(db, person)
        assert not privet.decide("marketing.communications", subject_id=person.id).allowed  # not polled yet
        assert privet.sync() == 1
        answer = privet.decide("marketing.communications", subject_id=person.id)
        assert (answer.allowed, answer.reason, answer.holders) == (True, "CONSENT_GIVEN", (f"s:{person.id}",))
        assert privet.sync() == 0


def test_with_a_short_sync_interval_answers_follow_changes_at_once(
    server: str, key: str, db: Session, make_subject
) -> None:
    people = [make_subject() for _ in range(3)]
    with PrivetClient(server, key, sync_interval=0) as privet:
        assert not privet.decide("analytics.usage", subject_id=people[0].id).allowed
        _record(db, people[0], purpose="analytics.usage")
        assert privet.decide("analytics.usage", subject_id=people[0].id).allowed
        _record(db, people[0], "withdrawn", purpose="analytics.usage")
        assert privet.decide("analytics.usage", subject_id=people[0].id).reason == "CONSENT_WITHDRAWN"
        questions = [{"subject_id": p.id, "purpose": "analytics.usage"} for p in people] * 2
        questions.append({"visitor_id": "visitor-sdk-0001", "purpose": "analytics.usage", "region": "CN"})
        answers = privet.decide_many(questions)
        assert [a.reason for a in answers] == ["CONSENT_WITHDRAWN", "NO_CONSENT", "NO_CONSENT"] * 2 + ["NO_CONSENT"]
        earlier = privet.decide("analytics.usage", subject_id=people[0].id, at=utcnow() - timedelta(days=1))
        assert earlier.reason == "NO_CONSENT"


def test_policy_change_drops_the_whole_cache(server: str, key: str, db: Session, make_subject) -> None:
    from privet.notices import service as notices

    person = make_subject()
    _record(db, person)
    text = "Policy\n1. Marketing\nOffers.\n"
    with PrivetClient(server, key, sync_interval=3600) as privet:
        assert privet.decide("marketing.communications", subject_id=person.id).allowed
        notices.publish(
            db,
            key="privacy-policy",
            texts={"en": text},
            effective_date=date.today(),
            purposes=["marketing.communications"],
            material=["marketing.communications"],
            actor="t",
        )
        db.flush()
        privet.sync()
        assert (
            privet.decide("marketing.communications", subject_id=person.id).reason == "CONSENT_BEFORE_MATERIAL_CHANGE"
        )


def test_errors_and_threads(server: str, key: str, db: Session, make_subject) -> None:
    people = [make_subject() for _ in range(4)]
    for person in people[:2]:
        _record(db, person)
    # the test server shares one database connection, so requests go one at a time; the cache serves the threads
    with PrivetClient(server, key, sync_interval=3600) as privet:
        warm = [privet.decide("marketing.communications", subject_id=p.id).allowed for p in people]
        assert warm == [True, True, False, False]
        with pytest.raises(PrivetAPIError) as caught:
            privet.decide("no.such.purpose", subject_id=people[0].id)
        assert caught.value.status == 422 and caught.value.problem["errors"][0]["where"] == "body.purpose"
        with pytest.raises(ValueError):
            privet.decide("marketing.communications")
        with ThreadPoolExecutor(4) as pool:
            got = list(
                pool.map(lambda p: privet.decide("marketing.communications", subject_id=p.id).allowed, people * 5)
            )
        assert got == [True, True, False, False] * 5
    with PrivetClient(server, "pvt_pk_00000000_" + "A" * 43) as stranger:
        with pytest.raises(PrivetAPIError) as caught:
            stranger.decide("marketing.communications", subject_id=people[0].id)
        assert caught.value.status == 401
