"""Every `privet requests`, `privet tasks` and hold command, each in its own process, on a populated store.

A real `privet` process imports only the modules its command needs; an in-process CliRunner test has every model
imported already and hides a table missing from SQLAlchemy's metadata (the `subjects` table named by
`dsr_requests.subject_id`, issue 12). So every command here runs as a subprocess against one store, populated once
per module with requests in several statuses, manual tasks, a legal hold and an access package.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import yaml
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from privet.db.engine import make_engine
from privet.requests.models import AccessPackage, DsrRequest, LegalHold, ManualTask
from tests.requests.shop import build_shop, write_datamap

PRIVET = Path(sys.executable).with_name("privet")  # the installed console script, as people run it
REFERENCE = re.compile(r"R-[0-9A-Z]{8}")


@dataclass
class Run:
    code: int
    out: str
    err: str

    def ok(self) -> Run:
        assert self.code == 0, f"exit {self.code}\n{self.out}\n{self.err}"
        return self

    def refused(self, *words: str) -> Run:
        """Exit 2 with a message saying what is wrong (a line, then the fields at fault if any), no stack trace."""
        assert self.code == 2, f"exit {self.code}\n{self.out}\n{self.err}"
        assert self.err.startswith("error: ") and "Traceback" not in self.err, self.err
        assert all(word.lower() in self.err.lower() for word in words), self.err
        return self


@dataclass
class Store:
    """The populated store: its environment, an engine to check effects with, and what was put in it."""

    env: dict[str, str]
    engine: Engine
    emails: list[str]  # the shop's customers, one per request
    refs: dict[str, str] = field(default_factory=dict)  # role -> request reference
    hold_id: str = ""

    def __call__(self, *args: str) -> Run:
        done = subprocess.run(
            [str(PRIVET), *args], env=self.env, capture_output=True, text=True, timeout=120, check=False
        )
        return Run(done.returncode, done.stdout, done.stderr)

    def request(self, role: str) -> DsrRequest:
        with Session(self.engine) as session:
            return session.scalars(select(DsrRequest).where(DsrRequest.reference == self.refs[role])).one()

    def tasks(self, role: str) -> list[ManualTask]:
        with Session(self.engine) as session:
            return list(session.scalars(select(ManualTask).where(ManualTask.request_id == self.request(role).id)))

    def package(self, role: str) -> AccessPackage | None:
        with Session(self.engine) as session:
            return session.scalars(
                select(AccessPackage).where(AccessPackage.request_id == self.request(role).id)
            ).one_or_none()

    def hold(self, hold_id: str) -> LegalHold:
        with Session(self.engine) as session:
            return session.get(LegalHold, hold_id)

    def file(self, role: str, type_: str, email: str, *extra: str) -> str:
        filed = self("requests", "file", "--type", type_, "--identity", email, *extra).ok()
        self.refs[role] = REFERENCE.search(filed.out).group(0)
        return self.refs[role]


def _datamap(folder: Path, kind: str) -> Path:
    """The shop's data map (GDPR, so deadlines can be extended) plus a manual datastore: paper files."""
    path = write_datamap(folder, kind, profile="gdpr")
    doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    doc["systems"].append({"key": "office", "name": "Back office"})
    doc["datastores"].append({"key": "paper", "system": "office", "kind": "manual", "region": "CN"})
    doc["datasets"].append(
        {
            "key": "paper_files",
            "datastore": "paper",
            "sources": ["registration"],
            "tables": [
                {
                    "name": "contracts",
                    "primary_key": ["contract_no"],
                    "erasure": {"action": "delete_row"},
                    "fields": [{"name": "contract_no"}, {"name": "signatory_name", "category": "user.name"}],
                }
            ],
        }
    )
    path.write_text(yaml.safe_dump(doc, sort_keys=False), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def store(sqlite_migrated_template: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Store]:
    """A SQLite store (the fault is in the process's metadata, whatever the backend; tests/requests/test_cli.py
    covers PostgreSQL) with the shop's data map applied and, made through the CLI, requests in several statuses
    (completed with a package, waiting on a manual task, running, pending approval, unverified), a legal hold."""
    folder = tmp_path_factory.mktemp("populated")
    shutil.copyfile(sqlite_migrated_template, folder / "privet.db")
    url = f"sqlite:///{folder / 'privet.db'}"
    shop = build_shop(f"sqlite:///{folder / 'shop.sqlite'}", customers=9)
    env = {k: v for k, v in os.environ.items() if not k.startswith("PRIVET_")}
    env.update(
        PRIVET_DATABASE_URL=url,
        PRIVET_DATA_DIR=str(folder / "var"),
        PRIVET_SECRET_KEY="test-secret-key-0123456789abcdef",
        PRIVET_SECRETS=json.dumps({"shop_db": shop.url}),
        PRIVET_MAIL_SENDER="console",
        PRIVET_REQUESTS_MANUAL_APPROVAL='["erasure"]',
        PRIVET_PUBLIC_URL="https://privacy.shop.example",
        PRIVET_JOBS_RETRY_SECONDS="0.01",
        COLUMNS="200",
    )
    engine = make_engine(url)
    emails = [customer.email for customer in shop.customers]
    populated = Store(env, engine, emails)
    try:
        populated("datamap", "apply", str(_datamap(folder / "datamap", shop.kind))).ok()
        checked = ("--checked", "in_person")
        # Access requests: their shop step runs, their paper step waits on a manual task.
        populated.file("packaged", "access", emails[0], *checked)
        populated.file("tasked", "access", emails[1], *checked)
        populated("requests", "run", populated.refs["packaged"], "--now").ok()
        [task] = populated.tasks("packaged")
        populated("tasks", "complete", task.id, "--note", "nothing found").ok()
        populated.hold_id = (
            populated("requests", "hold", populated.request("packaged").subject_id, "--reason", "litigation pending")
            .ok()
            .out.split()[1]
        )
        # Left as filed: erasures waiting for approval, an unverified request, running ones, a complaint.
        populated.file("approve", "erasure", emails[2], *checked)
        populated.file("extend", "erasure", emails[3], *checked)
        populated.file("unverified", "access", emails[4])
        populated.file("refuse", "access", emails[5], *checked)
        populated.file("rerun", "access", emails[6], *checked)
        populated.file("complaint", "complaint", emails[7], *checked, "--text", "the newsletter kept coming")
        statuses = {role: populated.request(role).status for role in populated.refs}
        assert statuses == {
            "packaged": "completed",
            "tasked": "waiting",
            "approve": "pending_approval",
            "extend": "pending_approval",
            "unverified": "unverified",
            "refuse": "running",
            "rerun": "running",
            "complaint": "waiting",
        }, statuses
        assert populated.package("packaged") is not None and populated.hold(populated.hold_id).released_at is None
        yield populated
    finally:
        engine.dispose()


def test_list_show_due_codes(store: Store) -> None:
    listed = store("requests", "list").ok().out
    assert all(reference in listed for reference in store.refs.values())
    as_json = json.loads(store("requests", "list", "--status", "pending_approval", "--json").ok().out)
    assert {row["reference"] for row in as_json} >= {store.refs["approve"], store.refs["extend"]}
    assert {row["status"] for row in as_json} == {"pending_approval"}
    shown = store("requests", "show", store.refs["packaged"]).ok().out
    assert "steps" in shown and "request.completed" in shown and store.emails[0] not in shown
    detail = json.loads(store("requests", "show", store.refs["packaged"], "--json").ok().out)
    assert detail["status"] == "completed" and detail["package"] is not None
    assert store.refs["tasked"] in store("requests", "due", "--days", "90").ok().out
    assert "manifestly_unfounded" in store("requests", "codes").ok().out
    store("requests", "show", "R-ZZZZZZZZ").refused("reference")


def test_file_and_check(store: Store) -> None:
    reference = store.file("filed", "access", store.emails[8])
    assert store.request("filed").status == "unverified"
    store("requests", "check", store.refs["unverified"], "--method", "id_document", "--note", "passport seen").ok()
    checked = store.request("unverified")
    assert checked.verified_at is not None and checked.status in ("running", "waiting")
    store("requests", "file", "--type", "delete_me", "--identity", store.emails[8]).refused("access")
    assert store.request("filed").reference == reference


def test_approve(store: Store) -> None:
    store("requests", "approve", store.refs["approve"]).ok()
    approved = store.request("approve")
    assert approved.approved_at is not None and approved.status in ("running", "waiting")
    store("requests", "approve", store.refs["approve"]).refused("approved")


def test_extend(store: Store) -> None:
    before = store.request("extend").due_on
    store("requests", "extend", store.refs["extend"], "--reason", "many datastores to search").ok()
    extended = store.request("extend")
    assert extended.extended_to is not None and extended.extended_to > before
    store("requests", "extend", store.refs["extend"], "--reason", "again").refused("already extended")


def test_refuse(store: Store) -> None:
    store("requests", "refuse", store.refs["refuse"], "--code", "because").refused("refusal code")
    assert store.request("refuse").status == "running"
    store("requests", "refuse", store.refs["refuse"], "--code", "manifestly_unfounded").ok()
    refused = store.request("refuse")
    assert refused.status == "refused" and refused.refusal_code == "manifestly_unfounded"


def test_assign_and_complete_a_complaint(store: Store) -> None:
    store("requests", "assign", store.refs["complaint"], "--to", "officer").ok()
    assert store.request("complaint").assignee == "officer"
    store("requests", "complete", store.refs["complaint"], "--note", "removed from the list").ok()
    assert store.request("complaint").status == "completed"
    store("requests", "complete", store.refs["packaged"], "--note", "done").refused("complaints")


def test_run_now(store: Store) -> None:
    ran = store("requests", "run", store.refs["rerun"], "--now").ok().out
    assert "ran " in ran and store.refs["rerun"] in ran
    assert store.request("rerun").status == "waiting" and len(store.tasks("rerun")) == 1
    store("requests", "run", store.refs["packaged"]).refused("completed")


def test_package(store: Store) -> None:
    before = store.package("packaged")
    link = store("requests", "package", store.refs["packaged"], "--no-send").ok().out.strip()
    assert link.startswith("https://privacy.shop.example/api/v1/public/packages/")
    after = store.package("packaged")
    assert after.token_hash != before.token_hash and after.blob_enc is not None
    store("requests", "package", store.refs["tasked"], "--no-send").refused()


def test_holds(store: Store) -> None:
    assert store.hold_id in store("requests", "holds").ok().out
    subject_id = store.request("tasked").subject_id
    placed = store("requests", "hold", subject_id, "--reason", "regulator's inquiry", "--reference", "case 7").ok()
    new_hold = placed.out.split()[1]
    assert store.hold(new_hold).subject_id == subject_id and store.hold(new_hold).released_at is None
    store("requests", "release", store.hold_id).ok()
    assert store.hold(store.hold_id).released_at is not None
    store("requests", "release", store.hold_id).refused()
    assert store.hold_id not in store("requests", "holds").ok().out
    assert store.hold_id in store("requests", "holds", "--all").ok().out


def test_tasks_list_show_complete(store: Store) -> None:
    [task] = store.tasks("tasked")
    assert task.id in store("tasks", "list").ok().out
    shown = store("tasks", "show", task.id).ok().out
    assert store.refs["tasked"] in shown and store.emails[1] in shown  # the person doing the task needs it
    store("tasks", "complete", task.id).refused("--file or --note")
    store("tasks", "show", "no-such-task").refused("task")
    store("tasks", "complete", task.id, "--note", "nothing found").ok()
    [done] = store.tasks("tasked")
    assert done.status == "done" and done.completed_at is not None
    assert store.request("tasked").status == "completed"
    assert task.id in store("tasks", "list", "--status", "done").ok().out
