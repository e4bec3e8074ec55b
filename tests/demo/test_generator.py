"""The demo generator: deterministic, foreign keys three levels deep, on SQLite, PostgreSQL and MariaDB."""

from __future__ import annotations

import sqlite3
from datetime import date
from pathlib import Path

import pytest
import sqlalchemy as sa

from privet.demo.fakes import ANCHOR
from privet.demo.generator import companies, fill, generate
from privet.kit.errors import InvalidInput, Unavailable
from tests.support.services import create_mysql_database, create_pg_database

COMPANIES = ["keptek", "zkteco"]


def _sqlite(tmp: Path, name: str) -> str:
    return f"sqlite:///{tmp / name}"


def _dump(path: Path) -> tuple[list[str], list[str]]:
    """The rows as SQL INSERT statements in order, and the schema statements (index order is not fixed)."""
    with sqlite3.connect(path) as conn:
        lines = list(conn.iterdump())
    return [x for x in lines if x.startswith("INSERT")], sorted(x for x in lines if not x.startswith("INSERT"))


def _fk_depth(engine: sa.Engine) -> int:
    """Longest chain of foreign keys (table → parent → grandparent …) in the reflected database."""
    md = sa.MetaData()
    md.reflect(engine)
    parents = {t.name: {fk.column.table.name for fk in t.foreign_keys} - {t.name} for t in md.tables.values()}

    def depth(name: str) -> int:
        return max((1 + depth(p) for p in parents[name]), default=0)

    return max(depth(name) for name in parents)


@pytest.mark.parametrize("company", COMPANIES)
def test_same_seed_gives_identical_data_and_another_seed_differs(company: str, tmp_path: Path) -> None:
    counts = [
        generate(company, _sqlite(tmp_path, f"{n}.sqlite"), customers=25, seed=seed)
        for n, seed in (("a", 7), ("b", 7), ("c", 8))
    ]
    assert counts[0] == counts[1] and sum(counts[0].values()) > 100
    a, b, c = (_dump(tmp_path / f"{n}.sqlite") for n in "abc")
    assert a == b
    assert a[0] != c[0] and a[1] == c[1]


@pytest.mark.parametrize("company", COMPANIES)
def test_foreign_keys_are_at_least_three_levels_deep(company: str, tmp_path: Path) -> None:
    url = _sqlite(tmp_path, "all.sqlite")
    generate(company, url, customers=10)
    engine = sa.create_engine(url)
    try:
        assert _fk_depth(engine) >= 3
    finally:
        engine.dispose()


def test_one_file_per_datastore_and_rows_line_up_across_them(tmp_path: Path) -> None:
    stores = companies()["keptek"].datastores()
    urls = {key: _sqlite(tmp_path, f"{key}.sqlite") for key in stores}
    generate("keptek", urls, customers=30)
    crm, devices = (sa.create_engine(urls[k]) for k in ("crm", "devices"))
    with crm.connect() as c, devices.connect() as d:
        customer_ids = set(c.execute(sa.text("SELECT id FROM customers")).scalars())
        owners = set(d.execute(sa.text("SELECT customer_id FROM devices")).scalars())
        crm_tables = set(sa.inspect(c).get_table_names())
    crm.dispose(), devices.dispose()
    assert owners and owners <= customer_ids  # the device cloud points at real CRM customers
    assert "devices" not in crm_tables  # each datastore holds only its own tables


def test_second_run_keeps_data_and_reset_regenerates(tmp_path: Path) -> None:
    url = _sqlite(tmp_path, "z.sqlite")
    first = fill("zkteco", url, customers=12, seed=1)
    again = fill("zkteco", url, customers=50, seed=2)  # populated: left alone whatever is asked
    assert again.created == [] and again.counts == first.counts
    reset = fill("zkteco", url, customers=50, seed=2, reset=True)
    assert sorted(reset.created) == sorted(first.created)
    assert sum(reset.counts.values()) > sum(first.counts.values())


