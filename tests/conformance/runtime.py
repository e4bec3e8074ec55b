"""Privet as a company runs it, on a scratch store: apply a data map, file and verify real requests, run their jobs
in this thread, and read what the person receives (the package, the request's result, the completion message).

The path is the one every request takes: `file_request`, a staff member's recorded identity check
(`record_identity_check`), then the job runtime (`run_until_idle`) until nothing is queued. Messages go to the
console sender and are captured, never printed.
"""

from __future__ import annotations

import contextlib
import io
import json
import time
import zipfile
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select

SECRET_KEY = "conformance-secret-key-0123456789abcdef"
ACTOR = "user:conformance"


@dataclass
class Answer:
    """What a finished request left: its status and result, the package's files (access), the messages sent."""

    request_id: str
    status: str
    result: dict
    files: dict[str, bytes]
    messages: list[dict]  # payloads of the request's message jobs: {"kind": ..., "values": {...}}
    errors: list[str]

    @property
    def document(self) -> dict:
        return json.loads(self.files["data.json"]) if "data.json" in self.files else {}

    def message(self, kind: str) -> dict | None:
        return next((m for m in self.messages if m.get("kind") == kind), None)


class Privet:
    """One scratch store (SQLite file) with the data map applied and one datastore secret."""

    def __init__(self, folder: Path, secrets: dict[str, str]) -> None:
        from privet.db.engine import make_engine, make_sessionmaker
        from privet.jobs import dispatch
        from privet.kit.crypto import Keyring
        from privet.settings import Settings
        from privet.tables import metadata

        folder.mkdir(parents=True, exist_ok=True)
        self.settings = Settings(
            _env_file=None,
            database_url=f"sqlite:///{folder / 'store.sqlite'}",
            secret_key=SECRET_KEY,
            data_dir=folder / "var",
            secrets=secrets,
            jobs_threads=0,
            jobs_max_attempts=2,
            jobs_retry_seconds=0.01,
            mail_sender="console",
            sms_sender="console",
            requests_free_per_window=1000,
            public_url="https://privacy.conformance.example",
            log_level="warning",
        )
        self.engine = make_engine(self.settings.database_url)
        metadata.create_all(self.engine)
        self.factory = make_sessionmaker(self.engine, self.settings)
        self.keyring = Keyring.from_settings(self.settings)
        self._previous = dispatch.configure(self.settings)
        self.printed = io.StringIO()

    def close(self) -> None:
        from privet.connectors.sql import engines, schema
        from privet.jobs import dispatch

        dispatch.configure(self._previous)
        engines.dispose_all()
        schema.forget()
        self.engine.dispose()

    @contextlib.contextmanager
    def session(self):
        from privet.db.engine import begin_write, session_scope
        from privet.jobs import dispatch

        with session_scope(self.factory) as session:
            session.info[dispatch.SETTINGS_KEY] = self.settings
            begin_write(session)
            yield session

    def apply(self, manifest: dict) -> None:
        """Validate and apply the data map (InvalidInput listing its problems)."""
        from privet.datamap.schemas import Manifest
        from privet.datamap.service import apply

        with self.session() as session:
            apply(session, Manifest.model_validate(manifest), actor=ACTOR)

    def drain(self, rounds: int = 400) -> None:
        """Run every queued job (waiting out short retry back-offs) with messages captured."""
        from privet.jobs.models import Job
        from privet.jobs.service import run_until_idle

        with contextlib.redirect_stdout(self.printed):
            for _ in range(rounds):
                if run_until_idle(self.factory, self.settings, self.keyring):
                    continue
                with self.factory() as check:
                    waiting = check.execute(select(Job.id).where(Job.status.in_(("queued", "running")))).first()
                if waiting is None:
                    return
                time.sleep(0.01)

    def verified(self, request_type: str, identity_type: str, identity: str) -> str:
        """File a request for `identity` and verify it by a staff identity check (its steps are queued); its id."""
        from privet.requests.intake.service import file_request
        from privet.requests.intake.verify import record_identity_check
        from privet.requests.models import DsrRequest

        with self.session() as session:
            request_id = file_request(
                session,
                self.keyring,
                self.settings,
                request_type=request_type,
                identity_type=identity_type,
                identity=identity,
                filed_by=ACTOR,
                channel="staff_email",
            ).id
        self.drain()
        with self.session() as session:
            record_identity_check(
                session,
                self.keyring,
                self.settings,
                session.get(DsrRequest, request_id),
                method="known_contact",
                note=None,
                actor=ACTOR,
            )
        return request_id

    def request(self, request_type: str, identity_type: str, identity: str) -> Answer:
        """File a request for `identity`, verify it by a staff identity check, run it to its end."""
        request_id = self.verified(request_type, identity_type, identity)
        self.drain()
        return self.answer(request_id)

    def answer(self, request_id: str) -> Answer:
        from privet.jobs.models import Job
        from privet.requests.models import AccessPackage, DsrRequest, RequestStep
        from privet.requests.packages.service import hand_out

        with self.session() as session:
            request = session.get(DsrRequest, request_id)
            files: dict[str, bytes] = {}
            package = session.scalars(select(AccessPackage).where(AccessPackage.request_id == request_id)).first()
            if package is not None:  # the person's download (counted and audited like theirs)
                data = hand_out(session, self.keyring, package, actor="public:download-link", details={})
                with zipfile.ZipFile(io.BytesIO(data)) as archive:
                    files = {name: archive.read(name) for name in archive.namelist()}
            jobs = session.scalars(select(Job).where(Job.kind == "requests.message")).all()
            messages = [j.payload for j in jobs if (j.payload or {}).get("request_id") == request_id]
            steps = session.scalars(select(RequestStep).where(RequestStep.request_id == request_id)).all()
            errors = [f"step {s.datastore_key}: {s.status}: {s.last_error}" for s in steps if s.last_error]
            return Answer(request_id, request.status, dict(request.result or {}), files, messages, errors)

    def subject_of(self, request_id: str) -> str | None:
        from privet.requests.models import DsrRequest

        with self.session() as session:
            return session.get(DsrRequest, request_id).subject_id

    def merge(self, subject_ids: list[str]) -> None:
        """One person proved several identities: their subjects become one (the first)."""
        from privet.subjects.service import get_subject, merge

        with self.session() as session:
            keep = get_subject(session, subject_ids[0])
            for other in dict.fromkeys(subject_ids[1:]):
                if other != keep.id:
                    merge(session, keep, get_subject(session, other), actor=ACTOR)
