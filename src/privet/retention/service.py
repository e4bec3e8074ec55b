"""Retention plans (dry runs) and runs: rules from the data map applied to the company's SQL datastores.

`plan` counts per datastore and table, no personal values. `run` sweeps table after table in batches, saving
its progress in a `RetentionRun` row after every batch; `run(resume=True)` continues the newest unfinished
run with the same moment `now`, so cut-offs do not move. A failing datastore stops the run at a batch
boundary; the run says which table, how far it got, and resumes from there.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session, sessionmaker

from privet.audit.service import record as audit
from privet.kit.clock import utcnow
from privet.kit.crypto import Keyring
from privet.kit.errors import Conflict, InvalidInput, NotFound
from privet.retention import sweep
from privet.retention.models import RetentionRun
from privet.retention.rules import SQL_KINDS, Rule, in_sweep_order, load_rules
from privet.settings import Settings

DEFAULT_BATCH = 5_000
Progress = Callable[[str, int], None]  # (table key, rows changed in the batch just committed)


def _engine(rule: Rule, settings: Settings) -> Engine:
    from privet.connectors.sql.engines import engine_for
    from privet.datamap.secrets import resolve_secret

    if rule.kind not in SQL_KINDS:
        raise InvalidInput(
            f"Datastore {rule.datastore} is a {rule.kind} datastore; retention sweeps run on SQL datastores",
            "enforce this table's retention by hand, or remove its rule",
        )
    if not rule.secret:
        raise InvalidInput(f"Datastore {rule.datastore} names no connection secret", "add `secret:` in the data map")
    return engine_for(resolve_secret(settings, rule.secret))


def held_identities(session: Session, keyring: Keyring) -> dict[str, list[str]]:
    """Identity values (by type) of subjects under an active legal hold: their rows are never swept."""
    from privet.requests.models import LegalHold
    from privet.subjects.models import Subject
    from privet.subjects.service import identities_of

    out: dict[str, list[str]] = {}
    subject_ids = session.execute(select(LegalHold.subject_id).where(LegalHold.released_at.is_(None))).scalars()
    for subject in session.execute(select(Subject).where(Subject.id.in_(set(subject_ids)))).scalars():
        for view in identities_of(session, keyring, subject):
            out.setdefault(view.type, []).append(view.value)
    return out


def plan(
    session: Session,
    settings: Settings,
    keyring: Keyring,
    *,
    now: datetime | None = None,
    tolerant: bool = False,
    counts: bool = True,
) -> list[dict]:
    """Per table: the rule, its cut-off and the counts a run would sweep and keep (no personal values).
    `tolerant`: a table that cannot be counted (datastore out of reach, not SQL) says why in `problem` instead
    of failing the whole plan. `counts=False`: the rules and cut-offs only, nothing read from the company's
    datastores (the admin console shows the counts of the latest dry run instead: counting every table live
    takes seconds on a large company)."""
    now = now or utcnow()
    held = held_identities(session, keyring) if counts else {}
    out = []
    rules, mapped = in_sweep_order(session, settings, load_rules(session))
    for rule in rules:
        entry = _describe(rule, now)
        if rule.problem:  # nothing to count: the rule cannot be enforced on this table as mapped
            entry.update(expired=0, would_sweep=0, kept_held=0, kept_referenced=0, problem=rule.problem)
            out.append(entry)
            continue
        if not counts:
            out.append(entry)
            continue
        try:
            with _engine(rule, settings).connect() as conn:
                shape = sweep.reflect(conn, rule, mapped.get(rule.datastore, ()))
                entry.update(sweep.count(conn, shape, rule, now, held))
        except Exception as exc:
            if not tolerant:
                raise
            entry["problem"] = exc.detail if isinstance(exc, InvalidInput) else "The datastore could not be reached."
        out.append(entry)
    return out


def _describe(rule: Rule, now: datetime) -> dict:
    return {
        "rule": rule.key,
        "datastore": rule.datastore,
        "table": rule.table,
        "trigger": rule.trigger,
        "column": rule.column,
        "fields": list(rule.fields) if rule.action != "delete" else [],
        "duration": str(rule.duration),
        "action": rule.action,
        "cutoff": rule.cutoff(now).isoformat(),
        "legal_minimum": str(rule.legal_minimum) if rule.legal_minimum else None,
        "legal_reference": rule.legal_reference,
        "overridden": rule.overridden,
        "clock": rule.describe(),
        "activities": list(rule.activities),
    }


def unfinished(session: Session) -> RetentionRun | None:
    """The newest run that did not finish (running when killed, or failed), if any."""
    return session.execute(
        select(RetentionRun)
        .where(RetentionRun.status.in_(("running", "failed")))
        .order_by(RetentionRun.started_at.desc())
        .limit(1)
    ).scalar()


def latest_dry_run(session: Session) -> RetentionRun | None:
    """The newest finished dry run: its counts, table by table, as of when it ran."""
    return session.execute(
        select(RetentionRun).where(RetentionRun.status == "dry_done").order_by(RetentionRun.finished_at.desc()).limit(1)
    ).scalar()


def get_run(session: Session, run_id: str) -> RetentionRun:
    found = session.get(RetentionRun, run_id)
    if found is None:
        raise NotFound("No such retention run", "list runs with `privet retention runs`")
    return found


def list_runs(session: Session, limit: int = 20) -> list[RetentionRun]:
    return list(session.execute(select(RetentionRun).order_by(RetentionRun.started_at.desc()).limit(limit)).scalars())


DRY_STATES = ("dry_running", "dry_done")  # a dry run: counted table by table, nothing changed, never swept


def start(session: Session, *, actor: str, dry_run: bool = False, now: datetime | None = None) -> RetentionRun:
    """Record a new run (audited); `run(run_id=...)` (the `retention.run` job) then sweeps it, or for a dry run
    counts what a sweep would do, table by table, changing nothing."""
    current = unfinished(session)
    if not dry_run and current is not None and current.status == "running":
        raise Conflict(
            "A retention run is already in progress (or was killed)", "resume it with `privet retention run --resume`"
        )
    from privet.datamap.service import latest_version

    latest = latest_version(session)
    row = RetentionRun(
        now=now or utcnow(),
        actor=actor,
        progress={},
        status=DRY_STATES[0] if dry_run else "running",
        datamap_version=latest.number if latest else None,
    )
    session.add(row)
    session.flush()
    audit(
        session,
        actor=actor,
        action="retention.run_started",
        object_type="retention_run",
        object_id=row.id,
        details={"datamap_version": row.datamap_version, **({"dry_run": True} if dry_run else {})},
    )
    return row


def reopen(session: Session, run_id: str, *, actor: str) -> RetentionRun:
    """Mark the newest unfinished run (stopped by a failure, or killed) as running again (audited), so
    `run(run_id=...)` continues it from its last batch with the same cut-offs."""
    row = get_run(session, run_id)
    newest = unfinished(session)
    if newest is None or newest.id != row.id:
        raise Conflict(
            "Only the newest unfinished retention run can be resumed",
            "start a new run instead" if row.status in ("done", *DRY_STATES) else "resume the newest one",
        )
    row.status, row.error = "running", None
    audit(
        session, actor=actor, action="retention.run_resumed", object_type="retention_run", object_id=row.id, details={}
    )
    return row


def run(
    factory: sessionmaker[Session],
    settings: Settings,
    keyring: Keyring,
    *,
    actor: str,
    resume: bool = False,
    batch: int = DEFAULT_BATCH,
    now: datetime | None = None,
    progress: Progress | None = None,
    run_id: str | None = None,
) -> RetentionRun:
    """Sweep every rule; returns the finished run (status done, or failed with `error` saying where).
    `run_id`: carry on with that run as recorded (started or reopened by the console, or taken up again after a
    killed worker); a finished one is returned as it is."""
    if batch < 1:
        raise InvalidInput("The batch size must be at least 1", "use e.g. --batch 5000")
    with factory() as session:
        run_row: RetentionRun | None
        if run_id is not None:
            run_row = get_run(session, run_id)
            if run_row.status not in ("running", DRY_STATES[0]):
                session.expunge(run_row)
                return run_row
        else:
            run_row = unfinished(session) if resume else None
            if resume and run_row is None:
                raise NotFound("No unfinished retention run to resume", "start a new one: privet retention run")
            if run_row is None:
                run_row = start(session, actor=actor, now=now)
            else:
                reopen(session, run_row.id, actor=actor)
        session.commit()
        run_id, moment, dry = run_row.id, run_row.now, run_row.status == DRY_STATES[0]
        rules, mapped = in_sweep_order(session, settings, load_rules(session))
        held = held_identities(session, keyring)
    for rule in rules:
        state = _state(factory, run_id, rule, moment)
        if state.get("done"):
            continue
        if rule.problem:
            state.update(done=True, skipped=rule.problem)
            _save(factory, run_id, rule, state)
            continue
        if dry:
            _count(factory, run_id, rule, state, settings, mapped, held, moment)
            continue
        try:
            engine = _engine(rule, settings)
            with engine.connect() as conn:
                shape = sweep.reflect(conn, rule, mapped.get(rule.datastore, ()))
            for changed, upper in sweep.batches(
                engine.connect, shape, rule, moment, held, after=state.get("after"), size=batch
            ):
                state["after"] = upper
                state["deleted" if rule.action == "delete" else "updated"] += changed
                _save(factory, run_id, rule, state)
                if progress is not None:
                    progress(rule.key, changed)
            with engine.connect() as conn:
                counts = sweep.count(conn, shape, rule, moment, held)
            state.update(done=True, kept_referenced=counts["kept_referenced"], kept_held=counts["kept_held"])
            _save(factory, run_id, rule, state)
        except Exception as exc:  # noqa: BLE001 - the run stops here and says so; resumable
            return _fail(factory, run_id, rule, state, exc)
    return _finish(factory, run_id, actor)


def _count(
    factory: sessionmaker[Session],
    run_id: str,
    rule: Rule,
    state: dict,
    settings: Settings,
    mapped: dict,
    held: dict[str, list[str]],
    moment: datetime,
) -> None:
    """A dry run's table: what a sweep would do (as `plan`); a datastore out of reach is said, not fatal."""
    try:
        with _engine(rule, settings).connect() as conn:
            shape = sweep.reflect(conn, rule, mapped.get(rule.datastore, ()))
            state.update(sweep.count(conn, shape, rule, moment, held))
    except Exception as exc:  # noqa: BLE001 - counted nothing here; the dry run says why and goes on
        state["skipped"] = exc.detail if isinstance(exc, InvalidInput) else "The datastore could not be reached."
    state["done"] = True
    _save(factory, run_id, rule, state)


