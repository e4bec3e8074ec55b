"""Numbers in console page addresses past what the store can hold are clamped, never a 500."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.web.admin.conftest import HTML


def test_numbers_past_their_range_are_clamped(client: TestClient, officer) -> None:
    officer("admin")
    for url in ("/admin/audit?before=99999999999999999999", "/admin/requests?offset=99999999999999999999"):
        assert client.get(url, headers=HTML).status_code == 200, url
