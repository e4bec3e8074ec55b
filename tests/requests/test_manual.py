"""Manual tasks: a person's part of a request, completed by an upload (CSV/JSON) or a confirmation."""

from __future__ import annotations

import json
from datetime import date

import pytest
import sqlalchemy as sa
from faker import Faker
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from privet.audit.models import AuditEvent
from privet.auth import service as auth
from privet.datamap.models import DatamapDataset, DatamapDatastore, DatamapTable
from privet.kit.crypto import Keyring
from privet.kit.errors import Conflict, InvalidInput, NotFound
from privet.requests.crypto import step_rows
from privet.requests.execution import handover
from privet.requests.manual import service as manual
from privet.requests.models import ManualTask, RequestStep
from privet.settings import Settings
from tests.requests.test_package import make_request

fake = Faker("zh_CN")
ACTOR = "user:officer"


@pytest.fixture
def keyring(settings: Settings) -> Keyring:
    return Keyring.from_settings(settings)


def paper_datastore(db: Session, tables: tuple[str, ...] = ("contracts",)) -> None:
    """A manual datastore in the data map (paper files), with the given tables."""
    db.add(DatamapDatastore(key="paper", system_key="office", kind="manual", region="CN"))
    dataset = DatamapDataset(key="paper_files", datastore_key="paper", sources=[])
    db.add(dataset)
    for position, name in enumerate(tables):
        dataset.tables.append(DatamapTable(dataset_key="paper_files", name=name, position=position, primary_key=[]))
    db.flush()


def task_for(
    db: Session,
    keyring: Keyring,
    *,
    action: str = "fetch",
    request_type: str = "access",
    tables: tuple[str, ...] = ("contracts",),
) -> ManualTask:
    paper_datastore(db, tables)
    request = make_request(db, keyring, type=request_type, status="waiting")
    step = RequestStep(
        request_id=request.id,
        position=0,
        datastore_key="paper",
        connector="manual",
        action=action,
        status="running",
        counts={},
        retained=[],
    )
    db.add(step)
    db.flush()
    return handover.create_task(
        db,
        step,
        assignee="partner_office",
        due_on=date(2031, 6, 1),
        instructions=f"Look through the paper files for request {request.reference}.",
    )


def step_of(db: Session, task: ManualTask) -> RequestStep:
    db.expire_all()
    return db.get(RequestStep, task.step_id)


def test_create_waits_and_is_idempotent(db: Session, keyring: Keyring) -> None:
    task = task_for(db, keyring)
    step = db.get(RequestStep, task.step_id)
    assert step.status == "waiting" and task.status == "open" and task.request_id == step.request_id
    assert handover.create_task(db, step, instructions="again") is task  # a re-run job: no second task
    [event] = db.scalars(select(AuditEvent).where(AuditEvent.action == "task.created")).all()
    assert event.details["assigned"] is True and "partner_office" not in json.dumps(event.details)
    assert manual.list_tasks(db) == [task] and manual.list_tasks(db, assignee="someone") == []
    assert manual.list_tasks(db, status="done") == []
    with pytest.raises(InvalidInput):
        manual.list_tasks(db, status="later")


def test_csv_upload_becomes_the_steps_rows(db: Session, keyring: Keyring, settings: Settings) -> None:
    task = task_for(db, keyring)
    name, licence = fake.name(), fake.ssn()
    upload = f"contract_no,signatory_name,signatory_id_card_copy\nC-1,{name},{licence}\nC-2,{name},\n"
    done = manual.complete_task(
        db, keyring, settings, task.id, actor=ACTOR, upload=upload.encode("utf-8-sig"), upload_name="contracts.csv"
    )
    assert done.status == "done" and done.completed_by == ACTOR and done.completed_at is not None
    step = step_of(db, task)
    assert step.status == "done" and step.counts == {"contracts": {"found": 2}}
    rows = step_rows(keyring, step)["contracts"]
    assert rows[0] == {"contract_no": "C-1", "signatory_name": name, "signatory_id_card_copy": licence}
    assert rows[1]["signatory_id_card_copy"] is None
    [event] = db.scalars(select(AuditEvent).where(AuditEvent.action == "task.completed")).all()
    assert event.details["rows"] == 2 and name not in json.dumps(event.details, ensure_ascii=False)
    with pytest.raises(Conflict):
        manual.complete_task(db, keyring, settings, task.id, actor=ACTOR, confirmation="again")


