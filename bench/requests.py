"""Data-subject request speed (issue 4): access and erasure against a raw-SQL floor, throughput, 50 in flight.

A fresh PostgreSQL database holds the schema the peer was measured on — customer(id, email, phone, name,
created_at) with address, orders and login_event referring to it; 100,000 customers, 200,000 addresses, 1,000,000
orders and 1,000,000 login events (generated in SQL: `user{n}@example.com`, fictional +1555 numbers) — declared
in `bench/requests_datamap.yaml`. Privet's own store is a second fresh database (or SQLite with `--store sqlite`).
Requests go through the functions a user's request goes through: `file_request`, a staff identity check
(`record_identity_check`), then the job runtime (inline threads or a real `privet jobs celery` worker on Redis)
until the package is stored; e-mails go to a local SMTP sink. Measured in the same run:

- the floor: one subject's rows by four hand-written indexed queries on one persistent connection;
- one access request, verified to package ready (median), and its ratio to the floor; one erasure (median);
- sustained access requests per second, inline and on Celery: ten people at once each filing, verifying and
  waiting for the package before the next request (the way the peer was measured with ten clients);
- 50 requests in flight: all complete, no errors, and the connections held (pg_stat_activity) stay bounded;
- the CPU the whole machine spent per sustained request (/proc/stat: Privet, Celery workers, PostgreSQL, Redis),
  which bounds the rate on 2 cores.

Privet's own retrieval of the same rows (the SQL connector's fetch, as a step runs it) is timed against the floor too.
Both databases are dropped at the end. Prints figures as it goes, then one line of JSON.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from privet.datamap.matching import index_statement

MANIFEST = Path(__file__).with_name("requests_datamap.yaml")
SECRET = "bench-secret-key-0123456789abcdef0123456789"
PER_CUSTOMER = {"address": 2, "orders": 10, "login_event": 10}  # the peer's proportions
FINISHED = ("completed", "completed_with_exceptions", "failed", "refused", "pending_approval", "waiting")
PEER = {
    "access_s": 1.0,
    "requests_per_s_10_clients": 1.2,
    "erasure_s": 2.0,
    "floor_ms": 1.9,
    "in_flight_completed_of_100": 0,
    "idle_connections_after": 97,
}
TARGETS = {"access_p50_ms": 50, "access_to_floor": 5, "requests_per_s": 100, "erasure_p50_ms": 100}


def say(text: str) -> None:
    print(text, flush=True)


def email_of(n: int) -> str:
    return f"user{n}@example.com"  # reserved domain: nobody's real address


def summary(seconds: list[float]) -> dict:
    ms = sorted(s * 1000 for s in seconds) or [0.0]
    return {
        "n": len(seconds),
        "p50_ms": round(statistics.median(ms), 2),
        "mean_ms": round(statistics.fmean(ms), 2),
        "p95_ms": round(ms[min(len(ms) - 1, int(len(ms) * 0.95))], 2),
        "min_ms": round(ms[0], 2),
    }


# ---- databases -----------------------------------------------------------------------------------------------
class Server:
    """A PostgreSQL server on which fresh databases are created (psycopg) and dropped."""

    def __init__(self, url: str) -> None:
        from sqlalchemy.engine import make_url

        self.url = make_url(url).set(drivername="postgresql+psycopg")
        self.created: list[str] = []

    def conninfo(self, database: str = "postgres") -> str:
        return self.url.set(database=database, drivername="postgresql").render_as_string(hide_password=False)

    def sqlalchemy(self, database: str) -> str:
        return self.url.set(database=database).render_as_string(hide_password=False)

    def create(self, name: str) -> str:
        import psycopg

        with psycopg.connect(self.conninfo(), autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        self.created.append(name)
        return name

    def drop_all(self) -> None:
        import psycopg

        with psycopg.connect(self.conninfo(), autocommit=True) as conn:
            for name in self.created:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        self.created.clear()


SHOP_SCHEMA = """
CREATE TABLE customer (id bigint PRIMARY KEY, email text NOT NULL, phone text, name text,
                       created_at timestamptz NOT NULL);
CREATE TABLE address (id bigint PRIMARY KEY, customer_id bigint NOT NULL, street text, city text, postcode text);
CREATE TABLE orders (id bigint PRIMARY KEY, customer_id bigint NOT NULL, ship_to text, amount numeric(10, 2),
                     created_at timestamptz NOT NULL);
