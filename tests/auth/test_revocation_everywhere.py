"""A revoked API key is refused by the very next request in every `privet serve` process, on both stores, whether
the revocation came through one of the servers or from elsewhere (the command line, another machine), and on the
decision and recording routes as on every other route."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from faker import Faker

from tests.test_several_processes import SECRET, Server, _store

SUBJECT = "/api/v1/consent/subjects/" + "0" * 26


@pytest.fixture(params=["sqlite", "postgresql"])
def servers(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[Server, Server, dict, str]]:
    """Two servers on one migrated store with an admin key, two service keys and the store's URL."""
    from privet.auth import service
    from privet.db import migrate
    from privet.db.engine import make_engine
    from privet.db.store import store_session
    from privet.settings import Settings

    url, drop = _store(request.param, tmp_path)
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("PRIVET_")},
        "PRIVET_DATABASE_URL": url,
        "PRIVET_SECRET_KEY": SECRET,
        "PRIVET_DATA_DIR": str(tmp_path / "var"),
        "PRIVET_HOST": "127.0.0.1",
        "PRIVET_LOG_LEVEL": "warning",
        "PRIVET_JOBS_THREADS": "0",
        "PRIVET_WEBHOOK_DELIVERY_IN_PROCESS": "false",
    }
    engine = make_engine(url)
    migrate.upgrade(engine)
    scopes = ["decide", "consent:write", "consent:read"]
    with store_session(
        Settings(database_url=url, secret_key=SECRET, data_dir=tmp_path / "var"), engine=engine
    ) as session:
        tokens = {
            "admin": service.create_api_key(session, "admin", ["users:admin"], actor="test")[1],
            "victim": service.create_api_key(session, "victim", scopes, actor="test")[1],
            "bystander": service.create_api_key(session, "bystander", scopes, actor="test")[1],
        }
    engine.dispose()
    first, second = Server(env, tmp_path, "first"), Server(env, tmp_path, "second")
    try:
        first.wait()
        second.wait()
        yield first, second, tokens, url
    finally:
        first.stop()
        second.stop()
        drop()


def _answers(server: Server, token: str, faker: Faker) -> list[int]:
    """Statuses of a decision, a recording and a plain read with `token` (401: refused as unknown)."""
    decision = {"subject_id": "0" * 26, "purpose": "marketing.communications"}
    recording = {"identity": {"type": "email", "value": faker.unique.email()}, "purpose": "marketing.communications"}
    return [
        server.call("POST", "/api/v1/decisions", decision, token)[0],
        server.call("POST", "/api/v1/consent/records", recording, token)[0],
        server.call("GET", SUBJECT, token=token)[0],
    ]


def _remembered_by_both(first: Server, second: Server, token: str, faker: Faker) -> None:
    for server in (first, second, first, second):  # the second round is answered from each process's memory
        assert 401 not in _answers(server, token, faker)


def test_revoked_through_one_server_the_next_request_to_the_other_is_refused(servers: tuple, fake: Faker) -> None:
    first, second, tokens, _url = servers
    _remembered_by_both(first, second, tokens["victim"], fake)
    prefix = tokens["victim"][4:15]
    assert first.call("DELETE", f"/api/v1/auth/apikeys/{prefix}", token=tokens["admin"])[0] == 204
    assert _answers(second, tokens["victim"], fake) == [401, 401, 401]
    assert _answers(first, tokens["victim"], fake) == [401, 401, 401]
    assert 401 not in _answers(second, tokens["bystander"], fake)  # other keys still work


def test_revoked_from_elsewhere_the_next_request_to_every_server_is_refused(servers: tuple, fake: Faker) -> None:
    from privet.auth import service
    from privet.db.engine import make_engine
    from privet.db.store import store_session
    from privet.settings import Settings

    first, second, tokens, url = servers
    _remembered_by_both(first, second, tokens["victim"], fake)
    _remembered_by_both(first, second, tokens["bystander"], fake)
    engine = make_engine(url)
    try:  # what `privet apikeys revoke` does: no server is told, the store is all they share
        with store_session(Settings(database_url=url, secret_key=SECRET), engine=engine) as session:
            service.revoke_api_key(session, tokens["victim"][4:15], actor="test")
    finally:
        engine.dispose()
    assert _answers(second, tokens["victim"], fake) == [401, 401, 401]
    assert _answers(first, tokens["victim"], fake) == [401, 401, 401]
    assert 401 not in _answers(first, tokens["bystander"], fake)
