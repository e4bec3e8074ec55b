"""The children sweep reads birth dates from the company's datastores (P27, P42), on SQLite, PostgreSQL and MariaDB.

Awkward shapes: a birth date in a text column (ISO and dotted forms, empty, NULL, nonsense), one in a table reached
through belongs_to, one in a table without a primary key; family links between accounts (related_account). The
expected minors are computed by hand-written SQL over the same database.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from faker import Faker
from sqlalchemy import select
from sqlalchemy.orm import Session

from privet.kit.crypto import Keyring
from privet.requests.models import DsrRequest
from privet.settings import Settings
from privet.subjects.models import Subject
from tests.support.services import create_mysql_database, create_pg_database

TODAY = datetime.now(UTC).date()
META = sa.MetaData()
MEMBERS = sa.Table(
    "members",
    META,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("email", sa.String(120)),
    sa.Column("name", sa.String(120)),
    sa.Column("dob", sa.String(20)),
    sa.Column("joined_at", sa.DateTime),
    sa.Column("family_of", sa.Integer),
)
PROFILES = sa.Table(
    "profiles",
    META,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("member_id", sa.ForeignKey("members.id"), nullable=False),
    sa.Column("birth_date", sa.Date),
    sa.Column("created_at", sa.DateTime),
)
SIGNUPS = sa.Table(
    "signups",
    META,
    sa.Column("contact_email", sa.String(120)),
    sa.Column("born", sa.Date),
    sa.Column("signed_at", sa.DateTime),
)  # no primary key

DATAMAP = """\
organisation: {{key: co, name: Test Co, profile: pipl, region: CN, child_age: 14, adults_only: {adults_only},
               responsible: {{name: Privacy Office}}}}
systems: [{{key: app, name: App}}]
datastores: [{{key: app_db, system: app, kind: {kind}, region: CN, secret: app_db}}]
datasets:
  - key: app
    datastore: app_db
    tables:
      - name: members
        primary_key: [id]
        timestamps: {{collection: joined_at}}
        fields:
          - {{name: id}}
          - {{name: email, category: user.contact.email, identity: email}}
          - {{name: name, category: user.name}}
          - {{name: dob, category: user.demographic.date_of_birth}}
          - {{name: joined_at}}
          - {{name: family_of, references: members.id, relation: related_account}}
      - name: profiles
        primary_key: [id]
        timestamps: {{collection: created_at}}
        fields:
          - {{name: id}}
          - {{name: member_id, references: members.id}}
          - {{name: birth_date, category: user.demographic.date_of_birth}}
          - {{name: created_at}}
      - name: signups
        timestamps: {{collection: signed_at}}
        fields:
          - {{name: contact_email, category: user.contact.email, identity: email}}
          - {{name: born, category: user.demographic.date_of_birth}}
          - {{name: signed_at}}