CREATE TABLE login_event (id bigint PRIMARY KEY, customer_id bigint NOT NULL, ip text, at timestamptz NOT NULL);
"""
# the indexes `privet datamap evaluate` asks for: e-mails are matched case- and space-blind, phones by digits
MATCH_INDEXES = ";\n".join(
    index_statement(table, column, mode, "postgresql")
    for table, column, mode in (("customer", "email", "casefold"), ("customer", "phone", "phone"))
)
SHOP_ROWS = {  # {n}: customers; rows spread over customers round-robin, so a customer's rows sit on many pages
    "customer": "SELECT n, 'user' || n || '@example.com', '+1555' || lpad(n::text, 7, '0'), 'Customer ' || n, "
    "now() - (n % 1000) * interval '1 day' FROM generate_series(1, {n}) n",
    "address": "SELECT n, (n % {n}) + 1, n || ' Example Street', 'City ' || (n % 97), lpad((n % 99991)::text, 5, '0') "
    "FROM generate_series(1, {n} * 2) n",
    "orders": "SELECT n, (n % {n}) + 1, 'Customer ' || ((n % {n}) + 1), (n % 50000) / 100.0, "
    "now() - (n % 700) * interval '1 day' FROM generate_series(1, {n} * 10) n",
    "login_event": "SELECT n, (n % {n}) + 1, '10.' || (n >> 16 & 255) || '.' || (n >> 8 & 255) || '.' || (n & 255), "
    "now() - (n % 900) * interval '1 hour' FROM generate_series(1, {n} * 10) n",
}
SHOP_KEYS = """
CREATE UNIQUE INDEX customer_email ON customer (email);
CREATE INDEX customer_phone ON customer (phone);
{match_indexes};
CREATE INDEX address_customer ON address (customer_id);
CREATE INDEX orders_customer ON orders (customer_id);
CREATE INDEX login_event_customer ON login_event (customer_id);
ALTER TABLE address ADD FOREIGN KEY (customer_id) REFERENCES customer (id);
ALTER TABLE orders ADD FOREIGN KEY (customer_id) REFERENCES customer (id);
ALTER TABLE login_event ADD FOREIGN KEY (customer_id) REFERENCES customer (id);
"""


def fill_shop(conninfo: str, customers: int) -> float:
    """The company database: schema, generated rows (INSERT ... SELECT generate_series), indexes, keys; seconds."""
    import psycopg

    started = time.perf_counter()
    with psycopg.connect(conninfo) as conn:
        conn.execute(SHOP_SCHEMA)
        for table, rows in SHOP_ROWS.items():
            conn.execute(f"INSERT INTO {table} " + rows.format(n=customers))
        conn.execute(SHOP_KEYS.replace("{match_indexes}", MATCH_INDEXES))
        conn.commit()
        conn.autocommit = True
        conn.execute("VACUUM ANALYZE")
    return time.perf_counter() - started


FLOOR_QUERIES = (
    "SELECT id, email, phone, name, created_at FROM customer WHERE email = %s",
    "SELECT id, customer_id, street, city, postcode FROM address WHERE customer_id = %s",
    "SELECT id, customer_id, ship_to, amount, created_at FROM orders WHERE customer_id = %s",
    "SELECT id, customer_id, ip, at FROM login_event WHERE customer_id = %s",
)


def floor(conninfo: str, numbers: list[int]) -> tuple[list[float], int]:
    """Seconds per subject for the four indexed queries on one persistent connection; rows per subject."""
    import psycopg

    times, rows = [], 0
    with psycopg.connect(conninfo, autocommit=True) as conn:
        cur = conn.cursor()
        for n in numbers:
            started = time.perf_counter()
            cur.execute(FLOOR_QUERIES[0], (email_of(n),))
            found = cur.fetchall()
            for query in FLOOR_QUERIES[1:]:
                cur.execute(query, (found[0][0],))
                found += cur.fetchall()
            times.append(time.perf_counter() - started)
            rows = len(found)
    return times, rows


def connector_fetch(p: Privet, numbers: list[int]) -> tuple[list[float], int]:
    """Seconds per subject for Privet's own retrieval of the same rows: the SQL connector's fetch, as a request's
    step runs it (plan from the data map, a pooled connection, the walk along the keys); rows per subject."""
    from privet.connectors.registry import open_connector
    from privet.requests.execution.plans import plan_for

    with p.factory() as session:
        plan = plan_for(session, p.settings, "shop_db")
    times, rows = [], 0
    for n in numbers:
        started = time.perf_counter()
        with open_connector(plan, p.settings) as connector:
            result = connector.fetch({"email": [email_of(n)]})
        times.append(time.perf_counter() - started)
        rows = sum(len(r) for r in result.rows.values())
    return times, rows


def connections(conninfo: str, databases: tuple[str, ...]) -> dict[str, int]:
    """Connections per database (and state) right now, from pg_stat_activity."""
    import psycopg

    with psycopg.connect(conninfo, autocommit=True) as conn:
        return _count(conn, databases)


def _count(conn, databases: tuple[str, ...]) -> dict[str, int]:
    out = {f"{d}:{s}": 0 for d in ("shop", "store") for s in ("active", "idle")}
    names = dict(zip(databases, ("shop", "store")))
    for datname, state, count in conn.execute(
        "SELECT datname, state, count(*) FROM pg_stat_activity WHERE datname = ANY(%s) GROUP BY 1, 2",
        (list(databases),),
    ):
        key = f"{names[datname]}:{'idle' if state == 'idle' else 'active'}"
        out[key] = out.get(key, 0) + count
    return out


class Sampler(threading.Thread):
    """Polls pg_stat_activity every few milliseconds; keeps the peak connections per database."""

    def __init__(self, conninfo: str, databases: tuple[str, ...]) -> None:
        super().__init__(daemon=True, name="bench-sampler")
        self.conninfo, self.databases, self.stopping = conninfo, databases, threading.Event()
        self.peak = {"shop": 0, "store": 0, "total": 0}

    def run(self) -> None:
        import psycopg

        with psycopg.connect(self.conninfo, autocommit=True) as conn:
            while not self.stopping.wait(0.01):
                now = _count(conn, self.databases)
                shop, store = now["shop:active"] + now["shop:idle"], now["store:active"] + now["store:idle"]
                self.peak = {
                    "shop": max(self.peak["shop"], shop),
                    "store": max(self.peak["store"], store),
                    "total": max(self.peak["total"], shop + store),
                }

    def stop(self) -> dict:
        self.stopping.set()
        self.join(5)
        return self.peak


# ---- Privet ----------------------------------------------------------------------------------------------------
@dataclass
class Privet:
    """Privet's runtime as `privet serve` builds it: settings, the store's engine and sessions, the keyring."""

    settings: object
    engine: object
    factory: object
    keyring: object


def open_privet(store_url: str, shop_url: str, tmp: Path, smtp_port: int, threads: int) -> Privet:
    """The store migrated, the bench data map applied, and the runtime on it."""
    from sqlalchemy import select

    from privet.datamap.service import validate_and_apply
    from privet.db.engine import make_sessionmaker, session_scope
    from privet.db.migrate import upgrade
    from privet.db.store import open_engine
    from privet.jobs import dispatch
    from privet.kit.crypto import Keyring
    from privet.settings import Settings
    from privet.tables import metadata

    settings = Settings(
        _env_file=None,
        database_url=store_url,
        secret_key=SECRET,
        data_dir=tmp / "var",
        secrets={"bench_shop": shop_url},
        smtp_host="127.0.0.1",
        smtp_port=smtp_port,
        mail_sender="smtp",
        mail_from="privacy@shop.example",
        jobs_threads=threads,
        public_url="https://privacy.shop.example",
        log_level="warning",
    )
    engine = open_engine(settings)
    upgrade(engine)
    metadata.create_all(engine)  # tables of this issue until their migration exists (no-op afterwards)
    factory = make_sessionmaker(engine, settings)
    with session_scope(factory) as session:
        validate_and_apply(session, MANIFEST, actor="bench")
    with session_scope(factory) as session:  # the applied map must name the datastore the bench fills
        from privet.datamap.models import DatamapDatastore

        assert session.execute(select(DatamapDatastore.key)).scalars().all() == ["shop_db"]
    dispatch.configure(settings)
    return Privet(settings, engine, factory, Keyring.from_settings(settings))


def file_one(p: Privet, n: int, request_type: str) -> str:
    """File a request for customer n's e-mail address, as staff taking it by e-mail would; its id."""
    from privet.db.engine import begin_write, session_scope
    from privet.requests.intake.service import file_request

    with session_scope(p.factory) as session:
        begin_write(session)  # as the API's DB dependency does for writes (SQLite: wait for the write lock)
        return file_request(
            session,
            p.keyring,
            p.settings,
            request_type=request_type,
            identity_type="email",
            identity=email_of(n),
            filed_by="user:bench",
            channel="staff_email",
        ).id