def _state(factory: sessionmaker[Session], run_id: str, rule: Rule, moment: datetime) -> dict:
    with factory() as session:
        run_row = session.get(RetentionRun, run_id)
        assert run_row is not None  # the run this sweep started
        found = dict(run_row.progress.get(rule.key) or {})
    found.setdefault("deleted", 0)
    found.setdefault("updated", 0)
    found.update(action=rule.action, cutoff=rule.cutoff(moment).isoformat())
    return found


def _save(factory: sessionmaker[Session], run_id: str, rule: Rule, state: dict) -> None:
    with factory() as session:
        row = session.get(RetentionRun, run_id, with_for_update=True)
        assert row is not None  # the run this sweep started
        row.progress = {**row.progress, rule.key: dict(state)}
        session.commit()


def _fail(factory: sessionmaker[Session], run_id: str, rule: Rule, state: dict, exc: Exception) -> RetentionRun:
    reason = exc.detail if isinstance(exc, InvalidInput) else type(exc).__name__
    done = state.get("deleted", 0) + state.get("updated", 0)
    with factory() as session:
        row = session.get(RetentionRun, run_id)
        assert row is not None  # the run this sweep started
        row.status = "failed"
        row.error = (
            f"{rule.key}: stopped after {done} rows ({reason}); fix the datastore and resume with "
            "`privet retention run --resume`"
        )
        audit(
            session,
            actor=row.actor,
            action="retention.run_failed",
            object_type="retention_run",
            object_id=run_id,
            details={"table": rule.key, "rows_done": done, "error": reason},
        )
        session.commit()
        session.refresh(row)
        session.expunge(row)
        return row


def _finish(factory: sessionmaker[Session], run_id: str, actor: str) -> RetentionRun:
    with factory() as session:
        row = session.get(RetentionRun, run_id)
        assert row is not None  # the run this sweep started
        dry = row.status == DRY_STATES[0]
        row.status, row.finished_at = DRY_STATES[1] if dry else "done", utcnow()
        totals = {
            key: {
                k: v
                for k, v in value.items()
                if k in ("deleted", "updated", "kept_referenced", "kept_held", "would_sweep")
            }
            for key, value in row.progress.items()
        }
        audit(
            session,
            actor=actor,
            action="retention.run_finished",
            object_type="retention_run",
            object_id=run_id,
            details={"tables": totals, **({"dry_run": True} if dry else {})},
        )
        session.commit()
        session.refresh(row)
        session.expunge(row)
        return row
