"""Demo data can never reach a real person: every e-mail address in both demo companies' generated databases uses a
reserved domain and every phone number a range regulators reserve for fiction, so a demo wired to a real SMTP
server or SMS gateway sends nothing to anyone."""

from __future__ import annotations

import re
from pathlib import Path

import phonenumbers
import pytest
from sqlalchemy import create_engine, inspect, select

from privet.demo.generator import fill

EMAIL = re.compile(r"[\w.+-]+@([\w-]+(?:\.[\w-]+)+)")
RESERVED_DOMAINS = ("example.com", "example.net", "example.org")
RESERVED_TLDS = (".example", ".test", ".invalid", ".localhost")
# Ranges reserved for drama and fiction, written out here independently of the generator's own table.
FICTION = (
    re.compile(r"^\+1-\d{3}-555-01\d{2}$"),  # NANPA: 555-0100..0199 in every area code
    re.compile(r"^\+49 (30 23125|69 90009|40 66969|221 4710|89 99998)\d{3}$"),  # Bundesnetzagentur
    re.compile(r"^\+61 [2378] (5550|7010) \d{4}$"),
)  # ACMA
# international numbers and PRC mobile numbers standing on their own (not inside hashes or identifiers)
PHONE_LIKE = re.compile(r"(?<![\w$])\+\d[\d -]{6,}\d(?!\w)|(?<![\w$])1[3-9]\d{9}(?!\w)")
PHONE_COLUMN = re.compile(r"(^|_)(phone|mobile)$")


def _reserved(domain: str) -> bool:
    domain = domain.lower()
    return domain in RESERVED_DOMAINS or domain.endswith(RESERVED_TLDS)


def _fictional(number: str) -> bool:
    return any(p.match(number) for p in FICTION) and phonenumbers.is_valid_number(phonenumbers.parse(number))


def _rows(url: str):
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            meta = inspect(conn)
            from sqlalchemy import MetaData

            md = MetaData()
            md.reflect(conn, only=meta.get_table_names())
            for table in md.sorted_tables:
                for row in conn.execute(select(table)).mappings():
                    for column, value in row.items():
                        if isinstance(value, str):
                            yield table.name, column, value
    finally:
        engine.dispose()


@pytest.mark.parametrize("company", ["keptek", "zkteco"])
def test_generated_contacts_reach_nobody(company: str, tmp_path: Path) -> None:
    urls = f"sqlite:///{tmp_path / 'demo.sqlite'}"
    fill(company, urls, customers=400)
    emails, phones, bad = 0, 0, []
    for table, column, value in _rows(urls):
        for found in EMAIL.finditer(value):
            emails += 1
            if not _reserved(found.group(1)):
                bad.append(f"{table}.{column}: e-mail domain {found.group(1)}")
        if PHONE_COLUMN.search(column):
            phones += 1
            if not _fictional(value):
                bad.append(f"{table}.{column}: {value}")
        else:
            bad += [f"{table}.{column}: phone-like {m}" for m in PHONE_LIKE.findall(value) if not _fictional(m)]
    assert emails > 400 and phones > 400  # the scan saw the people
    assert not bad, "\n".join(bad[:20])


def test_phone_pools_stay_unique_past_the_first_range() -> None:
    """More people than one pool holds: numbers continue in the next reserved range, never repeat or leave them."""
    from privet.demo.fakes import PHONE_RANGES, Fakes

    fakes = Fakes(3)
    german = sum(10**width for _prefix, width in PHONE_RANGES["DE"])
    numbers = [fakes.phone("DE") for _ in range(german + 50)]
    assert len(set(numbers)) == len(numbers) and all(_fictional(n) for n in numbers)
    assert sum(n.startswith("+49") for n in numbers) == german