def test_demo_populations_include_minors() -> None:
    """Keptek has children under 14 (guardian flow); ZKTeco has under-18s (the adults-only sweep)."""
    from privet.demo.fakes import Fakes

    def ages(rows: list[dict]) -> list[int]:
        today = ANCHOR.date()
        return [
            today.year
            - r["birth_date"].year
            - ((today.month, today.day) < (r["birth_date"].month, r["birth_date"].day))
            for r in rows
            if isinstance(r["birth_date"], date)
        ]

    keptek = companies()["keptek"].build(Fakes(42), 200)
    zkteco = companies()["zkteco"].build(Fakes(42), 200)
    assert any(a < 14 for a in ages(keptek["customers"]))
    assert any(
        r["guardian_consent_at"] is None and a < 14
        for r, a in zip(keptek["customers"], ages(keptek["customers"]), strict=True)
    )
    assert any(a < 18 for a in ages(zkteco["accounts"] + zkteco["eu_accounts"]))


def test_unknown_company_names_the_valid_ones(tmp_path: Path) -> None:
    with pytest.raises(InvalidInput) as err:
        generate("acme", _sqlite(tmp_path, "x.sqlite"))
    assert "keptek" in err.value.render() and "zkteco" in err.value.render()
    assert not (tmp_path / "x.sqlite").exists()


def test_bad_arguments_are_clear_errors(tmp_path: Path) -> None:
    with pytest.raises(InvalidInput, match="customers"):
        generate("keptek", _sqlite(tmp_path, "x.sqlite"), customers=0)
    with pytest.raises(InvalidInput, match="No URL for datastore"):
        generate("keptek", {"crm": _sqlite(tmp_path, "crm.sqlite")})
    with pytest.raises(InvalidInput):
        generate("keptek", "not a url")
    with pytest.raises(Unavailable) as err:
        generate("keptek", "postgresql+psycopg://nobody:secret-pw@127.0.0.1:1/none", customers=2)
    assert "secret-pw" not in err.value.render()  # credentials never appear in messages


def _check_server(url: str, company: str) -> None:
    counts = generate(company, url, customers=8)
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            for table, n in counts.items():
                assert conn.execute(sa.text(f"SELECT count(*) FROM {table}")).scalar_one() == n
        assert _fk_depth(engine) >= 3
        assert generate(company, url, customers=8) == counts  # idempotent on a server too
        first = next(iter(companies()[company].datastores().values())).sorted_tables[0]
        with engine.begin() as conn:  # explicit ids must not break later inserts (PostgreSQL sequences)
            row = {c.name: "x" for c in first.c if not c.nullable and not c.primary_key}
            conn.execute(first.insert().values(**{k: _value(first.c[k]) for k in row}))
    finally:
        engine.dispose()


def _value(column: sa.Column) -> object:
    if isinstance(column.type, sa.DateTime):
        return ANCHOR
    if isinstance(column.type, sa.Integer | sa.Numeric):
        return 1
    return "demo-check"


@pytest.mark.parametrize("company", COMPANIES)
def test_generates_on_postgresql(company: str) -> None:
    url, drop = create_pg_database()
    try:
        _check_server(url, company)
    finally:
        drop()


@pytest.mark.parametrize("company", COMPANIES)
def test_generates_on_mariadb(company: str) -> None:
    url, drop = create_mysql_database()
    try:
        _check_server(url, company)
    finally:
        drop()


def test_example_script_generates_without_privet_commands(tmp_path: Path) -> None:
    import subprocess
    import sys

    from privet.settings import REPO_ROOT

    script = REPO_ROOT / "examples" / "zkteco" / "generate.py"
    url = _sqlite(tmp_path, "z.sqlite")
    done = subprocess.run(
        [sys.executable, str(script), "--url", url, "--customers", "5", "--seed", "3"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "total" in done.stdout and (tmp_path / "z.sqlite").exists()
    bad = subprocess.run(
        [sys.executable, str(script), "--url", "nonsense"], capture_output=True, text=True, timeout=120, check=False
    )
    assert bad.returncode == 2 and "not valid" in bad.stderr and "Traceback" not in bad.stderr
