"""A real `privet serve` (uvicorn) on a fresh PostgreSQL store, mixed load over loopback, and faults to inject:
every Privet connection terminated (`pg_terminate_backend`), the server or one of its workers killed (SIGKILL).

Shared by tests/test_resilience.py and bench/faults.py. The load is bounded in count and time and only ever
goes to 127.0.0.1.
"""

from __future__ import annotations

import http.client
import json
import os
import random
import secrets
import signal
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import sqlalchemy as sa

from privet.kit.clock import utcnow

ROOT = Path(__file__).resolve().parents[2]
PG_ADMIN_URL = os.environ.get("PRIVET_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
SECRET = "faults-secret-key-0123456789abcdef0123"
PURPOSES = ("marketing.communications", "analytics.usage", "research.product_improvement")
SCOPES = ["decide", "consent:write", "consent:read", "requests:write", "requests:read"]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def children_of(pid: int) -> list[int]:
    """Process ids whose parent is `pid` (uvicorn's worker processes)."""
    out = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                out.append(int(entry.name))
    return out


class Served:
    """A fresh PostgreSQL store with the Keptek demo (data map, demo datastores), an API key, and `privet serve`."""

    def __init__(
        self, tmp: Path, *, workers: int = 1, jobs_threads: int = 2, admin_url: str = PG_ADMIN_URL, **env: str
    ) -> None:
        self.tmp, self.workers, self.admin_url = tmp, workers, admin_url
        self.name = f"privet_faults_{secrets.token_hex(4)}"
        self.admin = sa.create_engine(admin_url, isolation_level="AUTOCOMMIT")
        with self.admin.connect() as conn:
            conn.execute(sa.text(f'CREATE DATABASE "{self.name}"'))
        self.url = sa.engine.make_url(admin_url).set(database=self.name).render_as_string(hide_password=False)
        self.port = free_port()
        self.env = {
            **{k: v for k, v in os.environ.items() if not k.startswith("PRIVET_")},
            "PRIVET_DATABASE_URL": self.url,
            "PRIVET_SECRET_KEY": SECRET,
            "PRIVET_DATA_DIR": str(tmp / "var"),
            "PRIVET_WORKERS": str(workers),
            "PRIVET_LOG_LEVEL": "warning",
            "PRIVET_HOST": "127.0.0.1",
            "PRIVET_PORT": str(self.port),
            "PRIVET_DB_POOL_SIZE": "6",
            "PRIVET_JOBS_THREADS": str(jobs_threads),
            "PRIVET_MAIL_SENDER": "console",
            "PRIVET_SMS_SENDER": "console",
            "PRIVET_JOBS_LEASE_SECONDS": "5",
            "PRIVET_JOBS_RETRY_SECONDS": "0.5",
            "PRIVET_PUBLIC_RATE_LIMIT_PER_MINUTE": "100000",
            **env,
        }
        self.proc: subprocess.Popen | None = None
        self.token = self._prepare()

    def _prepare(self) -> str:
        """`privet init --demo` as an operator runs it, then an API key for the load."""
        done = subprocess.run(
            [sys.executable, "-m", "privet.cli", "init", "--demo"],
            env=self.env,
            cwd=self.tmp,
            capture_output=True,
            text=True,
            timeout=300,
        )
        if done.returncode != 0:
            raise RuntimeError(f"privet init --demo failed:\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}")
        scopes = [arg for scope in SCOPES for arg in ("--scope", scope)]
        made = subprocess.run(
            [sys.executable, "-m", "privet.cli", "apikeys", "create", "faults", *scopes],
            env=self.env,
            cwd=self.tmp,
            capture_output=True,
            text=True,
            timeout=120,
        )
        token = next((word for word in made.stdout.split() if word.startswith("pvt_")), None)
        if made.returncode != 0 or token is None:
            raise RuntimeError(f"privet apikeys create failed:\n{made.stdout[-2000:]}\n{made.stderr[-2000:]}")
        return token

    # ---- the server -------------------------------------------------------------------------------------------
    def start(self, *, wrapper: list[str] | None = None, timeout: float = 60) -> None:
        """Start `privet serve` (or `wrapper + ["serve"]`) and wait until /healthz answers."""
        log = (self.tmp / "server.log").open("ab")  # warnings and errors; the console senders print to stdout
        command = wrapper or [sys.executable, "-m", "privet.cli"]
        self.proc = subprocess.Popen(
            [*command, "serve"],
            env=self.env,
            cwd=self.tmp,
            stdout=subprocess.DEVNULL,
            stderr=log,
            start_new_session=True,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"the server exited ({self.proc.returncode}):\n{self.log_tail()}")
            try:
                if self.call("GET", "/healthz", auth=False)[0] == 200:
                    return
            except OSError:
                pass
            time.sleep(0.1)
        raise RuntimeError(f"the server did not start:\n{self.log_tail()}")

    def wait_ready(self, timeout: float = 60) -> dict:
        """Wait until /readyz answers 200 in every worker (decision caches loaded); its body."""
        deadline, streak, body = time.monotonic() + timeout, 0, {}
        while time.monotonic() < deadline:
            status, body = self.call("GET", "/readyz", auth=False)
            streak = streak + 1 if status == 200 else 0
            if streak >= 4 * self.workers:
                return body
            time.sleep(0.05)
        raise RuntimeError(f"not ready: {body}\n{self.log_tail()}")

    def kill(self) -> None:
        """SIGKILL the server and its workers: no clean-up, like a power cut."""
        if self.proc is not None:
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            self.proc.wait(10)

    def kill_one_worker(self) -> int:
        """SIGKILL one uvicorn worker process (the server runs with workers > 1 and starts another)."""
        workers = children_of(self.proc.pid)
        victim = max(workers)  # never the supervisor itself; any worker will do
        os.kill(victim, signal.SIGKILL)
        return victim

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.kill()

    def log_tail(self, chars: int = 3000) -> str:
        path = self.tmp / "server.log"
        return path.read_text(errors="replace")[-chars:] if path.exists() else ""

    def close(self) -> None:
        self.kill()
        with self.admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)'))
        self.admin.dispose()

    # ---- faults -----------------------------------------------------------------------------------------------
    def terminate_connections(self) -> int:
        """`pg_terminate_backend` of every connection to the store (every Privet connection); how many. Returns
        once those backends are gone (termination is asynchronous): the fault's moment ends then."""
        with self.admin.connect() as conn:
            pids = list(
                conn.execute(
                    sa.text("SELECT pid FROM pg_stat_activity WHERE datname = :name AND pid <> pg_backend_pid()"),
                    {"name": self.name},
                ).scalars()
            )
            conn.execute(
                sa.text("SELECT pg_terminate_backend(pid) FROM unnest(CAST(:pids AS int[])) AS pid"), {"pids": pids}
            )
            deadline = time.monotonic() + 2
            while (
                time.monotonic() < deadline
                and conn.execute(
                    sa.text("SELECT count(*) FROM pg_stat_activity WHERE pid = ANY(:pids)"), {"pids": pids}
                ).scalar()
            ):
                time.sleep(0.005)
        return len(pids)

    # ---- requests ---------------------------------------------------------------------------------------------
    def call(
        self,
        method: str,
        path: str,
        body: object | None = None,
        *,
        auth: bool = True,
        conn: http.client.HTTPConnection | None = None,
        timeout: float = 30,
    ) -> tuple[int, dict]:
        """One request; (status, JSON body or {})."""
        own = conn is None
        conn = conn or http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        headers = {"Content-Type": "application/json"}
        if auth:
            headers["Authorization"] = f"Bearer {self.token}"
        try:
            conn.request(method, path, json.dumps(body) if body is not None else None, headers)
            answer = conn.getresponse()
            data = answer.read()
            try:
                parsed = json.loads(data) if data else {}
            except ValueError:
                parsed = {"raw": data[:200].decode(errors="replace")}
            return answer.status, parsed
        finally:
            if own:
                conn.close()

    def store(self) -> sa.Engine:
        return sa.create_engine(self.url)


