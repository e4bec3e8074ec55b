"""`/openapi.json` declares how to authenticate and how each operation fails (the fuzz test checks it holds)."""

from __future__ import annotations

from privet.app import create_app
from privet.settings import Settings

PROBLEM = {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}


def _spec() -> dict:
    return create_app(Settings()).openapi()


def test_security_schemes_and_requirements() -> None:
    spec = _spec()
    assert set(spec["components"]["securitySchemes"]) == {"apiKey", "adminSession", "csrfToken", "subjectSession"}
    ops = spec["paths"]
    assert ops["/api/v1/audit/events"]["get"]["security"] == [
        {"apiKey": ["audit:read"]},
        {"adminSession": ["audit:read"]},
    ]
    assert ops["/api/v1/decisions"]["post"]["security"] == [
        {"apiKey": ["decide"]},
        {"adminSession": ["decide"], "csrfToken": []},
    ]
    assert ops["/api/v1/consent/me"]["get"]["security"] == [{"subjectSession": []}]
    assert ops["/api/v1/public/requests"]["post"]["security"] == [{}, {"subjectSession": []}]
    assert ops["/healthz"]["get"]["security"] == []


def test_every_operation_documents_its_errors_as_problems() -> None:
    spec = _spec()
    assert "HTTPValidationError" not in spec["components"]["schemas"]
    for path, operations in spec["paths"].items():
        for method, op in operations.items():
            errors = {code: answer for code, answer in op["responses"].items() if code[0] in "45"}
            assert "503" in errors, (method, path)
            assert all(answer["content"] == PROBLEM for answer in errors.values()), (method, path)
            if any("apiKey" in requirement for requirement in op["security"]):
                assert {"401", "403"} <= set(errors), (method, path)
            if "requestBody" in op:
                assert {"400", "404", "413", "422"} <= set(errors), (method, path)
            if "{" in path:
                assert "404" in errors, (method, path)
    public_file = spec["paths"]["/api/v1/public/requests"]["post"]["responses"]
    assert {"401", "429"} <= set(public_file) and "403" not in public_file
    assert "Retry-After" in public_file["429"]["headers"]