"""


def _born(fake: Faker, age: int) -> date:
    """A birth date `age` whole years ago, well away from a birthday (no test depends on the boundary day)."""
    return TODAY - timedelta(days=int(age * 365.25) + fake.random_int(30, 300))


def _ago(days: int) -> datetime:
    return (datetime.now(UTC) - timedelta(days=days)).replace(tzinfo=None, microsecond=0)


def fill(url: str) -> None:
    """Members (birth dates as ISO text, dotted text, empty, NULL, nonsense, or in a profile), signups without a key;
    about a third minors, some joined within the grace period, family links between members."""
    fake, zh = Faker(), Faker("zh_CN")
    engine = sa.create_engine(url)
    META.create_all(engine)
    with engine.begin() as conn:
        for i in range(1, 61):
            age = [8, 12, 13, 15, 16, 17, 25, 40, 60][i % 9]
            born = _born(fake, age)
            form = i % 6
            dob = (
                born.isoformat()
                if form in (0, 1)
                else born.strftime("%d.%m.%Y")
                if form == 2
                else None
                if form == 3
                else ""
                if i % 12 == 4
                else "unknown"
                if form == 4
                else None
            )
            joined = _ago(5 if i % 7 == 0 else 400)
            name = (zh if i % 2 else fake).name()
            conn.execute(
                MEMBERS.insert().values(
                    id=i,
                    email=f"m{i}.{fake.user_name()}@example.com",
                    name=name,
                    dob=dob,
                    joined_at=joined,
                    family_of=i - 1 if i % 5 == 0 and i > 1 else None,
                )
            )
            if form in (3, 5):  # the birth date lives in the member's profile
                conn.execute(PROFILES.insert().values(id=i, member_id=i, birth_date=born, created_at=_ago(300)))
        for j in range(30):
            born = _born(fake, [9, 13, 16, 30, 45][j % 5])
            email = f"s{j}.{fake.user_name()}@example.net"
            conn.execute(
                SIGNUPS.insert().values(
                    contact_email=email, born=None if j % 10 == 7 else born, signed_at=_ago(3 if j % 4 == 0 else 200)
                )
            )
    engine.dispose()


def _parts(day: date) -> dict:
    return {
        "iso": day.isoformat(),
        "y": f"{day.year:04d}",
        "m": f"{day.month:02d}",
        "d": f"{day.day:02d}",
        "day": day,
        "grace": _ago(30),
    }


# The people under `limit` years, and those collected within the 30-day grace, by plain SQL.
MEMBER_MINORS_SQL = """
SELECT email, joined_at AS at FROM members WHERE dob LIKE '____-__-__' AND dob > :iso
UNION SELECT email, joined_at FROM members WHERE dob LIKE '__.__.____' AND (SUBSTR(dob, 7, 4) > :y
    OR (SUBSTR(dob, 7, 4) = :y AND (SUBSTR(dob, 4, 2) > :m OR (SUBSTR(dob, 4, 2) = :m AND SUBSTR(dob, 1, 2) > :d))))
"""
MINORS_SQL = (
    MEMBER_MINORS_SQL
    + """