def verify_one(p: Privet, request_id: str) -> None:
    """A staff member's recorded identity check: the request is verified and its work queued (committed)."""
    from privet.db.engine import begin_write, session_scope
    from privet.requests.intake.verify import record_identity_check
    from privet.requests.models import DsrRequest

    with session_scope(p.factory) as session:
        begin_write(session)
        record_identity_check(
            session,
            p.keyring,
            p.settings,
            session.get(DsrRequest, request_id),
            method="known_contact",
            note=None,
            actor="user:bench",
        )


def status_of(p: Privet, request_id: str) -> str:
    from sqlalchemy import select

    from privet.requests.models import DsrRequest

    with p.factory() as session:
        return session.execute(select(DsrRequest.status).where(DsrRequest.id == request_id)).scalar_one()


def drain(p: Privet) -> int:
    from privet.jobs.service import run_until_idle

    return run_until_idle(p.factory, p.settings, p.keyring)


def one_request(
    p: Privet, n: int, request_type: str, counter: Counter | None = None
) -> tuple[float, list[float], float]:
    """Seconds from the verification call until the request is completed (an access request: its package stored),
    the parts (the verification call, then each job run in order until then) and the CPU seconds of that window."""
    from privet.jobs.service import run_one

    request_id = file_one(p, n, request_type)
    drain(p)  # the "received" e-mail belongs to filing, which happens before verification
    if counter is not None:
        counter.on = True
    cpu, started = time.process_time(), time.perf_counter()
    verify_one(p, request_id)
    parts = [time.perf_counter() - started]
    while status_of(p, request_id) not in FINISHED:
        begun = time.perf_counter()
        if not run_one(p.factory, p.settings, p.keyring):
            raise SystemExit(f"request {request_id} stopped at {status_of(p, request_id)} with no job left")
        parts.append(time.perf_counter() - begun)
    elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
    if counter is not None:
        counter.on = False
    if status_of(p, request_id) != "completed":
        raise SystemExit(f"a {request_type} request ended {status_of(p, request_id)}")
    drain(p)  # the e-mails that follow (package link, erasure record), after the moment measured
    return elapsed, parts, cpu


