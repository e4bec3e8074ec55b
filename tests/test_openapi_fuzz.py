"""schemathesis over every operation of `/openapi.json`, in-process (ASGI), against a real store.

The store is a migrated SQLite file with the Keptek demo loaded; the calls carry valid credentials for every
security scheme (an API key holding every scope; a subject session), so the generated requests reach the routes'
validation and services rather than stopping at 401. Positive and negative data, the examples, coverage and
fuzzing phases; the stateful phase is not run (it could revoke the key it authenticates with). Every check runs
and fails the test (no server errors, which in-process surface as errors; responses match their documented
schemas, content types, status codes and headers; unauthenticated calls are refused), except the one whose rules no
schema can state (SEMANTIC, off) and Pydantic's lax coercions (LAX, warnings).

Examples per operation are bounded (`PRIVET_FUZZ_EXAMPLES`, default 12) to keep the run near a minute; raise it
to look harder (80 takes about three minutes). schemathesis' engine runs as its CLI would (its pytest plugin's lazy
loader does not work with this pytest); every finding is listed in the assertion.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Iterator
from pathlib import Path

import pytest

if os.environ.get("CI") == "true":  # CI installs the test extras: a missing schemathesis is a failure, not a skip
    import schemathesis
else:
    schemathesis = pytest.importorskip("schemathesis", reason="a test extra: pip install -e '.[test]'")

from privet.auth.scopes import SCOPES
from privet.settings import Settings

EXAMPLES = int(os.environ.get("PRIVET_FUZZ_EXAMPLES", "12"))
# A schema-valid request the service refuses (an e-mail identity that is not an address, a purpose the taxonomy
# lacks, an empty manifest) breaks a rule no static schema states: that check is off (left on, its first failure
# would also end the operation's fuzzing early). Every other check runs and fails the test.
SEMANTIC = {"positive_data_acceptance"}
# Pydantic's lax mode accepts what the schema's types exclude (0 for false, "5" for 5, a number of seconds for a
# date): such findings are warnings, not failures.
LAX = {"negative_data_rejection"}


def _store(folder: Path) -> tuple[Settings, str, str]:
    """A migrated store with the demo company, an API key with every scope and a subject session."""
    from privet.auth.keys import create_api_key
    from privet.db import migrate
    from privet.db.store import open_engine, store_session
    from privet.demo.service import load_demo
    from privet.kit.crypto import Keyring
    from privet.subjects import sessions
    from privet.subjects.service import create_subject

    settings = Settings(
        data_dir=folder / "var",
        secret_key="fuzz-secret-key-0123456789abcdef",
        mail_sender="console",
        sms_sender="console",
        public_rate_limit_per_minute=1_000_000,
        banner_rate_limit_per_minute=1_000_000,
        jobs_threads=0,
        webhook_delivery_in_process=False,
        public_url="http://testserver",
    )
    engine = open_engine(settings)
    migrate.upgrade(engine)
    load_demo(settings, engine, "keptek", customers=20)
    keyring = Keyring.from_settings(settings)
    with store_session(settings, engine=engine) as session:
        _, token = create_api_key(session, "fuzz", sorted(SCOPES), actor="test:fuzz")
        subject = create_subject(session, keyring, [("email", "fuzz.subject@example.com", True)], actor="test:fuzz")
        session.flush()
        subject_token = sessions.issue(keyring, subject_id=subject.id, identity_type="email")
    engine.dispose()
    return settings, token, subject_token


@pytest.fixture(scope="module")
def api_schema(tmp_path_factory: pytest.TempPathFactory) -> Iterator:
    from schemathesis.python import asgi

    from privet.app import create_app

    settings, token, subject_token = _store(tmp_path_factory.mktemp("fuzz"))
    app = create_app(settings)
    config = schemathesis.Config.from_dict(
        {
            "auth": {
                "openapi": {"apiKey": {"bearer": token}, "subjectSession": {"api_key": f"Subject {subject_token}"}}
            },
            "generation": {"mode": "all", "max-examples": EXAMPLES, "deterministic": True},
            "phases": {"stateful": {"enabled": False}},
            "checks": {"enabled": True, **{name: {"enabled": False} for name in SEMANTIC}},
            "continue-on-failure": True,
            "suppress-health-check": ["all"],
            "cache": {"enabled": False},  # every run starts fresh and leaves no .schemathesis/ folder behind
        }
    )
    yield schemathesis.openapi.from_asgi("/openapi.json", app, config=config)
    asgi.shutdown_lifespans()


def test_every_operation(api_schema) -> None:
    """0 server errors, 0 response-schema violations, 0 undocumented status codes (every check, every operation)."""
    from schemathesis.engine import events, from_schema

    operations: set[str] = set()
    cases, problems, finished, lax = 0, [], None, set()
    for event in from_schema(api_schema).execute():
        if isinstance(event, events.ScenarioFinished):
            operations.add(event.recorder.label)
            cases += len(event.recorder.cases)
            for case_id, checks in event.recorder.checks.items():
                for check in checks:
                    if check.failure_info is not None and check.name in LAX:
                        lax.add(f"{event.recorder.label}: {check.failure_info.failure.title}")
                    elif check.failure_info is not None:
                        case = event.recorder.cases[case_id].value
                        response = event.recorder.interactions.get(case_id)
                        status = response.response.status_code if response and response.response else "-"
                        problems.append(
                            f"{event.recorder.label}: {check.name} -> {status}: "
                            f"{check.failure_info.failure.title} | {case.method} {case.formatted_path} "
                            f"query={case.query} body={str(case.body)[:200]}"
                        )
        elif isinstance(event, events.NonFatalError):
            problems.append(f"{event.label}: error {event.info.title}: {event.info.message}"[:600])
        elif isinstance(event, events.FatalError):
            raise event.exception
        elif isinstance(event, events.EngineFinished):
            finished = event
    print(f"schemathesis: {len(operations)} operations, {cases} cases, {len(problems)} problems, {len(lax)} lax")
    for finding in sorted(lax):  # Pydantic's lax coercions (0 for false, a number for a date): said, not failed
        warnings.warn(f"schema-violating request accepted: {finding}", stacklevel=1)
    assert finished is not None and len(operations) >= 130, (len(operations), finished)
    unique = sorted(set(problems))
    assert not unique, f"{len(unique)} problems:\n" + "\n".join(unique[:80])
