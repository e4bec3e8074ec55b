"""The application answers health checks and turns user errors into problem bodies."""

from __future__ import annotations


def test_healthz_needs_no_credentials(client) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200 and response.json()["status"] == "ok"


def test_openapi_is_served(client) -> None:
    spec = client.get("/openapi.json").json()
    assert spec["info"]["title"] == "Privet"
    assert client.get("/docs").status_code == 200


def test_protected_route_without_credentials_is_401_problem(client) -> None:
    response = client.get("/api/v1/audit/verify")
    assert response.status_code == 401
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["status"] == 401
