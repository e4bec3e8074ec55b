"""A CRM's accounts (like the account schemas CRM products and Fides' sample datasets describe).

Shapes: households shared by several accounts (and one owned by a single account); the same person under an
e-mail in `accounts` and a mobile number in `sms_subscribers` (an `msisdn` column scaffold does not recognise),
with no reference between them (both identities are needed); user ids as integers in `accounts` and as text in `login_events`; credentials beside personal data
(password hashes, TOTP seeds, recovery codes, a security answer, API tokens); a many-to-many account ↔ group join table; child rows
three levels down (ticket → message → attachment); the support agent assigned to a ticket (another person); a
`deleted_at` soft delete (one account is soft-deleted and must still be found and erased); a view over the
accounts table; a postcode column too small for a whole address.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta

import sqlalchemy as sa
from faker import Faker
from sqlalchemy import Column, DateTime, ForeignKey, Integer, String, Table, Text

from tests.conformance.schemas import SHARED, Person, column, erase, keys

REGION = "CN"
PEOPLE = 8
META = sa.MetaData()
Table("households", META, Column("household_id", Integer, primary_key=True),
      Column("family_name", String(40)), Column("street", String(80)), Column("city", String(40)),
      Column("postcode", String(6)))
Table("agents", META, Column("agent_id", Integer, primary_key=True), Column("full_name", String(60), nullable=False),
      Column("email", String(120), nullable=False))
Table("accounts", META, Column("account_id", Integer, primary_key=True),
      Column("email", String(120), nullable=False), Column("display_name", String(60)),
      Column("household_id", Integer, ForeignKey("households.household_id")),
      Column("password_hash", String(100)), Column("totp_seed", String(32)), Column("recovery_codes", String(200)),
      Column("security_answer", String(100)),
      Column("created_at", DateTime, nullable=False), Column("deleted_at", DateTime))
Table("api_tokens", META, Column("token_id", Integer, primary_key=True),
      Column("account_id", Integer, ForeignKey("accounts.account_id"), nullable=False),
      Column("token", String(64), nullable=False), Column("label", String(40)))
Table("user_groups", META, Column("group_id", Integer, primary_key=True), Column("name", String(40), nullable=False))
Table("account_groups", META,
      Column("account_id", Integer, ForeignKey("accounts.account_id"), primary_key=True, autoincrement=False),
      Column("group_id", Integer, ForeignKey("user_groups.group_id"), primary_key=True, autoincrement=False),
      Column("joined_at", DateTime))
Table("tickets", META, Column("ticket_id", Integer, primary_key=True),
      Column("account_id", Integer, ForeignKey("accounts.account_id"), nullable=False),
      Column("assigned_agent_id", Integer, ForeignKey("agents.agent_id")),
      Column("subject", String(120)), Column("opened_at", DateTime, nullable=False))
Table("ticket_messages", META, Column("message_id", Integer, primary_key=True),
      Column("ticket_id", Integer, ForeignKey("tickets.ticket_id"), nullable=False),
      Column("body", Text), Column("sent_at", DateTime, nullable=False))
Table("attachments", META, Column("attachment_id", Integer, primary_key=True),
      Column("message_id", Integer, ForeignKey("ticket_messages.message_id"), nullable=False),
      Column("filename", String(120), nullable=False), Column("size_bytes", Integer))
Table("sms_subscribers", META, Column("subscriber_id", Integer, primary_key=True),
      Column("msisdn", String(20), nullable=False), Column("list_name", String(40)),
      Column("opted_in_at", DateTime))
Table("login_events", META, Column("event_id", Integer, primary_key=True),
      Column("user_id", String(20), nullable=False),  # the account id, written as text by another service
      Column("ip_address", String(45)), Column("at", DateTime, nullable=False))
VIEW = ("CREATE VIEW active_accounts AS SELECT account_id, email, display_name FROM accounts "
        "WHERE deleted_at IS NULL")
TABLES = ("households", "agents", "accounts", "api_tokens", "user_groups", "account_groups", "tickets",
          "ticket_messages", "attachments", "sms_subscribers", "login_events")
PERSONAL = {
    "households": ("family_name", "street", "city", "postcode"),
    "agents": ("full_name", "email"),
    "accounts": ("email", "display_name", "password_hash", "totp_seed", "recovery_codes", "security_answer"),
    "api_tokens": ("token", "label"),
    "account_groups": ("account_id",),
    "tickets": ("subject",),
    "ticket_messages": ("body",),
    "attachments": ("filename",),
    "sms_subscribers": ("msisdn",),
    "login_events": ("user_id", "ip_address"),
}
CREDENTIALS = {"accounts": ("password_hash", "totp_seed", "recovery_codes", "security_answer"),
               "api_tokens": ("token",)}
STORED_PHONES = ("{a}{b}{c}", "+86 {a} {b} {c}", "{a}-{b}-{c}", "0086{a}{b}{c}", "+86-{a}{b}{c}", "86 {a} {b} {c}")


def _hex(rng: random.Random, size: int) -> str:
    """`size` random bytes as hex, from the seeded generator (secrets that look real, the same every run)."""
    return f"{rng.getrandbits(8 * size):0{2 * size}x}"


def create(url: str) -> list[Person]:
    """Eight accounts (three in one household, one household of one), two agents, groups and tickets."""
    fake = Faker("zh_CN")
    fake.seed_instance(1204)
    latin = Faker("en_US")
    latin.seed_instance(1204)
    rng = random.Random(1204)
    engine = sa.create_engine(url)
    t = META.tables
    try:
        with engine.begin() as conn:
            META.create_all(conn)
            conn.exec_driver_sql(VIEW)
            conn.execute(t["households"].insert(), [
                {"household_id": n, "family_name": fake.unique.last_name() + "家", "street": fake.unique.street_address(),
                 "city": fake.city_name(), "postcode": fake.postcode()} for n in (1, 2, 3)])
            conn.execute(t["agents"].insert(), [{"agent_id": n, "full_name": fake.unique.name(),
                                                 "email": latin.unique.user_name() + "@crm.example.com"}
                                                for n in (1, 2)])
            conn.execute(t["user_groups"].insert(), [{"group_id": n, "name": name} for n, name in
                                                     ((1, "beta testers"), (2, "newsletter"), (3, "vip"))])
            # accounts 1–3 share household 1; account 4 alone in household 2; household 3 is nobody's here
            household = {1: 1, 2: 1, 3: 1, 4: 2, 5: None, 6: None, 7: None, 8: None}
            people, accounts, tokens, groups, tickets, messages, files, sms, logins = ([] for _ in range(9))
            stamp = datetime(2023, 2, 1, 8)
            for n in range(1, PEOPLE + 1):
                account_id = 1000 + 7 * n
                email = latin.unique.email()
                accounts.append({"account_id": account_id, "email": email if n % 2 else email.upper(),
                                 "display_name": fake.unique.name(), "household_id": household[n],
                                 "password_hash": "$argon2id$v=19$m=65536,t=3,p=4$" + _hex(rng, 24),
                                 "totp_seed": _hex(rng, 10).upper(),
                                 "recovery_codes": " ".join(_hex(rng, 4) for _ in range(4)),
                                 "security_answer": "$argon2id$v=19$m=65536,t=3,p=4$" + _hex(rng, 16),
                                 "created_at": stamp + timedelta(days=n),
                                 "deleted_at": stamp + timedelta(days=90) if n == 6 else None})
                identities = {"email": email.lower()}
                if n <= 6:  # the SMS list knows them only by their mobile number
                    mobile = fake.unique.phone_number()
                    parts = {"a": mobile[:3], "b": mobile[3:7], "c": mobile[7:]}
                    sms.append({"subscriber_id": len(sms) + 1, "list_name": "promotions",
                                "msisdn": STORED_PHONES[n % len(STORED_PHONES)].format(**parts),
                                "opted_in_at": stamp + timedelta(days=n)})
                    identities["phone"] = f"+86{mobile}"
                identities["user_id"] = str(account_id)  # as the profile page shows it
                people.append(Person(f"account {n}", identities, {"account_id": account_id}))
                for _ in range(1 + n % 2):
                    tokens.append({"token_id": len(tokens) + 1, "account_id": account_id,
                                   "token": "pat_" + _hex(rng, 20), "label": f"{latin.word()} script"})
                for group in rng.sample([1, 2, 3], 1 + n % 3):
                    groups.append({"account_id": account_id, "group_id": group, "joined_at": stamp})
                for _ in range(n % 3):
                    ticket = len(tickets) + 1
                    tickets.append({"ticket_id": ticket, "account_id": account_id,
                                    "assigned_agent_id": 1 + ticket % 2, "subject": fake.sentence(nb_words=6),
                                    "opened_at": stamp + timedelta(days=ticket)})
                    for _ in range(2):
                        message = len(messages) + 1
                        messages.append({"message_id": message, "ticket_id": ticket, "body": fake.paragraph(),
                                         "sent_at": stamp + timedelta(days=ticket, hours=message)})
                        if message % 2:
                            files.append({"attachment_id": len(files) + 1, "message_id": message,
                                          "filename": f"{latin.unique.file_name(extension='png')}",
                                          "size_bytes": 1000 * message})
                for _ in range(2):
                    logins.append({"event_id": len(logins) + 1, "user_id": str(account_id),
                                   "ip_address": latin.ipv4_public(), "at": stamp + timedelta(hours=len(logins))})
            sms.append({"subscriber_id": len(sms) + 1, "msisdn": fake.unique.phone_number(), "list_name": "promotions",
                        "opted_in_at": stamp})  # someone with no account
            for name, rows in (("accounts", accounts), ("api_tokens", tokens), ("account_groups", groups),
                               ("tickets", tickets), ("ticket_messages", messages), ("attachments", files),
                               ("sms_subscribers", sms), ("login_events", logins)):
                conn.execute(t[name].insert(), rows)
        return people
    finally:
        engine.dispose()


def edits(draft: dict) -> dict:
    """What the CRM's owners change in the draft after reading it."""
    # Scaffold drafts the household as the account holder's own (owns), the MSISDN as a phone identity and the
    # recovery codes as a secret. Another service writes the account id as text under a name no table is called
    # after, so no reference could be inferred: say what it is.
    column(draft, "login_events", "user_id").update(references="accounts.account_id", relation="belongs_to")
    for name in ("accounts", "api_tokens", "account_groups", "tickets", "ticket_messages", "attachments",
                 "sms_subscribers", "login_events", "households"):
        erase(draft, name, "delete_row")
    return draft


