"""A help desk whose database keeps people where no column says so (the shapes of FOREIGN-SCHEMAS.md the other
schemas leave out).

Shapes: a trigger on `contacts` copying the old row into `contact_history` on every update and delete (an audit
table written by the database itself, with no foreign key: history outlives contacts); identities inside a JSON
column (`web_forms.payload`, the e-mail as the person typed it into a web form) and inside free-text notes
(`call_notes.note`, written by agents: "called back on …"); contacts' e-mails in mixed case, phones as typed.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta

import sqlalchemy as sa
from faker import Faker
from sqlalchemy import JSON, Column, DateTime, Integer, String, Table, Text

from tests.conformance.schemas import Person, column, dialect, erase, keys

REGION = "CN"
PEOPLE = 6
META = sa.MetaData()
Table("contacts", META, Column("contact_id", Integer, primary_key=True), Column("email", String(120)),
      Column("full_name", String(60)), Column("phone", String(24)), Column("updated_at", DateTime))
Table("contact_history", META, Column("history_id", Integer, primary_key=True),
      Column("contact_id", Integer, nullable=False), Column("email", String(120)), Column("full_name", String(60)),
      Column("changed_at", DateTime))
Table("web_forms", META, Column("form_id", Integer, primary_key=True), Column("received_at", DateTime),
      Column("payload", JSON))
Table("call_notes", META, Column("note_id", Integer, primary_key=True), Column("agent", String(40)),
      Column("noted_at", DateTime), Column("note", Text))
_COPY = ("INSERT INTO contact_history (contact_id, email, full_name, changed_at) "
         "VALUES (OLD.contact_id, OLD.email, OLD.full_name, {now})")
TRIGGERS = {
    "sqlite": [f"CREATE TRIGGER contacts_audit_{e.lower()} AFTER {e} ON contacts BEGIN "
               f"{_COPY.format(now='CURRENT_TIMESTAMP')}; END" for e in ("UPDATE", "DELETE")],
    "postgresql": [(f"CREATE FUNCTION contacts_audit() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
                    f"{_COPY.format(now='now()')}; RETURN NULL; END $$"),
                   ("CREATE TRIGGER contacts_audit AFTER UPDATE OR DELETE ON contacts FOR EACH ROW "
                    "EXECUTE FUNCTION contacts_audit()")],
    "mariadb": [f"CREATE TRIGGER contacts_audit_{e.lower()} AFTER {e} ON contacts FOR EACH ROW "
                f"{_COPY.format(now='NOW()')}" for e in ("UPDATE", "DELETE")],
}
TABLES = ("contacts", "contact_history", "web_forms", "call_notes")
PERSONAL = {"contacts": ("email", "full_name", "phone"), "contact_history": ("email", "full_name"),
            "web_forms": ("payload",), "call_notes": ("note",)}
CREDENTIALS: dict[str, tuple[str, ...]] = {}
PHONES = ("{a} {b} {c}", "+86 {a}{b}{c}", "{a}-{b}-{c}", "0086{a}{b}{c}", "{a}{b}{c}", "+86-{a}-{b}-{c}")


def create(url: str) -> list[Person]:
    """Six contacts (three changed their e-mail once before), web forms and agents' call notes."""
    fake = Faker("zh_CN")
    fake.seed_instance(1205)
    latin = Faker("en_US")
    latin.seed_instance(1205)
    engine = sa.create_engine(url)
    t = META.tables
    try:
        with engine.begin() as conn:
            META.create_all(conn)
            people, contacts, history, forms, notes = [], [], [], [], []
            stamp = datetime(2024, 3, 1, 9)
            for n in range(1, PEOPLE + 1):
                email, name, mobile = latin.unique.email(), fake.unique.name(), fake.unique.phone_number()
                parts = {"a": mobile[:3], "b": mobile[3:7], "c": mobile[7:]}
                contacts.append({"contact_id": n, "email": email.capitalize(), "full_name": name,
                                 "phone": PHONES[n % len(PHONES)].format(**parts),
                                 "updated_at": stamp + timedelta(days=n)})
                if n % 2:  # an earlier e-mail address, copied by the trigger when it was changed
                    history.append({"contact_id": n, "email": latin.unique.email(), "full_name": name,
                                    "changed_at": stamp + timedelta(days=n, hours=-1)})
                people.append(Person(f"contact {n}", {"email": email.lower(), "phone": f"+86 {mobile}"},
                                     {"contact_id": n, "email": email.lower(), "mobile": mobile}))
                forms.append({"form_id": len(forms) + 1, "received_at": stamp + timedelta(days=n, hours=2),
                              "payload": {"email": f" {email.upper()} ", "name": name,
                                          "message": fake.sentence(nb_words=8)}})
                if n % 3 != 1:
                    notes.append({"note_id": len(notes) + 1, "agent": latin.first_name(),
                                  "noted_at": stamp + timedelta(days=n, hours=3),
                                  "note": f"客户来电询问退款，已回电 {parts['a']} {parts['b']} {parts['c']}，"
                                          f"确认邮箱 {email}"})
            forms.append({"form_id": len(forms) + 1, "received_at": stamp,
                          "payload": {"email": latin.unique.email(), "name": fake.unique.name(),
                                      "message": fake.sentence(nb_words=8)}})  # someone who is no contact
            notes.append({"note_id": len(notes) + 1, "agent": latin.first_name(), "noted_at": stamp,
                          "note": f"未接通，稍后回电 {fake.unique.phone_number()}"})
            conn.execute(t["contacts"].insert(), contacts)
            conn.execute(t["contact_history"].insert(), history)  # ids from the sequence: the trigger's come next
            conn.execute(t["web_forms"].insert(), forms)
            conn.execute(t["call_notes"].insert(), notes)
            for statement in TRIGGERS[dialect(conn)]:
                conn.exec_driver_sql(statement)
        return people
    finally:
        engine.dispose()


