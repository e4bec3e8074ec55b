"""Signed anchors kept outside the store catch what the key alone cannot: the newest events removed with an old
head put back, and a rewrite by someone holding the key."""

from __future__ import annotations

import itertools
import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa
from cryptography.hazmat.primitives.serialization import load_pem_public_key

from privet.audit import anchors
from privet.db.engine import make_engine
from privet.kit.crypto import Keyring
from privet.settings import get_settings
from tests.support.tamper import lift_guards


@pytest.fixture
def anchor_file(cli_store: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "outside" / "audit-anchors.jsonl"
    path.parent.mkdir()
    monkeypatch.setenv("PRIVET_AUDIT_ANCHOR_FILE", str(path))
    get_settings.cache_clear()
    return path


_names = itertools.count()


def _events(privet, n: int) -> None:
    for _ in range(n):
        assert privet("users", "create", f"auditor{next(_names)}", "--role", "auditor").exit_code == 0


def test_anchor_then_verify_checks_every_anchor(privet, anchor_file: Path) -> None:
    _events(privet, 2)
    first = privet("audit", "anchor")
    assert first.exit_code == 0 and "anchored event" in first.output
    _events(privet, 1)
    assert privet("audit", "anchor").exit_code == 0
    lines = [json.loads(x) for x in anchor_file.read_text().splitlines()]
    assert len(lines) == 2 and lines[1]["seq"] > lines[0]["seq"]
    out = privet("audit", "verify")
    assert out.exit_code == 0 and "matches all 2 anchors" in out.output


def test_newest_events_removed_with_an_old_head_put_back_are_caught_by_the_anchors(
    privet, anchor_file: Path, cli_store: str
) -> None:
    _events(privet, 2)
    engine = make_engine(cli_store)
    with engine.connect() as conn:
        saved = dict(conn.execute(sa.text("SELECT * FROM audit_head")).mappings().one())
    _events(privet, 2)
    assert privet("audit", "anchor").exit_code == 0
    with engine.begin() as conn:
        lift_guards(conn)
        conn.execute(sa.text("DELETE FROM audit_events WHERE seq > :seq"), {"seq": saved["seq"]})
        conn.execute(
            sa.text("UPDATE audit_head SET seq = :seq, hash = :hash, keyed_from = :keyed_from, mac = :mac"), saved
        )
    engine.dispose()
    out = privet("audit", "verify")
    assert out.exit_code == 1 and f"BROKEN at event {saved['seq'] + 1}" in out.output and "gone" in out.output


def test_a_changed_anchor_line_is_not_trusted(privet, anchor_file: Path) -> None:
    _events(privet, 2)
    assert privet("audit", "anchor").exit_code == 0
    line = json.loads(anchor_file.read_text())
    anchor_file.write_text(json.dumps({**line, "seq": line["seq"] - 1}) + "\n")
    out = privet("audit", "verify")
    assert out.exit_code == 1 and "CANNOT BE TRUSTED" in out.output and "line 1" in out.output
    assert privet("audit", "anchor").exit_code == 2


def test_two_signed_anchors_of_one_event_that_disagree_mean_a_rewrite_with_the_key(tmp_path: Path) -> None:
    ring, path = Keyring(b"k" * 32), tmp_path / "anchors.jsonl"
    at = datetime(2026, 12, 8, tzinfo=UTC)
    anchors.append(path, ring, 4, "a" * 64, at)
    anchors.append(path, ring, 4, "b" * 64, at)
    found = anchors.read(path, ring)
    assert found.pinned == {4: "a" * 64} and "rewritten by someone holding the key" in found.problems[0]
    assert anchors.read(path, Keyring(b"x" * 32)).problems[0].startswith("line 1 is not an anchor signed")


def test_the_public_key_checks_anchors_without_the_secret(privet, anchor_file: Path) -> None:
    import base64

    _events(privet, 1)
    assert privet("audit", "anchor").exit_code == 0
    pem = privet("audit", "anchor", "--public-key").stdout
    line = json.loads(anchor_file.read_text())
    signature = base64.urlsafe_b64decode(line["sig"] + "=" * (-len(line["sig"]) % 4))
    load_pem_public_key(pem.encode()).verify(
        signature, json.dumps(["privet-audit-anchor:v1", line["seq"], line["hash"], line["at"]]).encode()
    )


def test_a_broken_chain_is_not_anchored(privet, anchor_file: Path, cli_store: str) -> None:
    _events(privet, 2)
    engine = make_engine(cli_store)
    with engine.begin() as conn:
        lift_guards(conn)
        conn.execute(sa.text("UPDATE audit_events SET actor = 'forged' WHERE seq = 1"))
    engine.dispose()
    out = privet("audit", "anchor")
    assert out.exit_code == 1 and "not anchored" in out.output and not anchor_file.exists()


def test_anchor_without_a_file_configured_is_a_clear_error(privet) -> None:
    out = privet("audit", "anchor")
    assert out.exit_code == 2 and "PRIVET_AUDIT_ANCHOR_FILE" in out.output