class Counter:
    """SQL statements, commits and rollbacks per engine while `on` (what one request costs in round trips)."""

    def __init__(self, **engines: object) -> None:
        from sqlalchemy import event

        self.on, self.counts = (
            False,
            {f"{name}:{what}": 0 for name in engines for what in ("statements", "commits", "rollbacks")},
        )
        for name, engine in engines.items():
            for what, hook in (
                ("statements", "after_cursor_execute"),
                ("commits", "commit"),
                ("rollbacks", "rollback"),
            ):
                event.listen(engine, hook, self._bump(f"{name}:{what}"))

    def _bump(self, key: str):
        def bump(*_args: object, **_kw: object) -> None:
            if self.on:
                self.counts[key] += 1

        return bump

    def per(self, n: int) -> dict:
        return {k: round(v / max(n, 1), 1) for k, v in self.counts.items()}


def timed(p: Privet, numbers: list[int], request_type: str, counter: Counter) -> dict:
    """Sequential requests: latency summary, the parts' medians, CPU and SQL round trips per request."""
    counter.counts = dict.fromkeys(counter.counts, 0)
    runs = [one_request(p, n, request_type, counter) for n in numbers]
    out = summary([total for total, _, _ in runs])
    out["cpu_ms_per_request"] = round(statistics.fmean(cpu for _, _, cpu in runs) * 1000, 1)
    width = max(len(parts) for _, parts, _ in runs)
    names = ["verify_call"] + [f"job{i}" for i in range(1, width)]
    out["parts_p50_ms"] = {
        name: round(statistics.median(parts[i] for _, parts, _ in runs if len(parts) > i) * 1000, 2)
        for i, name in enumerate(names)
    }
    out["per_request"] = counter.per(len(numbers))  # includes the bench's status polls (one per job)
    return out


def commit_floor(url: str, samples: int) -> dict:
    """One durable write transaction (INSERT + COMMIT) on the store's server: what every commit costs here."""
    import psycopg

    times = []
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("CREATE TABLE bench_commit (n int)")
        for n in range(samples):
            started = time.perf_counter()
            conn.execute("INSERT INTO bench_commit VALUES (%s)", (n,))
            times.append(time.perf_counter() - started)
        conn.execute("DROP TABLE bench_commit")
    return summary(times)


def profile(p: Privet, numbers: list[int], top: int) -> None:
    """cProfile (CPU time: on a shared machine wall time mostly measures waiting for a core) of access requests
    from verification to package ready: where the time goes."""
    import cProfile
    import pstats

    profiler = cProfile.Profile(time.process_time)
    for n in numbers:
        request_id = file_one(p, n, "access")
        drain(p)
        profiler.enable()
        verify_one(p, request_id)
        drain(p)
        profiler.disable()
    stats = pstats.Stats(profiler)
    say(f"CPU profile of {len(numbers)} access requests, verified to package ready (top {top} by own time):")
    stats.sort_stats("tottime").print_stats(top)
    say(f"(top {top} Privet functions by cumulative time):")
    stats.sort_stats("cumulative").print_stats(r"privet/", top)