def truth(conn: sa.Connection, person: Person) -> dict[str, set[tuple]]:
    """The account, its household, tokens, groups, tickets with their messages and attachments, logins (by the
    id written as text) and the SMS subscription with their mobile number (compared by its digits)."""
    account = person.ids["account_id"]
    mobile = person.identities.get("phone")
    sms: set[tuple] = set()
    if mobile:
        national = mobile.removeprefix("+86")
        # the number compared by its digits, as the SMS gateway wrote it (national, +86, 0086…)
        sms = {row[:1] for row in keys(conn, "SELECT subscriber_id, msisdn FROM sms_subscribers")
               if "".join(ch for ch in row[1] if ch.isdigit()).endswith(national)}
    return {
        "accounts": keys(conn, "SELECT account_id FROM accounts WHERE account_id = :a", a=account),
        "households": keys(conn, "SELECT h.household_id FROM households h JOIN accounts a "
                                 "ON a.household_id = h.household_id WHERE a.account_id = :a", a=account),
        "api_tokens": keys(conn, "SELECT token_id FROM api_tokens WHERE account_id = :a", a=account),
        "account_groups": keys(conn, "SELECT account_id, group_id FROM account_groups WHERE account_id = :a",
                               a=account),
        "tickets": keys(conn, "SELECT ticket_id FROM tickets WHERE account_id = :a", a=account),
        "ticket_messages": keys(conn, "SELECT m.message_id FROM ticket_messages m JOIN tickets t "
                                      "ON t.ticket_id = m.ticket_id WHERE t.account_id = :a", a=account),
        "attachments": keys(conn, "SELECT f.attachment_id FROM attachments f "
                                  "JOIN ticket_messages m ON m.message_id = f.message_id "
                                  "JOIN tickets t ON t.ticket_id = m.ticket_id WHERE t.account_id = :a", a=account),
        "login_events": keys(conn, "SELECT event_id FROM login_events WHERE user_id = :a", a=str(account)),
        "sms_subscribers": sms,
    }


def kept(conn: sa.Connection, person: Person) -> dict[str, dict[tuple, str]]:
    """Their household while another account lives in it."""
    shared = keys(conn, "SELECT a.household_id FROM accounts a WHERE a.account_id = :a AND EXISTS "
                        "(SELECT 1 FROM accounts o WHERE o.household_id = a.household_id AND o.account_id <> :a)",
                  a=person.ids["account_id"])
    return {"households": dict.fromkeys(shared, SHARED)}
