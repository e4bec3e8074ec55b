"""`privet audit verify` and `privet audit export` on a real store."""

from __future__ import annotations

import json

import sqlalchemy as sa

from privet.db.engine import make_engine
from tests.support.tamper import lift_guards


def _make_events(privet, n: int) -> None:
    for i in range(n):
        result = privet("users", "create", f"officer{i}", "--role", "auditor")
        assert result.exit_code == 0, result.output


def test_verify_intact_then_tampered(privet, cli_store: str) -> None:
    _make_events(privet, 3)
    ok = privet("audit", "verify")
    assert ok.exit_code == 0 and "intact" in ok.output

    engine = make_engine(cli_store)
    with engine.begin() as conn:
        lift_guards(conn)
        conn.execute(sa.text("UPDATE audit_events SET actor = 'forged' WHERE seq = 2"))
    engine.dispose()
    broken = privet("audit", "verify")
    assert broken.exit_code == 1
    assert "BROKEN at event 2" in broken.output


def test_export_writes_json_lines_in_order(privet, tmp_path) -> None:
    _make_events(privet, 2)
    out = tmp_path / "audit.jsonl"
    result = privet("audit", "export", "-o", str(out))
    assert result.exit_code == 0, result.output
    events = [json.loads(line) for line in out.read_text().splitlines()]
    assert [e["seq"] for e in events] == list(range(1, len(events) + 1))
    assert events and all(e["prev_hash"] for e in events)
    assert events[1]["prev_hash"] == events[0]["hash"]
    since = privet("audit", "export", "--since", "1")
    assert [json.loads(x)["seq"] for x in since.stdout.splitlines()] == [e["seq"] for e in events[1:]]


def test_head_and_expect_head(privet) -> None:
    _make_events(privet, 2)
    head = privet("audit", "head").stdout.strip()
    seq, digest = head.split(":")
    assert int(seq) >= 2 and len(digest) == 64
    assert privet("audit", "verify", "--expect-head", head).exit_code == 0
    wrong = privet("audit", "verify", "--expect-head", f"{seq}:{'0' * 64}")
    assert wrong.exit_code == 1 and "anchored" in wrong.output
    bad = privet("audit", "verify", "--expect-head", "nonsense")
    assert bad.exit_code == 2 and "SEQ:HASH" in bad.output


def test_export_to_missing_folder_is_a_clear_error(privet, tmp_path) -> None:
    result = privet("audit", "export", "-o", str(tmp_path / "nope" / "audit.jsonl"))
    assert result.exit_code == 2 and "folder" in result.output and "Traceback" not in result.output


def test_expect_head_after_a_rewrite_without_the_key_names_the_first_changed_event(privet, cli_store: str) -> None:
    from privet.audit import chain
    from privet.audit.models import AuditEvent

    _make_events(privet, 4)
    head = privet("audit", "head").stdout.strip()
    events = AuditEvent.__table__
    engine = make_engine(cli_store)
    with engine.begin() as conn:  # event 2 changed, its hash and every later one recomputed, the head moved along
        lift_guards(conn)
        rows = [dict(r) for r in conn.execute(sa.select(events).order_by(events.c.seq)).mappings()]
        rows[1]["actor"], prev = "forged", rows[0]["hash"]
        for row in rows[1:]:
            row["prev_hash"] = prev
            row["hash"] = prev = chain.legacy_hash(row)
            conn.execute(
                sa.update(events)
                .where(events.c.seq == row["seq"])
                .values(actor=row["actor"], prev_hash=row["prev_hash"], hash=row["hash"])
            )
        conn.execute(sa.text("UPDATE audit_head SET hash = :hash"), {"hash": prev})
    engine.dispose()
    out = privet("audit", "verify", "--expect-head", head)
    assert out.exit_code == 1 and "BROKEN at event 2" in out.output and "without the key" in out.output