def _finished_rows(p: Privet, ids: list[str]) -> list:
    from sqlalchemy import select

    from privet.requests.models import DsrRequest

    out = []
    with p.factory() as session:
        for start in range(0, len(ids), 500):
            out += session.execute(
                select(DsrRequest.status, DsrRequest.verified_at, DsrRequest.completed_at).where(
                    DsrRequest.id.in_(ids[start : start + 500])
                )
            ).all()
    return out


def _job_trouble(p: Privet, since: datetime) -> tuple[int, int]:
    """Jobs created since `since` that needed more than one attempt, and jobs that failed for good."""
    from sqlalchemy import func, select

    from privet.jobs.models import Job

    with p.factory() as session:
        recent = select(Job).where(Job.created_at >= since).subquery()
        retried = session.execute(select(func.count()).select_from(recent).where(recent.c.attempts > 1)).scalar()
        failed = session.execute(select(func.count()).select_from(recent).where(recent.c.status == "failed")).scalar()
    return int(retried or 0), int(failed or 0)


def _utc(moment: datetime | None) -> datetime | None:
    return moment.replace(tzinfo=UTC) if moment is not None and moment.tzinfo is None else moment


class Watcher(threading.Thread):
    """One thread polls the store for the requests clients wait on (so ten waiting clients cost one query)."""

    def __init__(self, p: Privet) -> None:
        super().__init__(daemon=True, name="bench-watcher")
        self.p, self.waiting, self.lock, self.stopping = p, {}, threading.Lock(), threading.Event()

    def wait(self, request_id: str, timeout: float) -> bool:
        event = threading.Event()
        with self.lock:
            self.waiting[request_id] = event
        return event.wait(timeout)

    def run(self) -> None:
        while not self.stopping.wait(0.01):
            with self.lock:
                ids = list(self.waiting)
            if not ids:
                continue
            for row_id, status in _statuses(self.p, ids):
                if status in FINISHED:
                    with self.lock:
                        self.waiting.pop(row_id).set()


def _statuses(p: Privet, ids: list[str]) -> list[tuple[str, str]]:
    from sqlalchemy import select

    from privet.requests.models import DsrRequest

    with p.factory() as session:
        return [
            tuple(r) for r in session.execute(select(DsrRequest.id, DsrRequest.status).where(DsrRequest.id.in_(ids)))
        ]


def machine_busy() -> float:
    """CPU seconds spent so far by everything on this machine (all cores; /proc/stat): Privet's processes, the
    Celery workers, PostgreSQL, Redis and the SMTP sink alike."""
    fields = [int(x) for x in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)  # idle + iowait
    return (sum(fields[:8]) - idle) / os.sysconf("SC_CLK_TCK")


def postgres_busy() -> float:
    """CPU seconds spent so far by the PostgreSQL server's processes (/proc/<pid>/stat of every `postgres`)."""
    total = 0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            text = stat.read_text()
        except OSError:  # the process ended meanwhile
            continue
        name, rest = text[text.index("(") + 1 : text.rindex(")")], text[text.rindex(")") + 2 :].split()
        if name == "postgres":
            total += int(rest[11]) + int(rest[12])  # utime + stime (fields 14 and 15)
    return total / os.sysconf("SC_CLK_TCK")


