"""Sampling reads only the sample, spread over the table, read-only and bounded, on SQLite, PostgreSQL and MariaDB;
what cannot be read is named with the reason."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Result

from privet.datamap.discover.connect import open_readonly
from privet.datamap.discover.sample import TableSkipped, sample_table
from privet.datamap.discover.scan import scan
from privet.datamap.scaffold.reflect import reflect
from tests.connectors.conftest import KINDS, new_database

BIG = 300_000
SAMPLE = 200


def _fill(url: str, kind: str) -> None:
    """`keyed` (integer key), `loose` (no key) and `pair` (composite text key), BIG rows each, filled server-side."""
    engine = sa.create_engine(url)
    source = {
        "sqlite": f"WITH RECURSIVE s(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM s WHERE n < {BIG}) SELECT {{}} FROM s",
        "postgresql": f"SELECT {{}} FROM generate_series(1, {BIG}) AS g(n)",
        "mysql": f"SELECT {{}} FROM (SELECT seq AS n FROM seq_1_to_{BIG}) AS g",
    }[kind]
    code = (
        "'c' || substr('0000000' || n, -7, 7), 1, n"
        if kind == "sqlite"  # zero-padded: key order is n's order
        else "concat('c', lpad(n, 7, '0')), 1, n"
        if kind == "mysql"
        else "'c' || lpad(n::text, 7, '0'), 1, n"
    )
    with engine.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE keyed (id INTEGER PRIMARY KEY, n INTEGER)")
        conn.exec_driver_sql("CREATE TABLE loose (n INTEGER, label VARCHAR(20))")
        conn.exec_driver_sql("CREATE TABLE pair (code VARCHAR(20), part INTEGER, n INTEGER, PRIMARY KEY (code, part))")
        conn.exec_driver_sql("INSERT INTO keyed (id, n) " + source.format("n, n"))
        conn.exec_driver_sql("INSERT INTO loose (n, label) " + source.format("n, 'x'"))
        conn.exec_driver_sql("INSERT INTO pair (code, part, n) " + source.format(code))
        if kind == "postgresql":
            conn.exec_driver_sql("ANALYZE keyed; ANALYZE loose; ANALYZE pair")
        if kind == "mysql":
            conn.exec_driver_sql("ANALYZE TABLE keyed, loose, pair")
    engine.dispose()


@pytest.fixture(params=KINDS)
def big(request: pytest.FixtureRequest, tmp_path: Path):
    url, drop = new_database(request.param, tmp_path)
    _fill(url, request.param)
    yield request.param, url
    drop()


def test_sampling_fetches_only_the_sample_spread_over_the_table(big, monkeypatch: pytest.MonkeyPatch) -> None:
    kind, url = big
    fetched = []
    real_all = Result.all
    monkeypatch.setattr(Result, "all", lambda self: fetched.append(len(rows := real_all(self))) or rows)
    engine = open_readonly(url, 30)
    dialect = "mariadb" if kind == "mysql" else kind
    with engine.connect() as conn:
        tables = {t.name: t for t in reflect(conn, dialect, None, None)}
        for name in ("keyed", "loose", "pair"):
            fetched.clear()
            got = sample_table(conn, dialect, None, tables[name], SAMPLE)
            conn.rollback()
            assert got.fetched == len(got.values["n"]) <= SAMPLE and got.fetched >= SAMPLE * 0.9, name
            assert sum(fetched) <= SAMPLE + 16, (name, sum(fetched))  # rows that crossed the wire: the sample
            numbers = sorted(int(v) for v in got.values["n"])
            assert numbers[0] < BIG * 0.1 and numbers[-1] > BIG * 0.8, name  # spread, not the first rows
            assert len(set(numbers)) == len(numbers)
    engine.dispose()


def test_the_method_fits_the_table(big) -> None:
    kind, url = big
    result = scan(url, sample=SAMPLE, timeout=30)
    methods = {t["name"]: t["method"] for t in result.tables}
    assert methods["keyed"] == "key ranges"
    assert methods["loose"] == methods["pair"] == ("page ranges" if kind == "postgresql" else "offsets")
    assert all(t["rows_sampled"] <= SAMPLE for t in result.tables)


def test_sqlite_is_opened_read_only_and_a_slow_statement_is_cut(tmp_path: Path) -> None:
    path = tmp_path / "db.sqlite"
    engine = sa.create_engine(f"sqlite:///{path}")
    with engine.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE t (id INTEGER PRIMARY KEY, x TEXT)")
        conn.exec_driver_sql("INSERT INTO t (x) VALUES ('a')")
    engine.dispose()
    ro = open_readonly(f"sqlite:///{path}", 0.2)
    with ro.connect() as conn:
        with pytest.raises(sa.exc.OperationalError, match=r"readonly|read-only"):
            conn.exec_driver_sql("DELETE FROM t")
        conn.rollback()
        slow = "WITH RECURSIVE s(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM s) SELECT count(*) FROM s"
        with pytest.raises(sa.exc.OperationalError, match="interrupted"):
            conn.exec_driver_sql(slow)
    ro.dispose()
    with pytest.raises(Exception, match="No SQLite database file"):
        open_readonly(f"sqlite:///{tmp_path / 'missing.sqlite'}", 1)
    assert not (tmp_path / "missing.sqlite").exists()


def test_invalid_json_documents_are_left_out_and_named(tmp_path: Path) -> None:
    path = tmp_path / "db.sqlite"
    engine = sa.create_engine(f"sqlite:///{path}")
    with engine.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE docs (id INTEGER PRIMARY KEY, some JSON, broken JSON, raw BLOB)")
        conn.execute(
            sa.text("INSERT INTO docs (some, broken, raw) VALUES (:s, :b, :r)"),
            [{"s": '{"k": 1}' if i % 2 else "{oops", "b": "not json", "r": b"\xff\xfe\x00"} for i in range(40)],
        )
    engine.dispose()
    ro = open_readonly(f"sqlite:///{path}", 5)
    with ro.connect() as conn:
        table = reflect(conn, "sqlite", None, None)[0]
        got = sample_table(conn, "sqlite", None, table, 100)
    ro.dispose()
    assert got.invalid_json == {"some": 20, "broken": 40} and len(got.values["some"]) == 20
    assert got.skipped["broken"] == "none of the 40 sampled JSON documents is valid JSON"
    assert got.skipped["raw"] == "binary data"
    result = scan(f"sqlite:///{path}", sample=100, timeout=5)
    columns = {c["name"]: c for c in result.tables[0]["columns"]}
    assert columns["some"]["invalid_json"] == 20 and "not valid JSON" in columns["some"]["note"]
    assert "skipped" in columns["broken"] and columns["raw"]["skipped"] == "binary data"


def test_an_empty_table_is_skipped(tmp_path: Path) -> None:
    path = tmp_path / "db.sqlite"
    engine = sa.create_engine(f"sqlite:///{path}")
    with engine.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE vacant (code TEXT)")
    engine.dispose()
    ro = open_readonly(f"sqlite:///{path}", 5)
    with ro.connect() as conn, pytest.raises(TableSkipped, match="no rows"):
        sample_table(conn, "sqlite", None, reflect(conn, "sqlite", None, None)[0], 10)
    ro.dispose()
