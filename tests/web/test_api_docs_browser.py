"""`/docs` in Chromium: Swagger UI loads from Privet itself under its Content-Security-Policy and lists the API."""

from __future__ import annotations


def test_docs_lists_the_operations_without_csp_violations(page, site) -> None:
    problems: list[str] = []
    outside: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: problems.append(str(e)))
    page.on("request", lambda r: outside.append(r.url) if not r.url.startswith((site.url, "data:")) else None)
    answer = page.goto("/docs")
    assert answer.status == 200 and "script-src 'self' 'nonce-" in answer.headers["content-security-policy"]
    page.locator(".opblock").first.wait_for(timeout=60_000)  # Swagger UI lays out 400 KB of schema; slow when busy
    assert page.locator(".opblock").count() > 100  # every operation of the description is listed
    page.locator("#operations-decisions-decide_one_api_v1_decisions_post").wait_for()
    assert page.get_by_role("button", name="Authorize").is_visible()  # the security schemes are declared
    assert not outside, outside  # nothing from a CDN
    assert not [p for p in problems if "Content Security Policy" in p or "Refused" in p], problems