# ---- mixed load -----------------------------------------------------------------------------------------------
@dataclass
class Outcome:
    kind: str
    started: float
    ended: float
    status: int  # 0: the connection failed
    record_id: str | None = None
    marker: str | None = None


@dataclass
class Load:
    """Client threads sending a mix of decisions, batches, change feeds, recordings and filed requests."""

    served: Served
    clients: int = 8
    seconds: float = 6.0
    limit: int = 200_000
    mix: tuple[tuple[str, int], ...] = (
        ("decision", 50),
        ("batch", 5),
        ("changes", 5),
        ("recording", 35),
        ("request", 5),
    )
    # keep sending at least this long after the last fault ended (a restart slowed by a busy machine still gets
    # load after it); None: stop at `seconds` whatever happened
    after_faults: float | None = None
    outcomes: list[Outcome] = field(default_factory=list)
    fault_results: list = field(default_factory=list)  # what each fault returned (e.g. connections terminated)
    run_id: str = field(default_factory=lambda: secrets.token_hex(3))

    def _body(self, kind: str, rng: random.Random, n: int) -> tuple[str, str, object, str | None]:
        visitor = f"v{rng.randrange(500):04d}"
        if kind == "decision":
            return "POST", "/api/v1/decisions", {"visitor_id": visitor, "purpose": rng.choice(PURPOSES)}, None
        if kind == "batch":
            return (
                "POST",
                "/api/v1/decisions/batch",
                {
                    "items": [
                        {"visitor_id": f"v{rng.randrange(500):04d}", "purpose": rng.choice(PURPOSES)} for _ in range(50)
                    ]
                },
                None,
            )
        if kind == "changes":
            return "GET", f"/api/v1/decisions/changes?after={rng.randrange(100)}&limit=50", None, None
        if kind == "recording":
            marker = f"f{self.run_id}-{threading.get_ident() % 10_000:04d}-{n}"  # one visitor per recording
            return (
                "POST",
                "/api/v1/consent/records",
                {
                    "visitor_id": marker,
                    "purpose": rng.choice(PURPOSES),
                    "event": rng.choice(("given", "withdrawn")),
                    "method": "api",
                },
                marker,
            )
        return (
            "POST",
            "/api/v1/requests",
            {
                "type": "access",
                "identity_type": "email",
                "identity": f"load{self.run_id}{n}@example.org",
                "channel": "api",
                "identity_check": {"method": "id_document"},
            },
            None,
        )

    def _client(self, stop_at: list[float], counter: list[int]) -> None:
        rng, conn, n = random.Random(), None, 0
        kinds = [k for k, weight in self.mix for _ in range(weight)]
        while time.monotonic() < stop_at[0] and counter[0] < self.limit:
            counter[0] += 1
            n += 1
            kind = rng.choice(kinds)
            method, path, body, marker = self._body(kind, rng, n)
            started = time.monotonic()
            try:
                conn = conn or http.client.HTTPConnection("127.0.0.1", self.served.port, timeout=30)
                status, answer = self.served.call(method, path, body, conn=conn)
            except (OSError, http.client.HTTPException):
                status, answer = 0, {}
                if conn is not None:
                    conn.close()
                conn = None
                time.sleep(0.01)
            record = answer.get("id") if kind == "recording" and 200 <= status < 300 else None
            self.outcomes.append(Outcome(kind, started, time.monotonic(), status, record, marker))
        if conn is not None:
            conn.close()

    def run(self, faults: list[tuple[float, callable]] | None = None) -> list[tuple[float, float]]:
        """Send load for `seconds`; call each fault at its offset; returns (start, end) of each fault."""
        end, counter = time.monotonic() + self.seconds, [0]
        stop_at = [end if self.after_faults is None or not faults else float("inf")]  # set once the faults are done
        threads = [
            threading.Thread(target=self._client, args=(stop_at, counter), daemon=True) for _ in range(self.clients)
        ]
        begun = time.monotonic()
        for thread in threads:
            thread.start()
        windows = []
        for offset, fault in sorted(faults or [], key=lambda f: f[0]):
            time.sleep(max(0.0, begun + offset - time.monotonic()))
            start = time.monotonic()
            self.fault_results.append(fault())
            windows.append((start, time.monotonic()))
        if windows and self.after_faults is not None:
            stop_at[0] = max(end, windows[-1][1] + self.after_faults)
        for thread in threads:
            thread.join(max(0.0, stop_at[0] - time.monotonic()) + 60)
        return windows


