"""Users, passwords and the first admin: argon2id at rest, refusals, audit trail without secrets."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from privet.audit.models import AuditEvent
from privet.auth import passwords, service
from privet.auth.models import User
from privet.kit.errors import Conflict, InvalidInput, NotFound
from tests.auth.conftest import ACTOR


def _audit_text(db: Session) -> str:
    return json.dumps([[e.actor, e.action, e.object_id, e.details] for e in db.scalars(select(AuditEvent))])


def test_password_stored_as_argon2id_and_checked(db: Session, new_username, new_password) -> None:
    password = new_password()
    user, generated = service.create_user(db, new_username(), "agent", password=password, actor=ACTOR)
    assert generated is None and not user.must_change_password
    assert user.password_hash.startswith("$argon2id$") and password not in user.password_hash
    assert service.authenticate_password(db, user.username, password).id == user.id
    assert user.last_login_at is not None
    assert service.authenticate_password(db, user.username, password + "x") is None
    assert service.authenticate_password(db, "nobody-" + user.username, password) is None


def test_production_hasher_is_argon2id_rfc9106(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.undo()  # the real parameters, not the cheap test ones
    stored = passwords.hash_password("correct horse battery")
    assert stored.startswith("$argon2id$v=19$m=65536,t=3,p=4$")
    assert passwords.verify_password(stored, "correct horse battery")
    assert not passwords.verify_password(stored, "correct horse battery!")


def test_generated_password_returned_once_and_must_change(db: Session, new_username) -> None:
    user, generated = service.create_user(db, new_username(), "auditor", actor=ACTOR)
    assert generated and len(generated) >= 20 and user.must_change_password
    assert service.authenticate_password(db, user.username, generated) is not None
    assert generated not in _audit_text(db)


def test_inactive_user_cannot_log_in(db: Session, make_user) -> None:
    make_user("admin")  # another admin, so the guard lets this one go
    user, password = make_user("admin")
    service.deactivate_user(db, user, actor=ACTOR)
    assert service.authenticate_password(db, user.username, password) is None


@pytest.mark.parametrize(
    "username, role, password, error",
    [
        ("someone@example.com", "agent", None, InvalidInput),  # e-mail addresses are not usernames
        ("ok-name", "superuser", None, InvalidInput),
        ("ok-name", "agent", "short", InvalidInput),
    ],
)
def test_bad_user_input_refused_and_nothing_stored(db: Session, username, role, password, error) -> None:
    with pytest.raises(error) as caught:
        service.create_user(db, username, role, password=password, actor=ACTOR)
    assert db.scalar(select(User).where(User.username == username)) is None
    if role == "superuser":
        assert "privacy_officer" in caught.value.render()  # lists the valid roles


def test_duplicate_username_conflicts(db: Session, make_user) -> None:
    user, _ = make_user("agent")
    with pytest.raises(Conflict):
        service.create_user(db, user.username, "agent", actor=ACTOR)


def test_unknown_user_not_found(db: Session) -> None:
    with pytest.raises(NotFound):
        service.find_user(db, "ghost")


def test_first_admin_created_once(db: Session) -> None:
    created = service.ensure_first_admin(db)
    assert created is not None
    username, password = created
    admin = service.find_user(db, username)
    assert admin.role == "admin" and admin.must_change_password and admin.password_hash.startswith("$argon2id$")
    assert service.authenticate_password(db, username, password) is not None
    assert service.ensure_first_admin(db) is None
    assert len(service.list_users(db)) == 1
    assert password not in _audit_text(db)


def test_last_active_admin_cannot_be_demoted_or_deactivated(db: Session, make_user) -> None:
    admin, _ = make_user("admin")
    with pytest.raises(Conflict):
        service.set_role(db, admin, "agent", actor=ACTOR)
    with pytest.raises(Conflict):
        service.deactivate_user(db, admin, actor=ACTOR)
    other, _ = make_user("agent")
    service.set_role(db, other, "admin", actor=ACTOR)
    service.set_role(db, admin, "auditor", actor=ACTOR)
    assert admin.role == "auditor"


def test_user_changes_are_audited_without_secrets(db: Session, make_user, new_password) -> None:
    make_user("admin")
    user, first_password = make_user("agent")
    new = new_password()
    service.set_role(db, user, "privacy_officer", actor=ACTOR)
    service.set_password(db, user, new, actor=ACTOR)
    generated = service.set_password(db, user, actor=ACTOR)
    service.deactivate_user(db, user, actor=ACTOR)
    events = db.scalars(select(AuditEvent).where(AuditEvent.object_id == user.id).order_by(AuditEvent.seq)).all()
    assert [e.action for e in events] == [
        "user.created",
        "user.role_changed",
        "user.password_set",
        "user.password_set",
        "user.deactivated",
    ]
    assert events[1].details == {"from": "agent", "to": "privacy_officer"}
    text = _audit_text(db)
    for secret in (first_password, new, generated, user.password_hash):
        assert secret not in text