def sustained(p: Privet, numbers: list[int], clients: int, seconds: float, timeout: float = 300) -> dict:
    """`clients` people at once, each filing an access request, verifying it and waiting for the package before
    the next one, for `seconds` (at most `len(numbers)` requests) while the configured job backend runs the jobs.
    Completed requests per second from the first filing to the last completion."""
    pending, ids, errors, lock = list(numbers), [], [], threading.Lock()
    stop = time.perf_counter() + seconds
    watcher = Watcher(p)
    watcher.start()

    def client() -> None:
        while time.perf_counter() < stop:
            with lock:
                if not pending:
                    return
                n = pending.pop()
            try:
                request_id = file_one(p, n, "access")
                verify_one(p, request_id)
                with lock:
                    ids.append(request_id)
            except Exception as exc:  # noqa: BLE001 - counted and shown, the run goes on
                cause = getattr(exc, "orig", None) or exc  # driver messages hold no values (hidden parameters)
                with lock:
                    errors.append(f"{type(exc).__name__}: {str(cause).splitlines()[0][:80]}")
                continue
            if not watcher.wait(request_id, timeout):
                return  # stuck: counted as unfinished below

    start_wall, cpu, busy, pg = datetime.now(UTC), time.process_time(), machine_busy(), postgres_busy()
    threads = [threading.Thread(target=client, name=f"bench-client-{i}") for i in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    watcher.stopping.set()
    cpu, busy, pg = time.process_time() - cpu, machine_busy() - busy, postgres_busy() - pg
    rows = _finished_rows(p, ids)
    done = [r for r in rows if r.status == "completed"]
    last = max((_utc(r.completed_at) for r in done), default=start_wall)
    elapsed = max((last - start_wall).total_seconds(), 1e-6)
    latency = [(_utc(r.completed_at) - _utc(r.verified_at)).total_seconds() for r in done]
    statuses: dict[str, int] = {}
    for r in rows:
        statuses[r.status] = statuses.get(r.status, 0) + 1
    unfinished = sum(1 for r in rows if r.status not in FINISHED)
    retried, failed_jobs = _job_trouble(p, start_wall)
    return {
        "filed": len(ids),
        "completed": len(done),
        "unfinished": unfinished,
        "errors": len(errors) + len(rows) - len(done) - unfinished,
        "error_kinds": sorted(set(errors)),
        "statuses": statuses,
        "clients": clients,
        "seconds": round(elapsed, 2),
        "per_s": round(len(done) / elapsed, 1),
        "jobs_retried": retried,
        "jobs_failed": failed_jobs,
        "bench_process_cpu_ms_per_request": round(cpu * 1000 / max(len(done), 1), 1),
        "machine_cpu_ms_per_request": round(busy * 1000 / max(len(done), 1), 1),
        "postgres_cpu_ms_per_request": round(pg * 1000 / max(len(done), 1), 1),
        "machine_cores_busy": round(busy / elapsed, 2),
        "verified_to_ready": summary(latency),
    }


@contextmanager
def inline_workers(p: Privet, threads: int):
    """The in-process backend: `threads` job worker threads, as inside `privet serve`."""
    from privet.jobs.inline import InlineWorkers

    workers = InlineWorkers(p.factory, p.settings, p.keyring, threads, schedule=False).start()
    try:
        yield workers
    finally:
        workers.stop(timeout=60)


def in_flight(p: Privet, numbers: list[int], server: Server, databases: tuple[str, ...], label: str) -> dict:
    """`len(numbers)` requests filed and verified at the same instant; connections sampled throughout."""
    sampler = Sampler(server.conninfo(), databases)
    sampler.start()
    result = sustained(p, numbers, clients=len(numbers), seconds=600, timeout=300)
    peak = sampler.stop()
    time.sleep(1.0)
    after = connections(server.conninfo(), databases)
    result.update(peak_connections=peak, connections_after=after)
    say(
        f"  {label}: {result['completed']}/{result['filed']} completed, {result['errors']} errors, "
        f"{result['seconds']} s; peak connections shop {peak['shop']}, store {peak['store']}; afterwards shop "
        f"{after['shop:idle']} idle + {after['shop:active']} active, store {after['store:idle']} idle + "
        f"{after['store:active']} active"
    )
    return result


# ---- Celery ----------------------------------------------------------------------------------------------------
SINK = """
import sys, time
from aiosmtpd.controller import Controller
class Sink:
    async def handle_DATA(self, server, session, envelope):
        return "250 Message accepted"
controller = Controller(Sink(), hostname="127.0.0.1", port=int(sys.argv[1]))
controller.start()
print("ready", flush=True)
sys.stdin.read()  # until the bench closes the pipe
controller.stop()
"""


class SmtpSink:
    """A local SMTP server that accepts every message (the package links go there), in a process of its own so
    that receiving mail costs the measured process nothing, as with a real mail server."""

    def __init__(self) -> None:
        import socket

        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            self.port = sock.getsockname()[1]
        self.proc = subprocess.Popen(
            [sys.executable, "-c", SINK, str(self.port)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
        )
        if self.proc.stdout.readline().strip() != "ready":
            raise SystemExit("the SMTP sink did not start")

    def stop(self) -> None:
        self.proc.stdin.close()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()


def smtp_sink() -> tuple[SmtpSink, int]:
    """The sink and its port."""
    sink = SmtpSink()
    return sink, sink.port


def start_celery(p: Privet, broker: str, concurrency: int, tmp: Path) -> subprocess.Popen:
    """`privet jobs celery` as a user runs it, in its own process group, configured by PRIVET_* variables."""
    s = p.settings
    env = {k: v for k, v in os.environ.items() if not k.startswith("PRIVET_")}
    env.update(
        {
            "PRIVET_DATABASE_URL": s.database_url,
            "PRIVET_SECRET_KEY": SECRET,
            "PRIVET_DATA_DIR": str(s.data_dir),
            "PRIVET_SECRETS": json.dumps(s.secrets),
            "PRIVET_JOBS_BACKEND": "celery",
            "PRIVET_JOBS_BROKER_URL": broker,
            "PRIVET_SMTP_HOST": s.smtp_host,
            "PRIVET_SMTP_PORT": str(s.smtp_port),
            "PRIVET_MAIL_SENDER": "smtp",
            "PRIVET_MAIL_FROM": s.mail_from,
            "PRIVET_PUBLIC_URL": s.public_url,
            "PRIVET_LOG_LEVEL": "warning",
        }
    )
    privet = Path(sys.executable).with_name("privet")
    with (tmp / "celery.log").open("wb") as log:  # a file, not a pipe: a full pipe would stall the worker
        proc = subprocess.Popen(
            [str(privet), "jobs", "celery", f"--concurrency={concurrency}", "--pool=prefork", "--loglevel=warning"],
            env=env,
            cwd=tmp,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    proc.log_path = tmp / "celery.log"
    return proc


def stop_process(proc: subprocess.Popen) -> None:
    """SIGTERM to the worker (a warm shutdown: jobs in flight finish), then its process group if it hangs."""
    import signal

    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(60)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(10)


def celery_run(
    p: Privet,
    broker: str,
    concurrency: int,
    tmp: Path,
    numbers: list[int],
    clients: int,
    seconds: float,
    server: Server,
    databases: tuple[str, ...],
) -> dict:
    """The same sustained load with a real Celery worker on the broker; then 50 in flight."""
    import redis

    from privet.jobs import dispatch

    redis.Redis.from_url(broker).delete("privet")  # a queue left by an earlier, killed run
    celery_settings = p.settings.model_copy(update={"jobs_backend": "celery", "jobs_broker_url": broker})
    cp = Privet(celery_settings, p.engine, p.factory, p.keyring)
    previous = dispatch.configure(celery_settings)
    proc = start_celery(p, broker, concurrency, tmp)
    try:
        warm = sustained(cp, numbers[:8], clients=2, seconds=120, timeout=120)  # start-up, first connections
        if warm["completed"] < 8:
            raise SystemExit(
                "the Celery worker did not finish the warm-up requests: "
                + proc.log_path.read_text(errors="replace")[-3000:]
            )
        say(f"  warm-up: {warm['completed']} requests in {warm['seconds']} s")
        out = {"concurrency": concurrency, "sustained": sustained(cp, numbers[8:-50], clients, seconds)}
        say(f"  sustained: {out['sustained']}")
        out["in_flight_50"] = in_flight(cp, numbers[-50:], server, databases, "50 in flight (celery)")
        return out
    finally:
        stop_process(proc)
        dispatch.configure(previous)


# ---- the run ---------------------------------------------------------------------------------------------------
def measure(args: argparse.Namespace, server: Server, shop: str, tmp: Path, smtp_port: int, result: dict) -> Privet:
    """Every figure, into `result`; returns the runtime so the caller can close it."""
    customers = result["customers"]
    samples, seconds = (20, 15.0) if args.quick else (100, 60.0)
    spare = (customers - 8 * samples - args.profile) // 2 - 150
    load = max(60, min(int(seconds * TARGETS["requests_per_s"] * 1.5), spare))  # the time bounds the runs
    say(
        f"company database: {customers:,} customers, "
        + ", ".join(f"{customers * k:,} {t}" for t, k in PER_CUSTOMER.items())
    )
    result["fill_s"] = round(fill_shop(server.conninfo(shop), customers), 1)
    say(f"  filled in {result['fill_s']} s")
    if args.store == "postgresql":
        store = server.create(f"privet_bench_store_{os.getpid()}")
        store_url, databases = server.sqlalchemy(store), (shop, store)
    else:
        store_url, databases = f"sqlite:///{tmp / 'privet.db'}", (shop, "-")
    p = open_privet(store_url, server.sqlalchemy(shop), tmp, smtp_port, args.threads)
    take = iter(
        random.Random(4).sample(range(1, customers + 1), min(customers, samples * 8 + load * 2 + args.profile + 200))
    )

    def pick(k: int) -> list[int]:
        return [next(take) for _ in range(k)]

    for n in pick(5):  # first use: reflection of the shop, plan cache, engines, SMTP connection
        one_request(p, n, "access")
        one_request(p, pick(1)[0], "erasure")
    from privet.connectors.sql.engines import engine_for

    counter = Counter(store=p.engine, shop=engine_for(server.sqlalchemy(shop)))
    floor_times, floor_rows = floor(server.conninfo(shop), pick(samples * 3))
    result["floor"] = {**summary(floor_times), "rows_per_subject": floor_rows}
    say(f"floor (4 indexed queries, one connection): {result['floor']}")
    fetch_times, fetch_rows = connector_fetch(p, pick(samples * 3))
    result["connector_fetch"] = {**summary(fetch_times), "rows_per_subject": fetch_rows}
    result["connector_fetch"]["ratio_to_floor"] = round(
        result["connector_fetch"]["p50_ms"] / result["floor"]["p50_ms"], 1
    )
    say(f"Privet's retrieval of the same rows (SQL connector fetch): {result['connector_fetch']}")
    if args.store == "postgresql":
        result["commit_floor"] = commit_floor(server.conninfo(store), samples * 3)
        say(f"one durable commit (INSERT + COMMIT) on the store's server: {result['commit_floor']}")
    access = timed(p, pick(samples), "access", counter)
    access["ratio_to_floor"] = round(access["p50_ms"] / result["floor"]["p50_ms"], 1)
    result["access"] = access
    say(f"access, verified to package ready: {access}")
    result["erasure"] = timed(p, pick(samples), "erasure", counter)
    say(f"erasure, verified to completed: {result['erasure']}")
    if args.profile:
        profile(p, pick(args.profile), 30)
    if args.skip_load:
        return p
    say(f"inline backend: {args.threads} job threads, {args.clients} clients filing, verifying and waiting")
    with inline_workers(p, args.threads):
        result["inline"] = {"threads": args.threads, "sustained": sustained(p, pick(load), args.clients, seconds)}
        say(f"  sustained: {result['inline']['sustained']}")
        result["inline"]["in_flight_50"] = in_flight(p, pick(50), server, databases, "50 in flight (inline)")
    if not args.skip_celery:
        say(f"celery backend: `privet jobs celery --concurrency={args.concurrency}` on {args.redis}")
        result["celery"] = celery_run(
            p, args.redis, args.concurrency, tmp, pick(load + 58), args.clients, seconds, server, databases
        )
    return p


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="10,000 customers and short runs.")
    parser.add_argument("--customers", type=int, help="Customers (default 100,000; quick 10,000).")
    parser.add_argument(
        "--pg",
        default="postgresql://postgres@127.0.0.1:5432",
        help="PostgreSQL server; fresh databases are created there and dropped.",
    )
    parser.add_argument(
        "--store",
        choices=("postgresql", "sqlite"),
        default="postgresql",
        help="Privet's own store: a second fresh PostgreSQL database, or a SQLite file.",
    )
    parser.add_argument(
        "--redis",
        default="redis://127.0.0.1:6379/11",
        help="Celery broker (a Redis database the bench may empty of its `privet` queue).",
    )
    parser.add_argument("--threads", type=int, default=4, help="Inline job worker threads.")
    parser.add_argument("--clients", type=int, default=10, help="People filing, verifying and waiting at once.")
    parser.add_argument("--concurrency", type=int, default=4, help="Celery worker processes.")
    parser.add_argument("--skip-celery", action="store_true", help="Leave out the Celery figures.")
    parser.add_argument("--skip-load", action="store_true", help="Only the one-at-a-time figures (and --profile).")
    parser.add_argument(
        "--profile",
        type=int,
        default=0,
        metavar="N",
        help="Profile N access requests with cProfile and print the top costs.",
    )
    args = parser.parse_args()
    customers = args.customers or (10_000 if args.quick else 100_000)
    server, tmp = Server(args.pg), Path(tempfile.mkdtemp(prefix="privet-bench-"))
    smtp, smtp_port = smtp_sink()
    result: dict = {
        "bench": "requests",
        "store": args.store,
        "customers": customers,
        "rows": {"customer": customers, **{t: customers * k for t, k in PER_CUSTOMER.items()}},
    }
    p: Privet | None = None
    try:
        shop = server.create(f"privet_bench_shop_{os.getpid()}")
        p = measure(args, server, shop, tmp, smtp_port, result)
        result["max_connections"] = connections_limit(server)
    finally:
        from privet.connectors.sql.engines import dispose_all

        dispose_all()
        if p is not None:
            p.engine.dispose()
        server.drop_all()
        smtp.stop()
        shutil.rmtree(tmp, ignore_errors=True)
    result.update(targets=TARGETS, peer=PEER)
    print(json.dumps(result))


def connections_limit(server: Server) -> int:
    """PostgreSQL's max_connections (default 100): the limit the in-flight test must stay well under."""
    import psycopg

    with psycopg.connect(server.conninfo(), autocommit=True) as conn:
        return int(conn.execute("SHOW max_connections").fetchone()[0])


if __name__ == "__main__":
    main()