def judge(outcomes: list[Outcome], windows: list[tuple[float, float]]) -> dict:
    """Errors, which of them were in flight at a fault, server errors (500), and the time back to full service."""
    failed = [o for o in outcomes if not 200 <= o.status < 300]
    in_flight = [o for o in failed if any(o.started <= end and o.ended >= start for start, end in windows)]
    late = [o for o in failed if o not in in_flight]
    recovery = 0.0  # from a fault to the last failure it caused (the latest fault before that failure ended)
    for o in failed:
        starts = [start for start, _end in windows if start <= o.ended]
        if starts:
            recovery = max(recovery, o.ended - max(starts))
    by_kind: dict[str, int] = {}
    for o in outcomes:
        by_kind[o.kind] = by_kind.get(o.kind, 0) + 1
    statuses: dict[str, int] = {}
    for o in failed:
        statuses[str(o.status)] = statuses.get(str(o.status), 0) + 1
    late_kinds = sorted({f"{o.kind}:{o.status}" for o in late})
    return {
        "requests": len(outcomes),
        "by_kind": by_kind,
        "errors": len(failed),
        "errors_in_flight": len(in_flight),
        "errors_later": len(late),
        "errors_later_kinds": late_kinds,
        "server_errors_500": sum(o.status == 500 for o in outcomes),
        "error_statuses": statuses,
        "recovery_s": round(recovery, 3),
    }