UNION SELECT m.email, p.created_at FROM profiles p JOIN members m ON m.id = p.member_id WHERE p.birth_date > :day
UNION SELECT contact_email, signed_at FROM signups WHERE born > :day
"""
)
RELATED_SQL = """
SELECT o.email FROM members k JOIN members o ON o.id = k.family_of OR o.family_of = k.id
WHERE k.email IN :minors AND o.email NOT IN :filed
"""
UNREADABLE_SQL = """
SELECT COUNT(*) FROM members WHERE dob <> '' AND dob NOT LIKE '____-__-__' AND dob NOT LIKE '__.__.____'
"""


def expected(url: str, limit: int) -> tuple[set[str], set[str], set[str], int]:
    """(minors, minors collected within the grace, minors whose birth date is on their member row, unreadable)."""
    engine = sa.create_engine(url)
    params = _parts(TODAY.replace(year=TODAY.year - limit))
    with engine.connect() as conn:
        rows = conn.execute(sa.text(MINORS_SQL), params).all()
        in_members = {r[0] for r in conn.execute(sa.text(MEMBER_MINORS_SQL), params)}
        unreadable = conn.execute(sa.text(UNREADABLE_SQL)).scalar_one()
    engine.dispose()
    return {r[0] for r in rows}, {r[0] for r in rows if _moment(r[1]) > _ago(30)}, in_members, unreadable


def _moment(value: object) -> datetime:
    return datetime.fromisoformat(value) if isinstance(value, str) else value  # SQLite returns text to plain SQL


def related_of(url: str, kids: set[str], filed: set[str]) -> set[str]:
    """Accounts linked by family_of (either way) to `kids`, other than those filed as minors themselves."""
    if not kids:
        return set()
    engine = sa.create_engine(url)
    stmt = sa.text(RELATED_SQL).bindparams(
        sa.bindparam("minors", expanding=True), sa.bindparam("filed", expanding=True)
    )
    with engine.connect() as conn:
        found = {r[0] for r in conn.execute(stmt, {"minors": sorted(kids), "filed": sorted(filed)})}
    engine.dispose()
    return found


@pytest.fixture(params=["sqlite", "postgresql", "mysql"])
def company_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        url, drop = f"sqlite:///{tmp_path / 'company.sqlite'}", (lambda: None)
    else:
        url, drop = create_pg_database() if request.param == "postgresql" else create_mysql_database()
    fill(url)
    yield url
    drop()


def _apply(db: Session, tmp_path: Path, url: str, *, adults_only: bool) -> None:
    from privet.datamap.service import validate_and_apply

    kind = sa.engine.make_url(url).get_backend_name().replace("mariadb", "mysql")
    path = tmp_path / "map" / "app.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(DATAMAP.format(kind=kind, adults_only=str(adults_only).lower()), encoding="utf-8")
    validate_and_apply(db, path, actor="test")
    db.flush()


def _filed_emails(db: Session, keyring: Keyring) -> list[str]:
    from privet.subjects.service import identities_of

    out = []
    for request in db.execute(select(DsrRequest).where(DsrRequest.type == "closure")).scalars():
        subject = db.get(Subject, request.subject_id)
        out += [v.value for v in identities_of(db, keyring, subject) if v.type == "email"][:1]
    return out


@pytest.mark.promise("P27")
def test_pipl_children_without_a_verified_guardian_are_filed_once(
    db: Session, settings: Settings, tmp_path: Path, company_url: str
) -> None:
    from privet.retention import children
    from privet.subjects import ages, guardians
    from privet.subjects.service import get_or_create_subject

    conf = settings.model_copy(update={"secrets": {"app_db": company_url}, "children_grace_days": 30})
    keyring = Keyring.from_settings(conf)
    _apply(db, tmp_path, company_url, adults_only=False)
    minors, fresh, _in_members, unreadable = expected(company_url, 14)
    assert len(minors) >= 10 and fresh
    guarded = sorted(minors - fresh)[:2]  # two children whose guardian Privet verified
    for email in guarded:
        child, _ = get_or_create_subject(db, keyring, "email", email, actor="test")
        ages.set_birth_date(
            db, keyring, child, TODAY.replace(year=TODAY.year - 10), policy=ages.age_policy(db), actor="test"
        )
        parent, _ = get_or_create_subject(db, keyring, "email", f"parent.{email}", actor="test")
        guardians.link_guardian(db, parent, child, "parent", verified_method="sms_code", evidence={}, actor="test")
    subjects_before = db.execute(select(sa.func.count()).select_from(Subject)).scalar_one()

    preview = children.sweep(db, keyring, conf, actor="test", dry_run=True)
    due = minors - fresh - set(guarded)
    related: set[str] = set()  # under PIPL only the child's own data goes (K6), not the accounts linked to theirs
    assert preview["found_in_datastores"] == len(minors)
    assert (preview["filed"], preview["kept_guardian"], preview["within_grace"]) == (len(due), 2, len(fresh))
    assert preview["related_filed"] == len(related) and preview["unreadable"] == unreadable > 0
    assert db.execute(select(DsrRequest)).first() is None  # a dry run writes nothing
    assert db.execute(select(sa.func.count()).select_from(Subject)).scalar_one() == subjects_before

    counts = children.sweep(db, keyring, conf, actor="test")
    assert (counts["filed"], counts["related_filed"]) == (len(due), len(related))
    assert sorted(_filed_emails(db, keyring)) == sorted(due | related)
    again = children.sweep(db, keyring, conf, actor="test")  # idempotent: the open closures are not filed again
    assert again["filed"] == again["related_filed"] == 0 and again["already_open"] == len(due)
    assert len(_filed_emails(db, keyring)) == len(due | related)


@pytest.mark.promise("P27", "P42")
def test_adults_only_closes_every_minor_with_related_accounts(
    db: Session, settings: Settings, tmp_path: Path, company_url: str
) -> None:
    from privet.retention import children

    conf = settings.model_copy(update={"secrets": {"app_db": company_url}})
    keyring = Keyring.from_settings(conf)
    _apply(db, tmp_path, company_url, adults_only=True)
    minors, _, in_members, _ = expected(company_url, 18)
    related = related_of(company_url, in_members, minors)
    assert related, "the generated data has minors with family accounts"
    preview = children.sweep(db, keyring, conf, actor="test", dry_run=True)
    assert (preview["filed"], preview["related_filed"]) == (len(minors), len(related))
    assert db.execute(select(DsrRequest)).first() is None
    counts = children.sweep(db, keyring, conf, actor="test")
    assert (counts["filed"], counts["related_filed"]) == (len(minors), len(related))
    assert sorted(_filed_emails(db, keyring)) == sorted(minors | related)
    assert children.sweep(db, keyring, conf, actor="test")["filed"] == 0
