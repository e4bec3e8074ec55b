"""Admin console page speed (issue 15): every console page's server time on the Keptek demo at 100,000 customers.

Builds a store the way `privet init --demo` does (SQLite store and SQLite demo datastores, `load_demo` with
`--customers`; 100,000 by default, 5,000 with `--quick`), adds what the demo alone does not hold — a few
data-subject requests filed by staff and verified (their jobs run to the end), an incident, the impact assessment
drafts — logs an admin in through the login form, and requests each console page N times in-process through
Starlette's TestClient (the whole ASGI stack: session guard, CSRF, templates). The time is the wall time of one
request inside this process, which is the server time (no network); the first request of each page is a warm-up
and not counted.

Per page it prints p50 and p95 in milliseconds, the ratio of the p95 to the floor measured in the same run (the
password page: the console's smallest page, the same layout, guard and session), and marks pages whose p95 is
over the 150 ms target. Beside the wall time it prints the CPU time the process spent per request (the app and
the test client; on a machine shared with other work this varies much less than the wall time). `--store DIR`
keeps the built store in DIR and reuses it on the next run (migrations are applied to it), so before/after
figures come from the same data. Ends with one line of JSON.
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import io
import json
import re
import sqlite3
import statistics
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SECRET = "bench-secret-key-0123456789abcdef0123456789"
OFFICER, PASSWORD = "bench-officer", "Correct-horse-battery-9"
HTML = {"Accept": "text/html"}
TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')
TARGET_MS = 150.0
FLOOR = "/admin/password"
REQUESTS = 12  # filed by staff, verified, run to the end


def say(text: str) -> None:
    print(text, flush=True)


def settings_for(folder: Path, **extra: object):
    from privet.settings import Settings

    return Settings(
        _env_file=None, data_dir=folder, secret_key=SECRET, examples_dir=ROOT / "examples", log_level="warning", **extra
    )


def build(folder: Path, customers: int) -> float:
    """A store with the Keptek demo at `customers`, an officer, requests, an incident and PIA drafts; seconds."""
    from privet.auth import service as auth
    from privet.db.migrate import upgrade
    from privet.db.store import open_engine, store_session
    from privet.demo.service import load_demo
    from privet.kit.clock import utcnow
    from privet.registers.incidents import record_incident
    from privet.reports.pia import sync_drafts

    started = time.perf_counter()
    settings = settings_for(folder, mail_sender="console", sms_sender="console")  # messages printed, then dropped
    engine = open_engine(settings)
    try:
        upgrade(engine, settings=settings)
        say(f"  loading the demo at {customers:,} customers ...")
        load_demo(settings, engine, "keptek", customers=customers)
        with store_session(settings, engine=engine) as session:
            auth.create_user(session, OFFICER, "admin", password=PASSWORD, actor="bench")
            record_incident(
                session,
                actor="bench",
                title="Bench incident: a lost laptop",
                severity="general",
                discovered_at=utcnow() - timedelta(hours=5),
                categories=["user.contact.phone"],
                subjects_affected=120,
                facts={
                    "what_happened": {
                        "en": "A laptop holding an export was lost (bench).",
                        "zh_CN": "一台存有导出数据的笔记本电脑丢失（基准测试）。",
                    }
                },
            )
            sync_drafts(session, actor="bench")
        _requests(settings, engine, folder)
    finally:
        engine.dispose()
    return time.perf_counter() - started


def _requests(settings, engine, folder: Path) -> None:
    """Access and erasure requests for demo customers, taken by staff, verified and run to the end."""
    from privet.db.engine import make_sessionmaker
    from privet.jobs import dispatch
    from privet.kit.crypto import Keyring

    crm = sqlite3.connect(folder / "demo" / "keptek" / "crm.sqlite")
    try:
        mobiles = [
            m
            for (m,) in crm.execute(
                "SELECT mobile FROM customers WHERE closed_at IS NULL ORDER BY id LIMIT ?", (REQUESTS,)
            )
        ]
    finally:
        crm.close()
    factory, keyring = make_sessionmaker(engine, settings), Keyring.from_settings(settings)
    dispatch.configure(settings)
    with contextlib.redirect_stdout(io.StringIO()):  # the console sender's messages
        _file_and_run(settings, factory, keyring, mobiles)


def _file_and_run(settings, factory, keyring, mobiles: list[str]) -> None:
    from privet.db.engine import begin_write, session_scope
    from privet.jobs.runner import run_until_idle
    from privet.requests.intake.service import file_request
    from privet.requests.intake.verify import record_identity_check

    for i, mobile in enumerate(mobiles):
        with session_scope(factory) as session:
            begin_write(session)
            request = file_request(
                session,
                keyring,
                settings,
                request_type="erasure" if i % 3 == 2 else "access",
                identity_type="phone",
                identity=mobile,
                filed_by="user:bench",
                channel="staff_email",
            )
            if i % 4 != 3:  # a quarter stay unverified
                record_identity_check(
                    session, keyring, settings, request, method="known_contact", note=None, actor="user:bench"
                )
    run_until_idle(factory, settings, keyring)


def _one(sql: str, folder: Path) -> str:
    conn = sqlite3.connect(folder / "privet.db")
    try:
        row = conn.execute(sql).fetchone()
    finally:
        conn.close()
    if row is None:
        raise SystemExit(f"the bench store lacks what a page needs: {sql}")
    return row[0]


def pages(folder: Path) -> dict[str, str]:
    """Page name → path: the menu pages, then one of each detail page."""
    from privet.web.admin.common import NAV

    out = {href: href for _key, href, _label, _scope in NAV}
    details = {
        "/admin/requests/{ref}": "/admin/requests/"
        + _one("SELECT reference FROM dsr_requests ORDER BY received_at", folder),
        "/admin/requests/backups": "/admin/requests/backups",
        "/admin/incidents/{ref}": f"/admin/incidents/{_one('SELECT reference FROM incidents', folder)}",
        "/admin/consent/receipts/{id}": "/admin/consent/receipts/"
        + _one("SELECT id FROM consent_records ORDER BY seq DESC", folder),
        "/admin/notices/{key}": f"/admin/notices/{_one('SELECT key FROM notices ORDER BY key', folder)}",
        "/admin/crossborder": "/admin/crossborder",
        "/admin/records/records-of-processing.html": "/admin/records/records-of-processing.html",
        "/admin/records/pia/{ref}": f"/admin/records/pia/{_one('SELECT reference FROM impact_assessments', folder)}",
        "/admin/datamap?q=phone": "/admin/datamap?q=phone",
        "/admin/audit?before=…": "/admin/audit?before=100",
    }
    return {**out, **details, FLOOR: FLOOR}


def _pct(values: list[float], q: int) -> float:
    """The q-th percentile (nearest rank), rounded to 0.1 ms."""
    ordered = sorted(values)
    return round(statistics.median(ordered) if q == 50 else ordered[max(0, -(-q * len(ordered) // 100) - 1)], 1)


def measure(folder: Path, rounds: int, only: list[str] | None = None) -> dict[str, dict]:
    """Each page `rounds` times (after one warm-up), in-process; name → figures in ms."""
    from fastapi.testclient import TestClient

    from privet.app import create_app
    from privet.db.store import open_engine

    settings = settings_for(folder)
    engine = open_engine(settings)
    app = create_app(settings, engine=engine)
    results: dict[str, dict] = {}
    gc.collect()
    gc.freeze()  # what building the store left in this process is not the server's to collect while measured
    try:
        with TestClient(app) as client:
            token = TOKEN.search(client.get("/admin/login", headers=HTML).text).group(1)
            answer = client.post(
                "/admin/login",
                data={"username": OFFICER, "password": PASSWORD, "csrf_token": token, "next": "/admin"},
                headers=HTML,
                follow_redirects=False,
            )
            if answer.status_code != 303:
                raise SystemExit(f"the officer could not log in ({answer.status_code})")
            for name, path in pages(folder).items():
                if only and name != FLOOR and not any(part in name for part in only):
                    continue
                first = client.get(path, headers=HTML)
                if first.status_code != 200:
                    raise SystemExit(f"{path} answered {first.status_code}")
                times, cpu = [], []
                for _ in range(rounds):
                    started, used = time.perf_counter(), time.process_time()
                    client.get(path, headers=HTML)
                    times.append((time.perf_counter() - started) * 1000)
                    cpu.append((time.process_time() - used) * 1000)
                results[name] = {
                    "p50": _pct(times, 50),
                    "p95": _pct(times, 95),
                    "cpu_p50": _pct(cpu, 50),
                    "cpu_p95": _pct(cpu, 95),
                    "kb": round(len(first.content) / 1024),
                }
    finally:
        engine.dispose()
    floor = results[FLOOR]["p95"] or 1.0
    for figures in results.values():
        figures["x_floor"] = round(figures["p95"] / floor, 1)
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="5,000 customers and 10 rounds per page.")
    parser.add_argument("--customers", type=int, help="Demo customers (default 100,000; 5,000 with --quick).")
    parser.add_argument("--rounds", type=int, help="Requests per page after the warm-up (default 30; 10 quick).")
    parser.add_argument(
        "--store",
        type=Path,
        help="Keep the built store in this folder and reuse it when it "
        "is already there (its customer count is what it was built with).",
    )
    parser.add_argument("--only", help="Comma-separated parts of page names: measure only those (and the floor).")
    args = parser.parse_args()
    customers = args.customers or (5_000 if args.quick else 100_000)
    rounds = args.rounds or (10 if args.quick else 30)
    with tempfile.TemporaryDirectory(prefix="privet-bench-pages-") as tmp:
        folder = args.store or Path(tmp)
        folder.mkdir(parents=True, exist_ok=True)
        result = {"bench": "pages", "customers": customers, "rounds": rounds, "measured": "in-process TestClient"}
        marker = folder / "bench-pages.json"  # written once a build finished: a half-built store is built again
        if marker.is_file():
            from privet.db.migrate import upgrade
            from privet.db.store import open_engine

            engine = open_engine(settings_for(folder))
            upgrade(engine, settings=settings_for(folder))
            engine.dispose()
            result["customers"] = json.loads(marker.read_text())["customers"]
            say(f"store: reusing {folder} ({result['customers']:,} customers)")
        else:
            for leftover in ("privet.db", "demo"):
                if (folder / leftover).exists() and args.store:
                    raise SystemExit(f"{folder} holds a half-built store: remove the folder and run again")
            say(f"store: SQLite in {folder}, Keptek demo at {customers:,} customers")
            result["build_s"] = round(build(folder, customers), 1)
            marker.write_text(json.dumps({"customers": customers}))
            say(f"  built in {result['build_s']} s")
        say(
            f"each page {rounds} times after a warm-up, in-process (TestClient: the server's time, no network); "
            f"floor {FLOOR}"
        )
        figures = measure(folder, rounds, [p for p in (args.only or "").split(",") if p])
        width = max(map(len, figures))
        say(
            f"{'page':<{width}}  {'p50 ms':>8}  {'p95 ms':>8}  {'x floor':>7}  {'cpu p50':>7}  {'cpu p95':>7}  "
            f"{'KB':>5}"
        )
        for name, f in figures.items():
            mark = "  OVER 150 ms" if f["p95"] > TARGET_MS else ""
            say(
                f"{name:<{width}}  {f['p50']:>8.1f}  {f['p95']:>8.1f}  {f['x_floor']:>7.1f}  {f['cpu_p50']:>7.1f}  "
                f"{f['cpu_p95']:>7.1f}  {f['kb']:>5}{mark}"
            )
        over = [name for name, f in figures.items() if f["p95"] > TARGET_MS]
        say(f"over {TARGET_MS:.0f} ms at p95: {', '.join(over) if over else 'none'}")
        result.update(pages=figures, over=over)
    print(json.dumps(result, ensure_ascii=False))


if __name__ == "__main__":
    sys.exit(main())