def acknowledged_recordings_kept(served: Served, outcomes: list[Outcome]) -> dict:
    """Every recording answered 2xx is in the ledger; no recording is there twice (one visitor per recording)."""
    acked = {o.record_id for o in outcomes if o.kind == "recording" and o.record_id}
    markers = [o.marker for o in outcomes if o.kind == "recording" and o.marker]
    engine = served.store()
    try:
        with engine.connect() as conn:
            ids = set(
                conn.execute(
                    sa.text("SELECT id FROM consent_records WHERE id = ANY(:ids)"), {"ids": list(acked)}
                ).scalars()
            )
            twice = conn.execute(
                sa.text(
                    "SELECT count(*) FROM (SELECT visitor_id FROM consent_records WHERE visitor_id = ANY(:m) "
                    "GROUP BY visitor_id HAVING count(*) > 1) x"
                ),
                {"m": markers},
            ).scalar()
            kept = conn.execute(
                sa.text("SELECT count(*) FROM consent_records WHERE visitor_id = ANY(:m)"), {"m": markers}
            ).scalar()
    finally:
        engine.dispose()
    return {
        "acknowledged": len(acked),
        "acknowledged_missing": len(acked - ids),
        "in_ledger": kept,
        "sent": len(markers),
        "applied_twice": twice,
    }


def jobs_settle(served: Served, timeout: float) -> dict:
    """Wait until no job is due or running past its lease; counts by status (and how long it took)."""
    engine, started = served.store(), time.monotonic()
    try:
        while True:
            with engine.connect() as conn:
                counts = dict(conn.execute(sa.text("SELECT status, count(*) FROM jobs GROUP BY status")).all())
                busy = conn.execute(
                    sa.text(
                        "SELECT count(*) FROM jobs WHERE (status = 'queued' AND run_at <= :now) OR status = 'running'"
                    ),
                    {"now": utcnow()},
                ).scalar()
            if not busy or time.monotonic() - started > timeout:
                return {"jobs": counts, "jobs_unfinished": busy, "jobs_settle_s": round(time.monotonic() - started, 2)}
            time.sleep(0.2)
    finally:
        engine.dispose()
