"""Consent decisions and recording speed (issue 3): in-process, over HTTP (single and batch), recording, import.

Builds a store (SQLite by default, `--pg URL` for a PostgreSQL server: a fresh database is created and dropped)
with N subjects x 5 purposes by bulk inserts, then measures against floors taken in the same run: raw dict
lookups for the in-process Decider, and a bare route (`/healthz`) of the same server for HTTP. The HTTP load
comes from a small asyncio HTTP/1.1 keep-alive client (httpx would measure itself on 2 cores, not the server),
bounded in count and time, on loopback only. Prints figures, then one line of JSON.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
KEPTEK = ROOT / "examples" / "keptek" / "datamap"
PURPOSES = (
    "marketing.communications",
    "analytics.usage",
    "research.product_improvement",
    "marketing.surveys",
    "analytics.click_tracking",
)
EVENTS = ("given",) * 8 + ("withdrawn", "refused")
CHANNELS = ("email", "sms", "push")
SECRET = "bench-secret-key-0123456789abcdef0123456789"


def say(text: str) -> None:
    print(text, flush=True)


# ---- the store ------------------------------------------------------------------------------------------------
def make_store(pg: str | None, tmp: Path) -> tuple[str, callable]:
    """A fresh store URL and a function that removes it."""
    if not pg:
        return f"sqlite:///{tmp / 'bench.db'}", lambda: None
    import sqlalchemy as sa

    name = f"privet_bench_{os.getpid()}"
    admin = sa.create_engine(pg, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))

    def drop() -> None:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()

    return sa.engine.make_url(pg).set(database=name).render_as_string(hide_password=False), drop


def prepare(url: str) -> str:
    """Schema, the Keptek data map and an API key; returns the key."""
    from privet.auth.keys import create_api_key
    from privet.datamap.service import validate_and_apply
    from privet.db.engine import make_engine, make_sessionmaker, session_scope
    from privet.db.migrate import upgrade
    from privet.settings import Settings
    from privet.tables import metadata

    engine = make_engine(url)
    upgrade(engine)
    metadata.create_all(engine)  # tables of this issue until their migration exists (no-op afterwards)
    with session_scope(make_sessionmaker(engine, Settings(_env_file=None, secret_key=SECRET))) as session:
        validate_and_apply(session, KEPTEK, actor="bench")
        token = create_api_key(session, "bench", ["decide", "consent:write"], actor="bench")[1]
    engine.dispose()
    return token


def subject_ids(n: int) -> list[str]:
    return [f"0b{i:024x}" for i in range(n)]


def fill(url: str, n: int) -> float:
    """N subjects with 5 consent records each, and their projection rows, by bulk insert; returns seconds."""
    from privet.db.engine import make_engine

    started = time.perf_counter()
    engine = make_engine(url)
    sqlite = engine.dialect.name == "sqlite"
    # SQLite keeps SQLAlchemy's DATETIME text (UTC); PostgreSQL's COPY takes the objects
    when = (lambda d: d.isoformat(" ", "microseconds")[:26]) if sqlite else (lambda d: d)
    day = (lambda d: d.isoformat()) if sqlite else (lambda d: d)
    now = datetime.now(UTC).replace(microsecond=0)
    stamp, rng = when(now), random.Random()
    subjects, records, states, prefs = [], [], [], []
    seq = 0
    for i, sid in enumerate(subject_ids(n)):
        child = day(now.date() + timedelta(days=400)) if i % 50 == 0 else None  # 2% children
        subjects.append((sid, "active", child, child, stamp, stamp))
        if i % 10 == 3:  # 10% chose channels for marketing: e-mail off, SMS on (P44)
            prefs += [(sid, PURPOSES[0], "email", False, stamp), (sid, PURPOSES[0], "sms", True, stamp)]
        for purpose in PURPOSES:
            seq += 1
            at = now - timedelta(seconds=rng.randrange(365 * 86400))
            expires = when(at + timedelta(days=180)) if seq % 29 == 0 else None
            event, at = rng.choice(EVENTS), when(at)
            records.append(
                (
                    seq,
                    f"0c{seq:024x}",
                    sid,
                    purpose,
                    "[]",
                    "consent",
                    event,
                    at,
                    stamp,
                    expires,
                    "api",
                    "CN",
                    "{}",
                    "bench",
                )
            )
            states.append((f"s:{sid}", purpose, event, seq, "consent", "[]", at, expires))
    tables = {
        "subjects": ("id, status, child_until, minor_until, created_at, updated_at", subjects),
        "consent_records": (
            "seq, id, subject_id, purpose, categories, legal_basis, event, at, recorded_at, "
            "expires_at, method, jurisdiction, evidence, actor",
            records,
        ),
        "consent_state": ("holder, purpose, event, record_seq, legal_basis, categories, at, expires_at", states),
        "channel_preferences": ("subject_id, purpose, channel, opted_in, at", prefs),
    }
    raw = engine.raw_connection()
    try:
        cur = raw.cursor()
        if sqlite:
            cur.execute("BEGIN")  # Privet's engine runs pysqlite in autocommit mode and sends BEGIN itself
        for table, (cols, rows) in tables.items():
            if sqlite:
                cur.executemany(f"INSERT INTO {table} ({cols}) VALUES ({', '.join('?' * len(rows[0]))})", rows)
            else:
                with cur.copy(f"COPY {table} ({cols}) FROM STDIN") as copy:
                    for row in rows:
                        copy.write_row(row)
        if not sqlite:
            cur.execute("SELECT setval(pg_get_serial_sequence('consent_records', 'seq'), %s)", (seq,))
        raw.commit()
        if not sqlite:
            cur.execute("ANALYZE")
            raw.commit()
    finally:
        raw.close()
        engine.dispose()
    return time.perf_counter() - started


def rss_mb() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 1e6


# ---- in-process ----------------------------------------------------------------------------------------------
def in_process(url: str, n: int, samples: int) -> dict:
    """Decider load time and memory, decisions per second, against raw dict lookups of the same data."""
    from privet.consent.decisions.service import Decider
    from privet.db.engine import make_engine, make_sessionmaker

    engine = make_engine(url)
    before = rss_mb()
    started = time.perf_counter()
    with make_sessionmaker(engine)() as session:
        decider = Decider.load(session)
    load_s = time.perf_counter() - started
    memory = rss_mb() - before
    ids, rng = subject_ids(n), random.Random()
    pairs = [(ids[rng.randrange(n)], PURPOSES[rng.randrange(5)]) for _ in range(samples)]
    decide, allowed = decider.decide, 0
    started = time.perf_counter()
    for sid, purpose in pairs:
        allowed += decide(purpose, sid).allowed
    decide_s = time.perf_counter() - started
    slots, empty, hits = decider._slots, {}, 0  # the floor: the two dict lookups every decision needs
    started = time.perf_counter()
    for sid, purpose in pairs:
        hits += slots.get(sid, empty).get(purpose) is not None
    floor_s = time.perf_counter() - started
    channels, by_channel = [CHANNELS[i % 3] for i in range(samples)], 0
    started = time.perf_counter()
    for (sid, purpose), channel in zip(pairs, channels):
        by_channel += decide(purpose, sid, channel=channel).allowed
    channel_s = time.perf_counter() - started
    engine.dispose()
    rate, floor = samples / decide_s, samples / floor_s
    return {
        "load_s": round(load_s, 2),
        "memory_mb": round(memory),
        "decisions_per_s": round(rate),
        "floor_lookups_per_s": round(floor),
        "ratio_to_floor": round(floor / rate, 1),
        "allowed_share": round(allowed / samples, 3),
        "channel_decisions_per_s": round(samples / channel_s),
        "channel_allowed_share": round(by_channel / samples, 3),
    }


# ---- HTTP ----------------------------------------------------------------------------------------------------
def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def serve(url: str, workers: int, tmp: Path) -> tuple[subprocess.Popen, int]:
    """`privet serve` as a user runs it (uvicorn, N workers) on a free loopback port."""
    port = free_port()
    env = {
        **os.environ,
        "PRIVET_DATABASE_URL": url,
        "PRIVET_SECRET_KEY": SECRET,
        "PRIVET_DATA_DIR": str(tmp / "var"),
        "PRIVET_WORKERS": str(workers),
        "PRIVET_LOG_LEVEL": "warning",
        "PRIVET_HOST": "127.0.0.1",
        "PRIVET_PORT": str(port),
        "PRIVET_DB_POOL_SIZE": "4",
    }
    log = (tmp / "server.log").open("wb")  # a file, not a pipe: a full pipe would stall the workers
    proc = subprocess.Popen(
        [sys.executable, "-m", "privet.cli", "serve"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=log,
        start_new_session=True,
    )
    proc.log_path = tmp / "server.log"
    deadline = time.time() + 60
    while time.time() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5) as sock:
                sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: b\r\n\r\n")
                if sock.recv(100).startswith(b"HTTP/1.1 200"):
                    return proc, port
        except OSError:
            time.sleep(0.2)
    proc.kill()
    raise SystemExit("the server did not start: " + proc.log_path.read_text(errors="replace")[-2000:])


def request(method: str, path: str, token: str, body: object | None = None) -> bytes:
    data = json.dumps(body).encode() if body is not None else b""
    head = (
        f"{method} {path} HTTP/1.1\r\nHost: bench\r\nAuthorization: Bearer {token}\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(data)}\r\n\r\n"
    )
    return head.encode() + data


async def _client(port: int, requests: list[bytes], stop: float, limit: int, out: dict) -> None:
    i = random.randrange(len(requests))
    while time.perf_counter() < stop and out["n"] < limit:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        try:
            while time.perf_counter() < stop and out["n"] < limit:
                started = time.perf_counter()
                writer.write(requests[i % len(requests)])
                i += 1
                head = await reader.readuntil(b"\r\n\r\n")
                length = int(head.lower().split(b"content-length:")[1].split(b"\r\n")[0])
                await reader.readexactly(length)
                out["lat"].append(time.perf_counter() - started)
                out["n"] += 1
                out["bad"] += not head.startswith(out["ok"])
        except (OSError, asyncio.IncompleteReadError):  # the server dropped the connection: count it, reconnect
            out["n"] += 1
            out["bad"] += 1
        finally:
            writer.close()


def load(
    port: int, requests: list[bytes], *, clients: int, seconds: float, limit: int, ok: bytes = b"HTTP/1.1 2"
) -> dict:
    """Keep `clients` connections busy for `seconds` (or `limit` requests); throughput and latency."""
    try:
        import uvloop

        uvloop.install()
    except ImportError:
        pass
    out = {"n": 0, "bad": 0, "lat": [], "ok": ok}

    async def run() -> float:
        started = time.perf_counter()
        stop = started + seconds
        await asyncio.gather(*(_client(port, requests, stop, limit, out) for _ in range(clients)))
        return time.perf_counter() - started

    elapsed = asyncio.run(run())
    lat = sorted(out["lat"]) or [0.0]
    return {
        "requests": out["n"],
        "errors": out["bad"],
        "per_s": round(out["n"] / elapsed),
        "p50_ms": round(lat[len(lat) // 2] * 1000, 2),
        "p99_ms": round(lat[int(len(lat) * 0.99)] * 1000, 2),
        "mean_ms": round(statistics.fmean(lat) * 1000, 2),
    }


def http(url: str, n: int, token: str, tmp: Path, quick: bool, workers: int, parts: set[str]) -> dict:
    """Single and batch decisions, the bare-route floor, and single consent recordings, over loopback."""
    proc, port = serve(url, workers, tmp)
    ids, rng = subject_ids(n), random.Random()
    seconds, clients = (4.0, 16) if quick else (15.0, 16)
    out: dict = {}
    try:

        def single(k: int, channel: bool = False) -> list[bytes]:
            return [
                request(
                    "POST",
                    "/api/v1/decisions",
                    token,
                    {
                        "subject_id": ids[rng.randrange(n)],
                        "purpose": rng.choice(PURPOSES),
                        **({"channel": rng.choice(CHANNELS)} if channel else {}),
                    },
                )
                for _ in range(k)
            ]

        load(port, single(1), clients=1, seconds=300, limit=1)  # first use of the key: one write, not a race
        for _ in range(30):  # each worker loads its Decider on its first decision: wait until all answer fast
            warm = load(port, single(200), clients=8, seconds=600, limit=200)
            say(f"  warm-up: {warm['requests']} requests, p99 {warm['p99_ms']} ms, {warm['errors']} errors")
            if warm["p99_ms"] < 500:
                break
        say("  floor: GET /healthz")
        out["floor_healthz"] = floor = load(
            port, [request("GET", "/healthz", token)], clients=clients, seconds=seconds, limit=10**7
        )
        if "decisions" in parts:
            say("  floor: POST /decisions with an empty body (authentication, then 422)")
            auth = load(
                port,
                [request("POST", "/api/v1/decisions", token, {})],
                clients=clients,
                seconds=seconds,
                limit=10**7,
                ok=b"HTTP/1.1 422",
            )
            say("  POST /decisions")
            decisions = load(port, single(5000), clients=clients, seconds=seconds, limit=10**7)
            say("  POST /decisions with a channel")
            by_channel = load(port, single(5000, channel=True), clients=clients, seconds=seconds, limit=10**7)
            batches = [
                request(
                    "POST",
                    "/api/v1/decisions/batch",
                    token,
                    {
                        "items": [
                            {"subject_id": ids[rng.randrange(n)], "purpose": rng.choice(PURPOSES)} for _ in range(1000)
                        ]
                    },
                )
                for _ in range(20)
            ]
            say("  POST /decisions/batch")
            batch = load(port, batches, clients=4, seconds=seconds, limit=10**6)
            batch["decisions_per_s"] = batch["per_s"] * 1000
            per_s = max(decisions["per_s"], 1)
            out.update(
                {
                    "floor_auth_422": auth,
                    "decisions": decisions,
                    "decisions_channel": by_channel,
                    "batch": batch,
                    "ratio_healthz_to_decision": round(floor["per_s"] / per_s, 2),
                    "ratio_auth_floor_to_decision": round(auth["per_s"] / per_s, 2),
                }
            )
        if "recording" in parts:
            # Many services record at once in production; 16 clients like the decision figures. The 4-client
            # figure (what earlier runs reported) shows the cost per request when little can be grouped.
            say(f"  POST /consent/records ({clients} clients)")
            out["recording"] = record_http(port, token, ids, seconds, clients)
            say("  POST /consent/records (4 clients)")
            out["recording_4_clients"] = record_http(port, token, ids, seconds, 4)
            out["ratio_healthz_to_recording"] = round(floor["per_s"] / max(out["recording"].get("per_s", 0), 1), 2)
        return out
    except OSError:
        os.killpg(proc.pid, 15)
        say("the server failed: " + proc.log_path.read_text(errors="replace")[-3000:])
        raise
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, 15)
        proc.wait(timeout=30)


def record_http(port: int, token: str, ids: list[str], seconds: float, clients: int) -> dict:
    """Single consent recordings (POST /api/v1/consent/records); skipped when the route is not there."""
    rng, adults = random.Random(), [sid for i, sid in enumerate(ids[:200_000]) if i % 50]  # 2% are children
    bodies = [
        request(
            "POST",
            "/api/v1/consent/records",
            token,
            {
                "subject_id": rng.choice(adults),
                "purpose": rng.choice(PURPOSES),
                "event": rng.choice(("given", "withdrawn")),
                "method": "api",
            },
        )
        for _ in range(2000)
    ]
    probe = load(port, bodies[:1], clients=1, seconds=5, limit=1)
    if probe["errors"]:
        return {"skipped": "POST /api/v1/consent/records did not answer 2xx"}
    return load(port, bodies, clients=clients, seconds=seconds, limit=10**6)


def import_speed(url: str, rows: int, tmp: Path, subjects: int) -> dict:
    """`privet consent import` (its importer function) on a generated CSV of `rows` records."""
    try:
        from privet.consent.ledger.importer import import_records
    except ImportError:
        return {"skipped": "no importer"}
    from privet.db.engine import make_engine, make_sessionmaker, session_scope
    from privet.kit.crypto import Keyring
    from privet.settings import Settings

    path, rng = tmp / "import.csv", random.Random()
    now = datetime.now(UTC)
    with path.open("w") as f:
        f.write("identity_type,identity,purpose,event,at\n")
        for i in range(rows):  # reserved example.com addresses: no real person's data
            at = (now - timedelta(seconds=rng.randrange(86400 * 300))).isoformat()
            f.write(f"email,bench{i // 3}@example.com,{PURPOSES[i % 5]},{rng.choice(EVENTS)},{at}\n")
    engine = make_engine(url)
    started = time.perf_counter()
    settings = Settings(_env_file=None, secret_key=SECRET, data_dir=tmp / "var")
    with session_scope(make_sessionmaker(engine, settings)) as session:
        report = import_records(session, Keyring.from_settings(settings), path, actor="bench")
    elapsed = time.perf_counter() - started
    floor_s = insert_floor(engine, rows, subjects)
    engine.dispose()
    per_s = report.imported / elapsed
    return {
        "rows": rows,
        "imported": report.imported,
        "seconds": round(elapsed, 2),
        "per_s": round(per_s),
        "floor_insert_per_s": round(rows / floor_s),
        "ratio_to_floor": round(rows / floor_s / per_s, 2),
    }


def insert_floor(engine, rows: int, subjects: int) -> float:
    """Seconds to write `rows` ready ledger rows (existing subjects, values already converted) into the same
    table with the importer's own bulk writer (COPY / one executemany), rolled back: what the store itself costs,
    the floor under any import (which also reads, checks and resolves identities, and creates subjects)."""
    from privet.consent.ledger.bulk_insert import insert_tuples
    from privet.consent.ledger.import_rows import COLUMNS, new_ids
    from privet.consent.models import ConsentRecord
    from privet.db.engine import make_sessionmaker

    now, rng = datetime.now(UTC), random.Random()
    ids, evidence, empty = subject_ids(min(subjects, 200_000)), {"source": "import"}, []
    tuples = [
        (
            record_id,
            ids[rng.randrange(len(ids))],
            now - timedelta(seconds=rng.randrange(86400 * 300)),
            "main",
            None,
            PURPOSES[i % 5],
            empty,
            "consent",
            None,
            EVENTS[i % 10],
            None,
            None,
            "import",
            None,
            now,
            evidence,
            "bench",
        )
        for i, record_id in enumerate(new_ids(rows))
    ]
    assert len(tuples[0]) == len(COLUMNS)
    with make_sessionmaker(engine)() as session:
        started = time.perf_counter()
        for start in range(0, rows, 10_000):  # the importer's chunk size
            insert_tuples(session, ConsentRecord.__table__, COLUMNS, tuples[start : start + 10_000])
        session.flush()
        elapsed = time.perf_counter() - started
        session.rollback()
    return elapsed


PARTS = ("in_process", "decisions", "recording", "import")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="~50k subjects and short load runs (under a minute).")
    parser.add_argument("--subjects", type=int, help="Subjects in the store (default 1,000,000; quick 50,000).")
    parser.add_argument("--pg", help="PostgreSQL server URL; a fresh database is created there and dropped.")
    parser.add_argument("--workers", type=int, default=2, help="Uvicorn workers of the served app.")
    parser.add_argument("--skip-http", action="store_true", help="Only the in-process figures.")
    parser.add_argument(
        "--only", default=",".join(PARTS), help="Comma-separated parts to run: " + ", ".join(PARTS) + " (default: all)."
    )
    args = parser.parse_args()
    parts = {p.strip() for p in args.only.split(",") if p.strip()}
    if parts - set(PARTS):
        parser.error(f"unknown part(s) {', '.join(sorted(parts - set(PARTS)))}; use {', '.join(PARTS)}")
    if args.skip_http:
        parts -= {"decisions", "recording"}
    n = args.subjects or (50_000 if args.quick else 1_000_000)
    with tempfile.TemporaryDirectory(prefix="privet-bench-") as folder:
        tmp = Path(folder)
        url, drop = make_store(args.pg, tmp)
        try:
            store = "postgresql" if args.pg else "sqlite"
            say(f"store: {store}, {n:,} subjects x {len(PURPOSES)} purposes")
            token = prepare(url)
            fill_s = fill(url, n)
            say(f"  filled in {fill_s:.1f} s")
            result = {
                "bench": "consent",
                "store": store,
                "subjects": n,
                "records": n * len(PURPOSES),
                "fill_s": round(fill_s, 1),
            }
            if "in_process" in parts:
                result["in_process"] = in_process(url, n, 100_000 if args.quick else 500_000)
                say(f"in-process: {result['in_process']}")
            if parts & {"decisions", "recording"}:
                result["http"] = http(url, n, token, tmp, args.quick, args.workers, parts)
                for key, value in result["http"].items():
                    say(f"http {key}: {value}")
            if "import" in parts:
                result["import"] = import_speed(url, 30_000 if args.quick else 300_000, tmp, n)
                say(f"import: {result['import']}")
        finally:
            drop()
    print(json.dumps(result))


if __name__ == "__main__":
    main()
