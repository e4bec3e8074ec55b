"""Faults under load (issue 13): a real `privet serve` on PostgreSQL, mixed load, then faults; errors and recovery.

A fresh PostgreSQL database gets the Keptek demo (`privet init --demo`) and an API key; `privet serve` runs it with
uvicorn workers and inline job threads. Client threads on loopback send a mix of decisions, decision batches,
change-feed reads, consent recordings (one new visitor each, so a repeat would show) and staff-filed access
requests (each runs jobs). Faults, each in its own phase:

- terminate: `pg_terminate_backend` of every Privet connection, several times during the load. Printed: errors,
  how many were in flight at a fault and how many came later (should be none), 500s (should be none), and the
  recovery time (from a fault to the last failure it caused; the bar is 2 s);
- outage: the database refuses connections for a while (ALLOW_CONNECTIONS false, connections terminated), then
  accepts them again: statuses during the outage (503, never 500) and the time back to full service;
- kill: SIGKILL of one uvicorn worker, then of the whole server (started again) during recordings: recordings
  answered 2xx missing from the ledger (should be 0) and recordings applied twice (should be 0).

Each phase then checks that every acknowledged recording is in the ledger and waits for the jobs to settle.
Bounded in count and time; the database is dropped at the end. Prints figures, then one line of JSON.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # the harness lives with the tests

from tests.support.served import (  # noqa: E402
    PG_ADMIN_URL,
    Load,
    Served,
    acknowledged_recordings_kept,
    jobs_settle,
    judge,
)


def say(text: str) -> None:
    print(text, flush=True)


def terminate_phase(served: Served, seconds: float, faults: int, clients: int) -> dict:
    """Mixed load with `faults` rounds of pg_terminate_backend spread over it."""
    load = Load(served, clients=clients, seconds=seconds)
    gap = seconds / (faults + 1)
    windows = load.run([(gap * (i + 1), served.terminate_connections) for i in range(faults)])
    out = judge(load.outcomes, windows)
    out["connections_terminated"] = load.fault_results
    out["per_s"] = round(out["requests"] / seconds)
    out.update(acknowledged_recordings_kept(served, load.outcomes))
    out.update(jobs_settle(served, 60))
    return out


def outage_phase(served: Served, outage_s: float) -> dict:
    """The database refuses connections for `outage_s`; statuses meanwhile, and the time back to full service."""
    import sqlalchemy as sa

    decision = {"visitor_id": "v-outage", "purpose": "analytics.usage"}
    routes = [
        ("POST", "/api/v1/decisions", decision),
        ("POST", "/api/v1/decisions/batch", {"items": [decision]}),
        ("GET", "/api/v1/decisions/changes", None),
        ("POST", "/api/v1/consent/records", {**decision, "event": "given", "method": "api"}),
    ]
    statuses: dict[str, int] = {}
    with served.admin.connect() as conn:
        conn.execute(sa.text(f'ALTER DATABASE "{served.name}" ALLOW_CONNECTIONS false'))
    try:
        served.terminate_connections()
        until = time.monotonic() + outage_s
        while time.monotonic() < until:
            for route in routes:
                status = str(served.call(*route)[0])
                statuses[status] = statuses.get(status, 0) + 1
            time.sleep(0.02)
        time.sleep(0.6)
        ready_during = served.call("GET", "/readyz", auth=False)
    finally:
        with served.admin.connect() as conn:
            conn.execute(sa.text(f'ALTER DATABASE "{served.name}" ALLOW_CONNECTIONS true'))
    back, recovered = time.monotonic(), None
    while time.monotonic() - back < 30:
        if all(200 <= served.call(*route)[0] < 300 for route in routes * 2):
            recovered = time.monotonic() - back
            break
        time.sleep(0.01)
    return {
        "outage_s": outage_s,
        "statuses_during": statuses,
        "server_errors_500": statuses.get("500", 0),
        "readyz_during": ready_during[0],
        "readyz_store": ready_during[1].get("checks", {}).get("store"),
        "recovery_s": round(recovered, 3) if recovered is not None else None,
    }


def kill_phase(served: Served, seconds: float, clients: int) -> dict:
    """Recordings while one worker, then the whole server, is killed (SIGKILL); what was acknowledged is kept."""

    def kill_and_restart() -> None:
        served.kill()
        served.start()

    seconds = max(seconds, 10.0)  # the restart takes a few seconds: leave time to record after it
    load = Load(served, clients=clients, seconds=seconds, mix=(("recording", 1),))
    windows = load.run([(1.5, served.kill_one_worker), (3.0, kill_and_restart)])
    kept = acknowledged_recordings_kept(served, load.outcomes)
    restart = windows[-1][1] - windows[-1][0]
    after = [o for o in load.outcomes if o.started > windows[-1][1] + 0.5]
    return {
        **kept,
        "restart_s": round(restart, 2),
        "requests": len(load.outcomes),
        "errors": sum(not 200 <= o.status < 300 for o in load.outcomes),  # mostly refused while it was down
        "server_errors_500": sum(o.status == 500 for o in load.outcomes),
        "ok_after_restart": sum(200 <= o.status < 300 for o in after),
        "after_restart": len(after),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="Short phases (under a minute).")
    parser.add_argument("--pg", default=PG_ADMIN_URL, help="PostgreSQL server URL (a fresh database is made there).")
    parser.add_argument("--workers", type=int, default=2, help="Uvicorn workers of the served app.")
    parser.add_argument("--clients", type=int, default=6, help="Client threads sending the load.")
    args = parser.parse_args()
    seconds, faults, outage = (8.0, 3, 1.5) if args.quick else (30.0, 10, 5.0)
    result: dict = {"bench": "faults", "quick": args.quick, "workers": args.workers, "clients": args.clients}
    with tempfile.TemporaryDirectory(prefix="privet-faults-") as tmp:
        started = time.monotonic()
        served = Served(Path(tmp), workers=args.workers, admin_url=args.pg)
        try:
            served.start()
            served.wait_ready()
            say(f"served: PostgreSQL, {args.workers} workers, ready in {time.monotonic() - started:.1f} s")
            say(f"terminate: {seconds:g} s of mixed load, {faults} x pg_terminate_backend of every connection")
            result["terminate"] = t = terminate_phase(served, seconds, faults, args.clients)
            say(f"  {t['requests']} requests ({t['per_s']}/s) {t['by_kind']}")
            say(
                f"  errors {t['errors']} (in flight at a fault {t['errors_in_flight']}, later {t['errors_later']}; "
                f"statuses {t['error_statuses']}), 500s {t['server_errors_500']}, recovery {t['recovery_s']} s"
            )
            say(
                f"  recordings acknowledged {t['acknowledged']}, missing {t['acknowledged_missing']}, applied twice "
                f"{t['applied_twice']}; jobs {t['jobs']} settled in {t['jobs_settle_s']} s"
            )
            say(f"outage: the database refuses connections for {outage:g} s")
            result["outage"] = o = outage_phase(served, outage)
            say(
                f"  statuses meanwhile {o['statuses_during']}, /readyz {o['readyz_during']} ({o['readyz_store']}), "
                f"full service {o['recovery_s']} s after the database is back"
            )
            say("kill: SIGKILL of one worker, then of the server (started again), during recordings")
            result["kill"] = k = kill_phase(served, seconds, args.clients)
            say(
                f"  {k['requests']} recordings sent, acknowledged {k['acknowledged']}, missing "
                f"{k['acknowledged_missing']}, applied twice {k['applied_twice']}; restart {k['restart_s']} s, "
                f"{k['ok_after_restart']}/{k['after_restart']} answered 2xx after it; 500s {k['server_errors_500']}"
            )
        except Exception:
            say("the server's log:\n" + served.log_tail())
            raise
        finally:
            served.close()
    result["passed"] = bool(
        t["errors_later"] == 0
        and t["server_errors_500"] == 0
        and t["recovery_s"] <= 2.0
        and t["acknowledged_missing"] == 0
        and t["applied_twice"] == 0
        and t["jobs_unfinished"] == 0
        and o["server_errors_500"] == 0
        and o["recovery_s"] is not None
        and o["recovery_s"] <= 2.0
        and k["acknowledged_missing"] == 0
        and k["applied_twice"] == 0
        and k["server_errors_500"] == 0
        and k["after_restart"] > 0
        and k["ok_after_restart"] == k["after_restart"]
    )
    say(f"passed: {result['passed']}")
    print(json.dumps(result, separators=(",", ":")), flush=True)


if __name__ == "__main__":
    main()