def edits(draft: dict) -> dict:
    """What the help desk changes in the draft after reading it."""
    # The web form's JSON and the agents' notes mention people's e-mails and phone numbers somewhere in them:
    # declared as identities matched by `contains` (any of the person's e-mails and phones, standing on its own).
    for table, name in (("web_forms", "payload"), ("call_notes", "note")):
        column(draft, table, name).update(category="user.communication.support", identity="email", match="contains")
    for name in ("contacts", "contact_history", "web_forms", "call_notes"):
        erase(draft, name, "delete_row")
    return draft


def _mine(row: tuple, person: Person) -> bool:
    """A form whose JSON names the person's e-mail (compared as a person reads it: case and spaces aside)."""
    payload = json.loads(row[1]) if isinstance(row[1], str) else row[1]
    return str((payload or {}).get("email", "")).strip().lower() == person.ids["email"]


def truth(conn: sa.Connection, person: Person) -> dict[str, set[tuple]]:
    """The contact, their history (by id, and by any e-mail they had), the web forms whose JSON holds their
    e-mail, and the call notes that name their e-mail or mobile number."""
    cid, email, mobile = person.ids["contact_id"], person.ids["email"], person.ids["mobile"]
    spaced = f"%{mobile[:3]} {mobile[3:7]} {mobile[7:]}%"
    forms = conn.execute(sa.text("SELECT form_id, payload FROM web_forms")).all()
    return {
        "contacts": keys(conn, "SELECT contact_id FROM contacts WHERE contact_id = :c", c=cid),
        "contact_history": keys(conn, "SELECT history_id FROM contact_history WHERE contact_id = :c "
                                      "OR lower(trim(email)) = :e", c=cid, e=email),
        "web_forms": {(str(row[0]),) for row in forms if _mine(tuple(row), person)},
        "call_notes": keys(conn, "SELECT note_id FROM call_notes WHERE lower(note) LIKE :e OR note LIKE :m",
                           e=f"%{email}%", m=spaced),
    }


def kept(conn: sa.Connection, person: Person) -> dict[str, dict[tuple, str]]:
    """Nothing."""
    return {}
