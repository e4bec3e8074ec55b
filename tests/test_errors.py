"""User errors are one clear line (CLI exit 2, HTTP problem JSON) and never echo secrets or stack traces."""

from __future__ import annotations

import pytest

from privet.kit.errors import InvalidInput
from privet.kit.yamlio import load_file
from privet.settings import get_settings
from tests.conftest import PrivetCli


@pytest.mark.parametrize(
    ("name", "value", "secret"),
    [
        ("PRIVET_PORT", "not-a-port", None),
        ("PRIVET_SECRETS", '{"crm": ["postgresql://u:Hunter22pw@h/db"]}', "Hunter22pw"),
        ("PRIVET_SECRETS", "{not json", None),
    ],
)
def test_bad_setting_is_named_without_its_value(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str, secret: str | None
) -> None:
    monkeypatch.setenv(name, value)
    get_settings.cache_clear()
    try:
        result = PrivetCli()("db", "current")
    finally:
        get_settings.cache_clear()
    assert result.exit_code == 2
    assert name in result.output and "Traceback" not in result.output
    if secret:
        assert secret not in result.output


def test_non_utf8_yaml_is_a_clear_error(tmp_path) -> None:
    path = tmp_path / "latin1.yaml"
    path.write_bytes("name: caf\xe9\n".encode("latin-1"))
    with pytest.raises(InvalidInput, match="not UTF-8"):
        load_file(path)


def test_unexpected_failure_is_a_problem_body_without_internals(app) -> None:
    from fastapi.testclient import TestClient

    @app.get("/boom", openapi_extra={"x-privet-public": True})
    def boom() -> None:
        raise RuntimeError("internal detail with secret-ish text")

    with TestClient(app, raise_server_exceptions=False) as client:
        response = client.get("/boom")
    assert response.status_code == 500
    assert response.headers["content-type"].startswith("application/problem+json")
    assert "secret-ish" not in response.text and "Traceback" not in response.text


def test_out_of_range_query_is_422_not_500(client) -> None:
    from privet.auth import service

    with client.app.state.sessionmaker() as session:
        _, token = service.create_api_key(session, "t", ["audit:read", "datamap:read"], actor="test")
        session.commit()
    headers = {"Authorization": f"Bearer {token}"}
    assert client.get("/api/v1/audit/events?after=99999999999999999999999", headers=headers).status_code == 422
    assert client.get("/api/v1/datamap/versions/99999999999999999999", headers=headers).status_code == 422


def test_store_sqlite_file_is_private(tmp_path) -> None:
    from privet.db.engine import make_engine

    engine = make_engine(f"sqlite:///{tmp_path / 'store.db'}")
    with engine.connect():
        pass
    engine.dispose()
    assert (tmp_path / "store.db").stat().st_mode & 0o077 == 0
