"""`privet users` and `privet apikeys`: secrets printed once, clear errors with exit code 2."""

from __future__ import annotations

import re

import pytest

from privet.db.engine import make_engine


@pytest.fixture
def cli(privet, cli_store: str):
    """`privet(...)` on a fresh store with the auth tables (create_all is a no-op once migrations made them)."""
    from privet.tables import metadata

    engine = make_engine(cli_store)
    metadata.create_all(engine)
    engine.dispose()
    return privet


def test_init_prints_first_admin_password_once(cli) -> None:
    first = cli("init")
    assert first.exit_code == 0, first.output
    password = re.search(r"password: (\S+)", first.output).group(1)
    assert "username: admin" in first.output and len(password) >= 20
    again = cli("init")
    assert again.exit_code == 0 and "password" not in again.output
    listed = cli("users", "list").output
    assert "admin" in listed and "must change password" in listed and password not in listed


def test_users_commands(cli, new_username, new_password) -> None:
    name, chosen = new_username(), new_password()
    created = cli("users", "create", name, "--role", "agent", "--password-stdin", input=chosen + "\n")
    assert created.exit_code == 0, created.output
    assert chosen not in created.output and "password" not in created.output.lower()
    generated = cli("users", "create", name + "2", "--role", "auditor")
    assert generated.exit_code == 0 and "shown only now" in generated.output
    assert cli("users", "set-role", name, "privacy_officer").exit_code == 0
    reset = cli("users", "reset-password", name)
    assert reset.exit_code == 0 and "One-time password" in reset.output
    assert cli("users", "deactivate", name + "2").exit_code == 0
    listed = cli("users", "list").output
    assert re.search(rf"{re.escape(name)}\s+privacy_officer\s+active", listed)
    assert re.search(rf"{re.escape(name)}2\s+auditor\s+inactive", listed)
    for args, words in [
        (("users", "create", "x-" + name, "--role", "root"), "Unknown role"),
        (("users", "create", name, "--role", "agent"), "already exists"),
        (("users", "set-role", "ghost", "agent"), "No user 'ghost'"),
        (("users", "create", "someone@example.com", "--role", "agent"), "not a valid username"),
    ]:
        result = cli(*args)
        assert result.exit_code == 2 and words in result.output and "Traceback" not in result.output, args


def test_apikeys_commands(cli) -> None:
    created = cli("apikeys", "create", "crm-sync", "--scope", "datamap:read", "--scope", "audit:read")
    assert created.exit_code == 0, created.output
    secret = re.search(r"(pvt_pk_[0-9a-f]{8}_\S+)", created.output).group(1)
    prefix = secret[4:15]
    assert "cannot be shown again" in created.output
    listed = cli("apikeys", "list").output
    assert prefix in listed and "audit:read,datamap:read" in listed and secret not in listed
    assert secret[16:] not in listed
    assert cli("apikeys", "revoke", prefix).exit_code == 0
    assert re.search(rf"{prefix}\s+crm-sync\s+revoked", cli("apikeys", "list").output)
    bad = cli("apikeys", "create", "x", "--scope", "everything")
    assert bad.exit_code == 2 and "Unknown scope" in bad.output and "users:admin" in bad.output
    missing = cli("apikeys", "revoke", "pk_00000000")
    assert missing.exit_code == 2 and "No API key" in missing.output
