"""Fixtures: the awkward shop database on SQLite, PostgreSQL and MariaDB, a migrated SQLite store wired into
PRIVET_*, the shop's data map applied, and a stand-in classifier while the real one is still a stub."""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from stdnum.cn import ric

from privet.datamap.discover import classify
from privet.datamap.discover.classify import ColumnVerdict, Recognizer
from tests.connectors.conftest import KINDS, new_database
from tests.datamap.discover import shapes

_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(\.[\w-]+)+")
_MOBILE = re.compile(r"1[3-9]\d{9}")


def _standin(values, *, name="", sql_type="", custom=()):
    """Enough of a classifier for the scanning tests (whole values, text mentions, JSON keys)."""
    texts = [v if isinstance(v, str) else json.dumps(v, ensure_ascii=False) for v in values]
    n = len(texts)
    if not n:
        return ColumnVerdict(None, 0.0, 0.0, 0)
    checks = [(r.category, r.matches) for r in custom] + [
        ("user.contact.email", lambda v: bool(_EMAIL.fullmatch(v))),
        ("user.contact.phone", lambda v: bool(_MOBILE.fullmatch(v))),
        ("user.government_id.national_id", ric.is_valid),
    ]
    for category, test in checks:
        share = sum(bool(test(t)) for t in texts) / n
        if share >= 0.8:
            return ColumnVerdict(category, share, 0.95, n, {}, {})
    keys = {
        f"{k}": "user.contact.email"
        for v in values
        if isinstance(v, dict)
        for k, x in v.items()
        if isinstance(x, str) and _EMAIL.fullmatch(x)
    }
    embedded = {
        c: s
        for c, s in (
            ("user.contact.email", sum(bool(_EMAIL.search(t)) for t in texts) / n),
            ("user.contact.phone", sum(bool(_MOBILE.search(t)) for t in texts) / n),
        )
        if s
    }
    return ColumnVerdict(None, 0.0, 0.9, n, embedded, keys)


def _custom(name: str, category: str, pattern: str, validator: str | None = None) -> Recognizer:
    if validator is not None and validator not in classify.VALIDATORS:
        raise ValueError(f"unknown validator {validator}")
    return Recognizer(category, name, re.compile(pattern))


@pytest.fixture(autouse=True)
def classifier(monkeypatch: pytest.MonkeyPatch) -> None:
    """The real classifier once it is implemented; until then a stand-in (the interface is the same)."""
    if classify.classify_column(["someone@example.com"] * 5).category is None:
        monkeypatch.setattr("privet.datamap.discover.scan.classify_column", _standin)
    try:
        classify.custom_recognizer("x", "user.name", "x")
    except NotImplementedError:
        monkeypatch.setattr(classify, "custom_recognizer", _custom)
        monkeypatch.setattr(classify, "VALIDATORS", {"luhn": lambda v: True})


@pytest.fixture(params=KINDS)
def shop(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[str, str, shapes.Truth]]:
    """(kind, URL, truth) of the awkward shop database."""
    url, drop = new_database(request.param, tmp_path)
    truth = shapes.create(url)
    yield request.param, url, truth
    drop()


@pytest.fixture
def store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, sqlite_migrated_template: Path) -> Iterator[str]:
    """A migrated SQLite store in PRIVET_DATABASE_URL (a copy of the session's template)."""
    from privet.settings import get_settings

    shutil.copyfile(sqlite_migrated_template, tmp_path / "privet.db")
    url = f"sqlite:///{tmp_path / 'privet.db'}"
    monkeypatch.setenv("PRIVET_DATABASE_URL", url)
    monkeypatch.setenv("PRIVET_DATA_DIR", str(tmp_path / "var"))
    monkeypatch.setenv("PRIVET_SECRET_KEY", "test-secret-key-0123456789abcdef")
    get_settings.cache_clear()
    yield url
    get_settings.cache_clear()


def kind_of(url: str) -> str:
    return sa.engine.make_url(url).get_backend_name().replace("mariadb", "mysql")