@pytest.mark.parametrize(
    "document",
    [
        {"rows": {"contracts": [{"contract_no": "C-9"}]}},
        {"contracts": [{"contract_no": "C-9"}]},
        [{"contract_no": "C-9"}],
    ],
)
def test_json_upload_shapes(db: Session, keyring: Keyring, settings: Settings, document: object) -> None:
    task = task_for(db, keyring)
    manual.complete_task(
        db, keyring, settings, task.id, actor=ACTOR, upload=json.dumps(document).encode(), upload_name="found.json"
    )
    assert step_rows(keyring, step_of(db, task)) == {"contracts": [{"contract_no": "C-9"}]}


def test_erasure_confirmed_with_counts(db: Session, keyring: Keyring, settings: Settings) -> None:
    task = task_for(db, keyring, action="erase", request_type="erasure")
    manual.complete_task(
        db, keyring, settings, task.id, actor=ACTOR, confirmation="shredded", counts={"contracts": {"deleted": 2}}
    )
    step = step_of(db, task)
    assert step.status == "done" and step.counts == {"contracts": {"deleted": 2}} and step.output_enc is None
    assert db.get(ManualTask, task.id).note == "shredded"


def test_erasure_upload_in_the_http_answer_format(db: Session, keyring: Keyring, settings: Settings) -> None:
    task = task_for(db, keyring, action="erase", request_type="erasure")
    retained = [{"table": "contracts", "field": "signatory_name", "reason": "contract claims", "until": "2036-01-01"}]
    body = json.dumps({"counts": {"contracts": {"retained": 1}}, "retained": retained}).encode()
    manual.complete_task(db, keyring, settings, task.id, actor=ACTOR, upload=body, upload_name="done.json")
    assert step_of(db, task).retained == retained


def test_nothing_found_is_a_confirmation(db: Session, keyring: Keyring, settings: Settings) -> None:
    task = task_for(db, keyring)
    manual.complete_task(db, keyring, settings, task.id, actor=ACTOR, confirmation="nothing found")
    step = step_of(db, task)
    assert step.status == "done" and step.counts == {} and step_rows(keyring, step) == {}


def test_bad_completions_change_nothing(db: Session, keyring: Keyring, settings: Settings) -> None:
    task = task_for(db, keyring, tables=("contracts", "licences"))
    cases = [
        ({}, "upload or a confirmation"),
        ({"upload": b"a,b\n1,2\n", "upload_name": "rows.csv"}, "which table"),
        ({"upload": b"{not json", "upload_name": "x.json"}, "not valid JSON"),
        ({"upload": b"\xff\xfe\x00", "upload_name": "x.csv"}, "not UTF-8"),
        ({"upload": b'{"rows": {"contracts": 5}}'}, "does not fit"),
        ({"confirmation": "done", "counts": {"contracts": {"deleted": 2}}}, "needs the rows"),
        ({"confirmation": "done", "counts": {"contracts": 2}}, "Counts must map"),
    ]
    for given, expected in cases:
        with pytest.raises(InvalidInput, match=expected):
            manual.complete_task(db, keyring, settings, task.id, actor=ACTOR, **given)
    assert db.get(ManualTask, task.id).status == "open" and step_of(db, task).status == "waiting"
    with pytest.raises(NotFound):
        manual.complete_task(db, keyring, settings, "nope", actor=ACTOR, confirmation="x")


