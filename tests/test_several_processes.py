"""Two `privet serve` processes on one store enforce one policy: a public rate limit, a login lock, a code cap and a
revoked API key each hold across both (on PostgreSQL and SQLite, and with the rate limits in Redis)."""

from __future__ import annotations

import http.client
import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

SECRET = "several-processes-secret-0123456789abcdef"
PASSWORD = "Several-processes-pw-1"
PUBLIC = "/api/v1/consent/receipts/public-key"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Server:
    """One `privet serve` process on a port of its own."""

    def __init__(self, env: dict[str, str], tmp: Path, name: str) -> None:
        self.port = _free_port()
        self.log = tmp / f"{name}.log"
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "privet.cli", "serve"],
            cwd=tmp,
            env={**env, "PRIVET_PORT": str(self.port)},
            stdout=subprocess.DEVNULL,
            stderr=self.log.open("wb"),
            start_new_session=True,
        )

    def wait(self, timeout: float = 90) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError(f"the server exited:\n{self.log.read_text(errors='replace')[-3000:]}")
            try:
                if self.call("GET", "/healthz")[0] == 200:
                    return
            except OSError:
                time.sleep(0.1)
        raise AssertionError(f"the server did not start:\n{self.log.read_text(errors='replace')[-3000:]}")

    def call(self, method: str, path: str, body: object = None, token: str | None = None) -> tuple[int, dict]:
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        headers = {"Content-Type": "application/json", **({"Authorization": f"Bearer {token}"} if token else {})}
        try:
            connection.request(method, path, json.dumps(body) if body is not None else None, headers)
            answer = connection.getresponse()
            raw = answer.read()
            return answer.status, (json.loads(raw) if raw.startswith((b"{", b"[")) else {})
        finally:
            connection.close()

    def stop(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, 15)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, 9)
                self.proc.wait(timeout=10)


def _store(kind: str, tmp: Path) -> tuple[str, callable]:
    if kind == "sqlite":
        return f"sqlite:///{tmp / 'privet.db'}", lambda: None
    from tests.support.services import create_pg_database

    return create_pg_database()


@pytest.fixture(
    params=[("postgresql", "store"), ("sqlite", "store"), ("postgresql", "redis")],
    ids=["postgresql", "sqlite", "postgresql-redis-limits"],
)
def servers(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[Server, Server, dict]]:
    """Two servers on one migrated store holding an admin, an admin API key and a `decide` key."""
    from privet.auth import service
    from privet.db import migrate
    from privet.db.engine import make_engine
    from privet.db.store import store_session
    from privet.settings import Settings

    kind, limits = request.param
    url, drop = _store(kind, tmp_path)
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("PRIVET_")},
        "PRIVET_DATABASE_URL": url,
        "PRIVET_SECRET_KEY": SECRET,
        "PRIVET_DATA_DIR": str(tmp_path / "var"),
        "PRIVET_HOST": "127.0.0.1",
        "PRIVET_LOG_LEVEL": "warning",
        "PRIVET_JOBS_THREADS": "0",
        "PRIVET_WEBHOOK_DELIVERY_IN_PROCESS": "false",
        "PRIVET_MAIL_SENDER": "console",
        "PRIVET_SMS_SENDER": "console",
        "PRIVET_PUBLIC_RATE_LIMIT_PER_MINUTE": "6",
        "PRIVET_LOGIN_FREE_FAILURES": "10",
        "PRIVET_LOGIN_LOCK_FAILURES": "3",
        "PRIVET_OTP_PER_IDENTITY_PER_HOUR": "2",
        "PRIVET_OTP_RESEND_SECONDS": "0",
        "PRIVET_OTP_PER_CLIENT_PER_HOUR": "100",
    }
    if limits == "redis":
        from tests.support.brokers import redis_broker

        env["PRIVET_LIMITS_REDIS_URL"] = redis_broker().rsplit("/", 1)[0] + "/3"
        import redis

        redis.Redis.from_url(env["PRIVET_LIMITS_REDIS_URL"]).flushdb()
    settings = Settings(database_url=url, secret_key=SECRET, data_dir=tmp_path / "var")
    engine = make_engine(url)
    migrate.upgrade(engine)
    with store_session(settings, engine=engine) as session:
        service.create_user(session, "several.admin", "admin", password=PASSWORD, actor="test")
        admin_key = service.create_api_key(session, "admin", ["users:admin"], actor="test")[1]
        decide_key = service.create_api_key(session, "decider", ["decide"], actor="test")[1]
    engine.dispose()
    first, second = Server(env, tmp_path, "first"), Server(env, tmp_path, "second")
    try:
        first.wait()
        second.wait()
        yield first, second, {"admin": admin_key, "decide": decide_key}
    finally:
        first.stop()
        second.stop()
        drop()


def test_each_limit_holds_across_two_server_processes(servers) -> None:
    first, second, keys = servers
    both = [first, second]

    # a public rate limit (6 a minute from one address): the seventh request, whichever server gets it, is refused
    answers = [both[i % 2].call("GET", PUBLIC)[0] for i in range(8)]
    assert answers == [200] * 6 + [429, 429]

    # a login lock (3 failures in a row), counted across both servers and routes
    login = "/api/v1/auth/login"
    assert [
        both[i % 2].call("POST", login, {"username": "several.admin", "password": "wrong"})[0] for i in range(3)
    ] == [401, 401, 401]
    status, body = second.call("POST", login, {"username": "several.admin", "password": PASSWORD})
    assert status == 429 and "locked" in body["detail"]
    assert first.call("POST", login, {"username": "several.admin", "password": PASSWORD})[0] == 429

    # a code cap (2 codes an hour to one identity)
    start = {"identity_type": "email", "identity": "several@example.com"}
    sent = [server.call("POST", "/api/v1/verify/start", start)[0] for server in (first, second, first, second)]
    assert sent == [201, 201, 429, 429]

    # a revoked key: remembered by both servers, refused by both the moment the revocation answers
    decision = {"subject_id": "0" * 26, "purpose": "marketing.communications"}
    for server in both * 2:
        assert server.call("POST", "/api/v1/decisions", decision, keys["decide"])[0] != 401
    prefix = keys["decide"][4:15]
    status, _ = first.call("DELETE", f"/api/v1/auth/apikeys/{prefix}", token=keys["admin"])
    assert status == 204
    assert second.call("POST", "/api/v1/decisions", decision, keys["decide"])[0] == 401
    assert first.call("POST", "/api/v1/decisions", decision, keys["decide"])[0] == 401
    assert second.call("GET", "/api/v1/auth/apikeys", token=keys["admin"])[0] == 200  # other keys still work
