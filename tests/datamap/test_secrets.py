"""Connection secrets resolve from settings, then the secrets file; URLs never appear in the data map."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest
from faker import Faker

from privet.datamap.secrets import resolve_secret, secrets_path, write_secrets
from privet.kit.errors import InvalidInput
from privet.settings import Settings


def _url(fake: Faker) -> str:
    return f"postgresql+psycopg://{fake.user_name()}:{fake.password(special_chars=False)}@{fake.hostname()}/crm"


def test_settings_win_over_the_default_file(tmp_path: Path) -> None:
    fake = Faker("en_US")
    in_env, in_file = _url(fake), _url(fake)
    settings = Settings(data_dir=tmp_path, secrets={"crm_db": in_env})
    write_secrets(settings, {"crm_db": in_file, "mail_db": "sqlite:///mail.db"})
    assert resolve_secret(settings, "crm_db") == in_env
    assert resolve_secret(settings, "mail_db") == "sqlite:///mail.db"


def test_explicit_json_secrets_file(tmp_path: Path) -> None:
    url = _url(Faker("zh_CN"))
    path = tmp_path / "secrets.json"
    path.write_text(json.dumps({"crm_db": url}), "utf-8")
    assert resolve_secret(Settings(data_dir=tmp_path / "var", secrets_file=path), "crm_db") == url


def test_unknown_secret_hint_names_where_to_add_it(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path)
    with pytest.raises(InvalidInput) as caught:
        resolve_secret(settings, "crm_db")
    assert "crm_db" in caught.value.detail
    assert "PRIVET_SECRETS" in caught.value.hint and str(tmp_path / "secrets.yaml") in caught.value.hint


def test_write_secrets_merges_and_is_private(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "var")
    write_secrets(settings, {"a": "sqlite:///a.db"})
    path = write_secrets(settings, {"b": "sqlite:///b.db"})
    assert path == secrets_path(settings)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert resolve_secret(settings, "a") == "sqlite:///a.db" and resolve_secret(settings, "b") == "sqlite:///b.db"


def test_malformed_secrets_file_is_a_clear_error(tmp_path: Path) -> None:
    (tmp_path / "secrets.yaml").write_text("- not\n- a mapping\n", "utf-8")
    with pytest.raises(InvalidInput, match="not a mapping"):
        resolve_secret(Settings(data_dir=tmp_path), "crm_db")