def test_a_step_no_longer_waiting_refuses_completion(db: Session, keyring: Keyring, settings: Settings) -> None:
    task = task_for(db, keyring)
    db.get(RequestStep, task.step_id).status = "failed"
    with pytest.raises(Conflict, match="failed"):
        manual.complete_task(db, keyring, settings, task.id, actor=ACTOR, confirmation="nothing found")


# --- API ---------------------------------------------------------------------------------------------------------
def bearer(db: Session, *scopes: str) -> dict:
    token = auth.create_api_key(db, "tasks-test", list(scopes), actor="test")[1]
    db.commit()
    return {"Authorization": f"Bearer {token}"}


def test_api_list_show_and_complete(client: TestClient, db: Session, settings: Settings) -> None:
    keyring = Keyring.from_settings(settings)
    task = task_for(db, keyring)
    reader, writer = bearer(db, "requests:read"), bearer(db, "requests:read", "requests:write")
    base = "/api/v1/requests/tasks"
    assert client.get(base).status_code == 401
    listed = client.get(base, headers=reader).json()
    assert [t["id"] for t in listed] == [task.id] and listed[0]["due_on"] == "2031-06-01"
    shown = client.get(f"{base}/{task.id}", headers=reader).json()
    assert shown["identity_type"] == "email" and shown["identity"].endswith("@example.com")
    assert client.post(f"{base}/{task.id}/complete", headers=reader, json={"confirmation": "x"}).status_code == 403
    bad = client.post(f"{base}/{task.id}/complete", headers=writer, json={"confirmation": ""})
    assert bad.status_code == 422

    name = fake.name()
    upload = f"contract_no,signatory_name\nC-3,{name}\n".encode("utf-8-sig")
    done = client.post(
        f"{base}/{task.id}/complete",
        headers=writer,
        files={"file": ("contracts.csv", upload)},
        data={"confirmation": "found one file"},
    )
    assert done.status_code == 200, done.text
    assert done.json()["status"] == "done" and done.json()["note"] == "found one file"
    step = step_of(db, task)
    assert step_rows(keyring, step) == {"contracts": [{"contract_no": "C-3", "signatory_name": name}]}
    assert client.get(base, headers=reader).json() == []
    assert client.get(f"{base}?status=all", headers=reader).json()[0]["completed_by"].startswith("apikey:")


def test_api_json_confirmation(client: TestClient, db: Session, settings: Settings) -> None:
    task = task_for(db, Keyring.from_settings(settings), action="erase", request_type="erasure")
    writer = bearer(db, "requests:write")
    done = client.post(
        f"/api/v1/requests/tasks/{task.id}/complete",
        headers=writer,
        json={"confirmation": "shredded", "counts": {"contracts": {"deleted": 1}}},
    )
    assert done.status_code == 200, done.text
    assert step_of(db, task).counts == {"contracts": {"deleted": 1}}


# --- CLI ---------------------------------------------------------------------------------------------------------
def test_cli_list_show_complete(privet, cli_store: str, tmp_path) -> None:
    from privet.settings import get_settings

    engine = sa.create_engine(cli_store)
    try:
        settings = get_settings()
        with Session(engine) as db:
            task = task_for(db, Keyring.from_settings(settings))
            db.commit()
            task_id = task.id
    finally:
        engine.dispose()
    listed = privet("tasks", "list")
    assert listed.exit_code == 0 and task_id in listed.output and "paper" in listed.output
    shown = privet("tasks", "show", task_id)
    assert shown.exit_code == 0 and "@example.com" in shown.output
    assert privet("tasks", "complete", task_id).exit_code == 2
    file = tmp_path / "contracts.csv"
    file.write_text(f"contract_no,signatory_name\nC-4,{fake.name()}\n", encoding="utf-8")
    done = privet("tasks", "complete", task_id, "--file", str(file))
    assert done.exit_code == 0 and "completed task" in done.output
    assert task_id not in privet("tasks", "list").output
