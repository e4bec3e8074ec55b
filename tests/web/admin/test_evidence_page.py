"""The console's evidence page (P1-P45): listed in the navigation for `registers:read`, every promise shown, in
English and Chinese, with HTML and JSON downloads; refused to a role without the scope."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.web.admin.conftest import HTML

IDS = [f"P{n}" for n in range(1, 46)]


def test_console_evidence_page_in_english_and_chinese(client: TestClient, officer) -> None:
    officer("privacy_officer")
    page = client.get("/admin/evidence", headers=HTML)
    assert page.status_code == 200 and 'href="/admin/evidence" aria-current="page"' in page.text
    assert all(f'<tr id="{i}">' in page.text for i in IDS) and "No data map is applied." in page.text
    assert client.get("/admin", headers=HTML).text.count('href="/admin/evidence"') == 1  # in the navigation
    zh = client.get("/admin/evidence?lang=zh_CN", headers=HTML)
    assert "证据：政策承诺的履行情况" in zh.text and "只收集列明类别的个人信息" in zh.text
    download = client.get("/admin/evidence/evidence.json", headers=HTML)
    assert download.headers["content-disposition"] == 'attachment; filename="evidence.json"'
    assert len(download.json()["promises"]) == 45


def test_console_evidence_page_refuses_a_role_without_registers_read(client: TestClient, officer) -> None:
    officer("agent")
    assert client.get("/admin/evidence", headers=HTML).status_code == 403
    assert 'href="/admin/evidence"' not in client.get("/admin", headers=HTML).text
