"""Retention sweep speed (issue 6): Privet's batched, resumable run against one raw DELETE, on PostgreSQL.

A fresh PostgreSQL database gets two identical tables, `events_raw` and `events_swept` (id, customer, e-mail of
the reserved example.com domain, a timestamp with an index), half of whose rows are older than the rule's
cut-off. The floor: one `DELETE FROM events_raw WHERE at < cutoff` in one transaction. Privet: `privet retention
run` (the service function it calls) on `events_swept`, with the rule in an applied data map, in batches that
each commit and checkpoint (so a kill resumes). Both are timed in the same run; the figures and their ratio
are printed, then one line of JSON. The database is dropped at the end.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

SECRET = "bench-secret-key-0123456789abcdef0123456789"
TARGETS = {"rows_per_s": 50_000, "ratio_to_raw_delete": 2.0}
DATAMAP = """\
organisation: {{key: bench, name: Bench Co, profile: pipl, region: CN, responsible: {{name: Privacy Office}}}}
systems: [{{key: app, name: App}}]
datastores: [{{key: app_db, system: app, kind: postgresql, region: CN, secret: app_db}}]
datasets:
  - key: app
    datastore: app_db
    tables:
      - name: events_swept
        primary_key: [id]
        retention: {{trigger: collection, column: at, duration: P90D, action: delete}}
        fields:
          - {{name: id}}
          - {{name: customer_id}}
          - {{name: email, category: user.contact.email, identity: email}}
          - {{name: at}}
"""


def say(text: str) -> None:
    print(text, flush=True)


def fill(url: str, rows: int) -> None:
    """Both tables, identical: every other row is 400 days old (expired), the rest 10 days old."""
    import sqlalchemy as sa

    engine = sa.create_engine(url)
    with engine.begin() as conn:
        for name in ("events_raw", "events_swept"):
            conn.execute(
                sa.text(
                    f"CREATE TABLE {name} (id bigint PRIMARY KEY, customer_id int, email text, at timestamp NOT NULL)"
                )
            )
            conn.execute(
                sa.text(
                    f"INSERT INTO {name} SELECT g, g % 100000, 'user' || (g % 100000) || '@example.com', "
                    "now() - CASE WHEN g % 2 = 0 THEN interval '400 days' ELSE interval '10 days' END "
                    "FROM generate_series(1, :n) g"
                ),
                {"n": rows},
            )
            conn.execute(sa.text(f"CREATE INDEX ix_{name}_at ON {name} (at)"))
            conn.execute(sa.text(f"ANALYZE {name}"))
    engine.dispose()


def raw_delete(url: str) -> tuple[int, float]:
    import sqlalchemy as sa

    engine = sa.create_engine(url)
    started = time.perf_counter()
    with engine.begin() as conn:
        deleted = conn.execute(sa.text("DELETE FROM events_raw WHERE at < now() - interval '90 days'")).rowcount
    elapsed = time.perf_counter() - started
    engine.dispose()
    return deleted, elapsed


def privet_run(url: str, tmp: Path, batch: int) -> tuple[int, float, dict]:
    from privet.datamap.service import validate_and_apply
    from privet.db import migrate
    from privet.db.engine import make_engine, make_sessionmaker, session_scope
    from privet.kit.crypto import Keyring
    from privet.retention import service
    from privet.settings import Settings

    settings = Settings(secret_key=SECRET, data_dir=tmp / "var", secrets={"app_db": url})
    (tmp / "var").mkdir(exist_ok=True)
    store = make_engine(f"sqlite:///{tmp / 'var' / 'privet.db'}")
    migrate.upgrade(store)
    path = tmp / "datamap.yaml"
    path.write_text(DATAMAP.format(), encoding="utf-8")
    factory = make_sessionmaker(store, settings)
    with session_scope(factory) as session:
        validate_and_apply(session, path, actor="bench")
    keyring = Keyring.from_settings(settings)
    with session_scope(factory) as session:
        planned = service.plan(session, settings, keyring)[0]
    started = time.perf_counter()
    done = service.run(factory, settings, keyring, actor="bench", batch=batch)
    elapsed = time.perf_counter() - started
    store.dispose()
    state = done.progress["app_db.events_swept"]
    assert done.status == "done", done.error
    assert state["deleted"] == planned["would_sweep"], "the run swept a different number of rows than planned"
    return state["deleted"], elapsed, planned


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="200,000 rows instead of 2,000,000 (under a minute).")
    parser.add_argument("--rows", type=int, help="Rows per table (half of them expired).")
    parser.add_argument("--batch", type=int, default=service_default_batch(), help="Rows per batch of the run.")
    parser.add_argument(
        "--pg",
        default="postgresql+psycopg://postgres@127.0.0.1:5432/postgres",
        help="PostgreSQL server URL; a fresh database is created there and dropped.",
    )
    args = parser.parse_args()
    rows = args.rows or (200_000 if args.quick else 2_000_000)
    import secrets

    import sqlalchemy as sa

    admin = sa.create_engine(args.pg, isolation_level="AUTOCOMMIT")
    name = f"privet_bench_{secrets.token_hex(4)}"
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    url = sa.engine.make_url(args.pg).set(database=name).render_as_string(hide_password=False)
    try:
        say(f"PostgreSQL, {rows:,} rows per table, half expired; batch {args.batch:,}")
        started = time.perf_counter()
        fill(url, rows)
        say(f"  filled in {time.perf_counter() - started:.1f} s")
        raw_rows, raw_s = raw_delete(url)
        say(f"  raw DELETE: {raw_rows:,} rows in {raw_s:.2f} s = {raw_rows / raw_s:,.0f} rows/s")
        with tempfile.TemporaryDirectory(prefix="privet-bench-") as folder:
            swept, run_s, _planned = privet_run(url, Path(folder), args.batch)
        say(f"  privet retention run: {swept:,} rows in {run_s:.2f} s = {swept / run_s:,.0f} rows/s")
        ratio = run_s / raw_s
        say(f"  ratio to the raw DELETE: {ratio:.2f} (target ≤ {TARGETS['ratio_to_raw_delete']})")
        result = {
            "bench": "retention",
            "store": "postgresql",
            "rows": rows,
            "expired": raw_rows,
            "batch": args.batch,
            "raw_delete": {"seconds": round(raw_s, 3), "rows_per_s": round(raw_rows / raw_s)},
            "privet": {"seconds": round(run_s, 3), "rows_per_s": round(swept / run_s)},
            "ratio_to_raw_delete": round(ratio, 2),
            "targets": TARGETS,
            "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
        }
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
    print(json.dumps(result))


def service_default_batch() -> int:
    from privet.retention.service import DEFAULT_BATCH

    return DEFAULT_BATCH


if __name__ == "__main__":
    main()
