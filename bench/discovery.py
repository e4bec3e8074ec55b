"""Discovery precision, recall and speed (issue 17): Privet's classifier against Presidio on one labelled data set.

The data set is generated (Faker zh_CN and en_US, identifiers built with valid checksums, and near misses: wrong
checksums, 17-digit numbers, order numbers shaped like phones, Unix and millisecond timestamps, snowflake ids),
laid out in columns with honest names (``mobile``), misleading names (``order_ref`` holding phones, ``id_card``
holding 17-digit numbers) and meaningless names (``c12``), plus free text with embedded identifiers, JSON
documents, binary data, broken JSON and empty columns. Printed: per category precision, recall and F2 on single
values (a value's truth is the set of categories it holds; dates of birth, single latitude/longitude values and
bare 9-digit passports need their column to be recognised and are judged at column level only), column-level
accuracy (the column's category; for JSON the key paths and their categories; for bad columns a skip reason),
and values per second.

Presidio runs in the same process on the same values (as text) when it is installed:
``pip install presidio-analyzer`` (the script installs nothing; without it the comparison is skipped with the
reason printed). It runs with a blank spaCy pipeline (``spacy.blank("en")``: nothing is downloaded, so no NER
person/location), its default recognizers, one added PRC resident ID regex recognizer (for fairness: Presidio
has none) and a score threshold of 0.4 (its phone recognizer scores 0.4; lower scores are its unvalidated
guesses). Its entities map to taxonomy categories (EMAIL_ADDRESS -> e-mail, PHONE_NUMBER -> phone, CREDIT_CARD
-> payment card, IBAN_CODE/US_BANK_NUMBER -> bank account, IP_ADDRESS -> IP, US_SSN/PRC_RESIDENT_ID -> national
ID, US_PASSPORT -> passport, PERSON -> name, LOCATION -> address); other entities are ignored.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from types import SimpleNamespace

from faker import Faker
from stdnum import iban as iban_check
from stdnum import luhn
from stdnum.cn import uscc

from privet.datamap.discover import recognizers as r
from privet.datamap.discover.classify import classify_column
from privet.datamap.discover.recognizers import recognize
from privet.datamap.discover.text import (
    InvalidDocument,
    as_document,
    embedded_categories,
    leaves,
    looks_like_json,
    looks_like_text,
)

TARGETS = {"f2": 0.95, "column_accuracy": 0.98, "speed_ratio": 20.0}
CHINESE_IDENTIFIERS = (r.NATIONAL_ID, r.CREDIT_CODE)
USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"


@dataclass
class Column:
    """One generated column: its values, the truth for the column and for each value."""

    name: str
    naming: str  # honest, misleading, meaningless
    values: list[object]
    truth: str | None
    labels: list[frozenset[str]]
    json_truth: dict[str, str] | None = None
    skip: bool = False
    kind: str = ""
    extra: dict[str, object] = field(default_factory=dict)


class Maker:
    """Values of every kind, valid and near-miss, from one seed."""

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        self.zh, self.en = Faker("zh_CN"), Faker("en_US")
        self.zh.seed_instance(seed)
        self.en.seed_instance(seed + 1)
        self.de = Faker("de_DE")
        self.de.seed_instance(seed + 2)

    def digits(self, count: int) -> str:
        return "".join(self.rng.choice("0123456789") for _ in range(count))

    def ric(self) -> str:
        return self.zh.ssn()

    def bad_ric(self) -> str:
        number = self.ric()
        wrong = self.rng.choice([d for d in "0123456789X" if d != number[-1]])
        return number[:-1] + wrong

    def uscc(self) -> str:
        body = (
            self.rng.choice(["91", "92", "93", "11", "51", "52"])
            + self.zh.ssn()[:6]
            + "".join(self.rng.choice(USCC_ALPHABET) for _ in range(9))
        )
        return body + uscc.calc_check_digit(body)

    def bad_uscc(self) -> str:
        code = self.uscc()
        return code[:-1] + self.rng.choice([c for c in USCC_ALPHABET if c != code[-1]])

    def imei(self) -> str:
        body = self.rng.choice(["35", "86", "01", "99"]) + self.digits(12)
        return body + luhn.calc_check_digit(body)

    def bad_luhn(self, number: str) -> str:
        return number[:-1] + str((int(number[-1]) + self.rng.randint(1, 9)) % 10)

    def iban(self) -> str:
        return self.rng.choice([self.en.iban, self.de.iban])()

    def bad_iban(self) -> str:
        code = self.iban()
        checks = (int(code[2:4]) + self.rng.randint(1, 90)) % 100
        bad = f"{code[:2]}{checks:02d}{code[4:]}"
        return bad if not iban_check.is_valid(bad) else bad[:-1] + str((int(bad[-1]) + 1) % 10)

    def phone_like_order(self) -> str:
        return self.rng.choice(["10", "11", "12"]) + self.digits(9)

    def order_number(self) -> str:
        day = datetime(2024, 1, 1) + timedelta(days=self.rng.randint(0, 500))
        return day.strftime("%Y%m%d") + self.digits(self.rng.choice([6, 8, 10]))

    def prefixed_order(self) -> str:
        return self.rng.choice(["SO", "PO", "DN", "INV"]) + self.rng.choice(["2024", "2025"]) + self.digits(4)

    def unix(self) -> str:
        return str(self.rng.randint(1_500_000_000, 1_760_000_000))

    def unix_ms(self) -> str:
        return str(self.rng.randint(1_500_000_000_000, 1_760_000_000_000))

    def snowflake(self) -> str:
        return str(self.rng.randint(10**18, 2 * 10**18))

    def compact_time(self) -> str:
        return (datetime(2023, 1, 1) + timedelta(seconds=self.rng.randint(0, 50_000_000))).strftime("%Y%m%d%H%M%S")

    def passport(self) -> str:
        if self.rng.random() < 0.3:
            return "E" + self.rng.choice("ABCDEFGHJKLMNPQRSTUVWXYZ") + self.digits(7)
        return self.rng.choice("EGDSP") + self.digits(8)

    def intl_phone(self) -> str:
        prefix, count = self.rng.choice(
            [("+86 138", 8), ("+44 7911", 6), ("+49 1512", 7), ("+1 415", 7), ("0086-139", 8), ("+852 9", 7)]
        )
        number = self.digits(count)
        return f"{prefix} {number[: count - 4]} {number[-4:]}" if self.rng.random() < 0.5 else f"{prefix}{number}"

    def coordinates(self) -> str:
        return f"{self.rng.uniform(18, 53):.6f},{self.rng.uniform(73, 135):.6f}"

    def bad_email(self) -> str:
        user = self.en.user_name()
        return self.rng.choice([f"{user}@localhost", f"{user} at example dot com", f"@{user}", f"{user}@"])


def _value_kinds(m: Maker) -> dict[str, tuple[str | None, Callable[[], object], str, str, bool]]:
    """kind -> (category, value maker, honest name, misleading name, judged per value)."""
    zh, en, rng = m.zh, m.en, m.rng
    return {
        "email": (r.EMAIL, lambda: rng.choice([en.email, zh.email, en.company_email])(), "email", "remark", True),
        "cn_mobile": (r.PHONE, zh.phone_number, "mobile", "order_ref", True),
        "en_phone": (r.PHONE, en.phone_number, "phone", "notes", True),
        "intl_phone": (r.PHONE, m.intl_phone, "tel", "version", True),
        "ric": (r.NATIONAL_ID, m.ric, "id_card", "ref", True),
        "uscc": (r.CREDIT_CODE, m.uscc, "credit_code", "batch_no", True),
        "card": (r.PAYMENT_CARD, en.credit_card_number, "card_no", "sku", True),
        "iban": (r.BANK_ACCOUNT, m.iban, "iban", "tracking_code", True),
        "imei": (r.DEVICE_ID, m.imei, "imei", "serial_batch", True),
        "mac": (r.MAC, en.mac_address, "mac", "checksum", True),
        "ip": (r.IP, lambda: rng.choice([en.ipv4_public, en.ipv6, en.ipv4])(), "client_ip", "host_label", True),
        "coordinates": (r.PRECISE_LOCATION, m.coordinates, "geo", "extent", True),
        "passport": (r.PASSPORT, m.passport, "passport_no", "voucher", True),
        "dob": (
            r.DATE_OF_BIRTH,
            lambda: rng.choice([en.date_of_birth, lambda: str(en.date_of_birth())])(),
            "birthday",
            "remark_2",
            False,
        ),
        "zh_name": (r.NAME, zh.name, "姓名", "label", True),
        "en_name": (r.NAME, en.name, "full_name", "title", True),
        "zh_address": (r.ADDRESS, zh.address, "收货地址", "memo", True),
        "en_address": (r.ADDRESS, en.address, "address", "description", True),
        # near misses and plain business data: no personal data
        "bad_ric": (None, m.bad_ric, "id_card", "ref", True),
        "ric17": (None, lambda: m.ric()[:17], "id_no", "ref", True),
        "bad_card": (None, lambda: m.bad_luhn(en.credit_card_number()), "card_no", "sku", True),
        "bad_uscc": (None, m.bad_uscc, "credit_code", "batch_no", True),
        "bad_iban": (None, m.bad_iban, "iban", "tracking_code", True),
        "bad_imei": (None, lambda: m.bad_luhn(m.imei()), "imei", "serial_batch", True),
        "phone_like_order": (None, m.phone_like_order, "order_no", "mobile", True),
        "order_number": (None, m.order_number, "order_no", "phone", True),
        "prefixed_order": (None, m.prefixed_order, "order_no", "ref", True),
        "unix": (None, m.unix, "created_ts", "id_card", True),
        "unix_ms": (None, m.unix_ms, "event_ms", "card_no", True),
        "snowflake": (None, m.snowflake, "event_id", "id_card", True),
        "compact_time": (None, m.compact_time, "logged", "phone", True),
        "bad_email": (None, m.bad_email, "contact", "email", True),
        "uuid": (None, en.uuid4, "request_id", "device_id", True),
        "price": (None, lambda: f"{rng.uniform(1, 9999):.2f}", "price", "lat", True),
        "zh_word": (None, zh.word, "tag", "姓名", True),
        "company": (None, lambda: rng.choice([en.company, zh.company])(), "company", "name", True),
        "job": (None, lambda: rng.choice([en.job, zh.job])(), "job", "full_name", True),
        "city": (None, lambda: rng.choice([en.city, zh.city])(), "city", "address", True),
        "phrase": (None, en.catch_phrase, "slogan", "addr", True),
        "created": (None, lambda: en.date_between("-3y"), "created_on", "c_date", False),
        "event_time": (None, lambda: en.date_time_between("-2y"), "event_time", "dob", False),
        "status": (
            None,
            lambda: rng.choice(["paid", "shipped", "已发货", "待付款", "refunded"]),
            "status",
            "name",
            True,
        ),
        "version": (
            None,
            lambda: f"{rng.randint(1, 12)}.{rng.randint(0, 20)}.{rng.randint(0, 99)}",
            "version",
            "ip",
            True,
        ),
    }


def _texts(m: Maker) -> dict[str, tuple[str | None, Callable[[], tuple[str, frozenset[str]]]]]:
    zh, en, rng = m.zh, m.en, m.rng

    def sometimes(chance: float, make: Callable[[], tuple[str, str]], base: Callable[[], str]):
        def value() -> tuple[str, frozenset[str]]:
            if rng.random() < chance:
                text, category = make()
                return text, frozenset((category,))
            return base(), frozenset()

        return value

    def support() -> tuple[str, frozenset[str]]:
        found, parts = set(), [zh.sentence()]
        if rng.random() < 0.6:
            parts.append(f"身份证号{m.ric()}")
            found.add(r.NATIONAL_ID)
        if rng.random() < 0.3:
            parts.append(f"卡号 {en.credit_card_number()}")
            found.add(r.PAYMENT_CARD)
        rng.shuffle(parts)
        return "，".join(parts), frozenset(found)

    return {
        "notes_phone": (
            r.PHONE,
            sometimes(0.6, lambda: (f"{zh.sentence()}请联系{zh.phone_number()}。", r.PHONE), zh.sentence),
        ),
        "comments_email": (
            r.EMAIL,
            sometimes(0.5, lambda: (f"{en.sentence()} Write to {en.email()} please.", r.EMAIL), en.paragraph),
        ),
        "access_log": (
            r.IP,
            sometimes(1.0, lambda: (f"login from {en.ipv4_public()} at {en.date_time()}", r.IP), en.sentence),
        ),
        "support_ids": (r.NATIONAL_ID, support),
        "order_log": (
            None,
            sometimes(
                0.0,
                lambda: ("", ""),
                lambda: (
                    f"订单号{m.order_number()}已发货，时间戳{m.unix_ms()}，运单{m.phone_like_order()}，{zh.sentence()}"
                ),
            ),
        ),
    }


def _documents(m: Maker) -> dict[str, tuple[dict[str, str], Callable[[], object]]]:
    zh, en, rng = m.zh, m.en, m.rng
    return {
        "profile": (
            {"name": r.NAME, "contact.email": r.EMAIL, "contact.phone": r.PHONE, "address": r.ADDRESS},
            lambda: {
                "name": rng.choice([zh.name, en.name])(),
                "tags": [zh.word(), en.word()],
                "contact": {"email": en.email(), "phone": zh.phone_number()},
                "address": zh.address(),
                "score": rng.randint(0, 100),
            },
        ),
        "order": (
            {"buyer.id_no": r.NATIONAL_ID, "buyer.devices[]": r.DEVICE_ID},
            lambda: json.dumps(
                {
                    "sku": en.bothify("??-####"),
                    "ts": int(m.unix()),
                    "buyer": {"id_no": m.ric(), "devices": [m.imei() for _ in range(2)]},
                    "items": [{"qty": rng.randint(1, 5), "price": round(rng.uniform(1, 99), 2)}],
                },
                ensure_ascii=False,
            ),
        ),
        "event": (
            {},
            lambda: {
                "event": rng.choice(["click", "view"]),
                "ts": int(m.unix()),
                "order": m.order_number(),
                "page": en.uri_path(),
            },
        ),
    }


def generate(rows: int = 100, seed: int = 17, copies: int = 1) -> list[Column]:
    """The labelled columns: every kind under an honest, a misleading and a meaningless name."""
    columns: list[Column] = []
    serial = 0
    for copy in range(copies):
        m = Maker(seed + copy * 1000)
        for kind, (category, make, honest, misleading, per_value) in _value_kinds(m).items():
            for naming, name in (("honest", honest), ("misleading", misleading), ("meaningless", None)):
                serial += 1
                values = [make() for _ in range(rows)]
                label = frozenset((category,)) if category and per_value else frozenset()
                labels = [label if _valid(kind, value) else frozenset() for value in values]
                columns.append(Column(name or f"c{serial}", naming, values, category, labels, kind=kind))
        for kind, (category, make_text) in _texts(m).items():
            for naming, name in (("honest", "remark"), ("meaningless", None)):
                serial += 1
                pairs = [make_text() for _ in range(rows)]
                columns.append(
                    Column(
                        name or f"c{serial}", naming, [p[0] for p in pairs], category, [p[1] for p in pairs], kind=kind
                    )
                )
        for kind, (keys, make_document) in _documents(m).items():
            serial += 1
            documents = [make_document() for _ in range(rows)]
            columns.append(
                Column(
                    f"c{serial}" if copy else kind,
                    "meaningless" if copy else "honest",
                    documents,
                    None,
                    [frozenset(keys.values())] * rows,
                    json_truth=keys,
                    kind=kind,
                )
            )
        columns.append(
            Column(
                "c_latitude" if copy else "latitude",
                "honest",
                [f"{m.rng.uniform(18, 53):.6f}" for _ in range(rows)],
                r.PRECISE_LOCATION,
                [frozenset()] * rows,
                kind="latitude",
            )
        )
        columns.append(
            Column(
                "passport",
                "honest",
                [m.digits(9) for _ in range(rows)],
                r.PASSPORT,
                [frozenset()] * rows,
                kind="passport_digits",
            )
        )
        for kind, values in (
            ("binary", [bytes(m.rng.randrange(256) for _ in range(16)) for _ in range(rows)]),
            ("broken_json", ['{"name": "' + m.en.word() for _ in range(rows)]),
            ("empty", [None, ""] * (rows // 2)),
        ):
            columns.append(
                Column(f"c_{kind}", "meaningless", values, None, [frozenset()] * len(values), skip=True, kind=kind)
            )
    return columns


def _valid(kind: str, value: object) -> bool:
    """Faker's Chinese mobiles include 149 data-only numbers, which are not telephone numbers."""
    return not (kind == "cn_mobile" and str(value).startswith("149"))


def privet_detect(value: object) -> set[str]:
    """What Privet finds in one value with no column context (the per-value judgement)."""
    if looks_like_json(value):
        try:
            document = as_document(value)
        except InvalidDocument:
            return set()
        found: set[str] = set()
        for _path, leaf in leaves(document):
            found |= privet_detect(str(leaf))
        return found
    text = str(value).strip()
    recognizer = recognize(text)
    if recognizer is not None:
        return {recognizer.category}
    return embedded_categories(text) if looks_like_text(text) else set()


PRESIDIO_MAP = {
    "EMAIL_ADDRESS": r.EMAIL,
    "PHONE_NUMBER": r.PHONE,
    "CREDIT_CARD": r.PAYMENT_CARD,
    "IBAN_CODE": r.BANK_ACCOUNT,
    "US_BANK_NUMBER": r.BANK_ACCOUNT,
    "IP_ADDRESS": r.IP,
    "US_SSN": r.NATIONAL_ID,
    "PRC_RESIDENT_ID": r.NATIONAL_ID,
    "US_PASSPORT": r.PASSPORT,
    "PERSON": r.NAME,
    "LOCATION": r.ADDRESS,
}


def presidio_detector() -> tuple[Callable[[str], set[str]] | None, str]:
    """Presidio with a blank spaCy pipeline and an added PRC resident ID recognizer, or the reason it is missing."""
    here = Path(__file__).resolve().parent  # bench/requests.py would shadow the requests package Presidio uses
    sys.path[:] = [entry for entry in sys.path if Path(entry or ".").resolve() != here]
    try:
        import spacy
        from presidio_analyzer import AnalyzerEngine, Pattern, PatternRecognizer
        from presidio_analyzer.nlp_engine import SpacyNlpEngine
    except ImportError as exc:
        return None, f"presidio-analyzer is not installed ({exc.name}); pip install presidio-analyzer"

    class BlankSpacy(SpacyNlpEngine):
        def load(self) -> None:
            self.nlp = {"en": spacy.blank("en")}

    import tldextract
    from presidio_analyzer.predefined_recognizers.generic import email_recognizer

    # The e-mail recognizer's tldextract would fetch the public suffix list: use the copy in the package instead.
    email_recognizer.tldextract = SimpleNamespace(extract=tldextract.TLDExtract(suffix_list_urls=()))
    engine = BlankSpacy(models=[{"lang_code": "en", "model_name": "blank"}])
    engine.load()
    analyzer = AnalyzerEngine(nlp_engine=engine, supported_languages=["en"])
    analyzer.registry.add_recognizer(
        PatternRecognizer(
            supported_entity="PRC_RESIDENT_ID",
            name="PrcResidentIdRecognizer",
            patterns=[
                Pattern(
                    "prc_resident_id",
                    r"\b[1-8]\d{5}(?:18|19|20)\d{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])\d{3}[\dXx]\b",
                    0.6,
                )
            ],
        )
    )

    def detect(text: str) -> set[str]:
        results = analyzer.analyze(text=text, language="en", score_threshold=0.4)
        return {PRESIDIO_MAP[found.entity_type] for found in results if found.entity_type in PRESIDIO_MAP}

    return detect, ""


def scores(truths: list[frozenset[str]], found: list[set[str]]) -> dict[str, tuple[int, int, int]]:
    """category -> (true positives, false positives, false negatives) over single values."""
    counts: dict[str, list[int]] = {}
    for truth, guess in zip(truths, found, strict=True):
        for category in truth | guess:
            row = counts.setdefault(category, [0, 0, 0])
            row[0 if category in truth and category in guess else 1 if category in guess else 2] += 1
    return {category: (tp, fp, fn) for category, (tp, fp, fn) in counts.items()}


def prf(counts: tuple[int, int, int] | None) -> tuple[float, float, float]:
    tp, fp, fn = counts or (0, 0, 0)
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f2 = 5 * precision * recall / (4 * precision + recall) if precision + recall else 0.0
    return precision, recall, f2


def column_correct(column: Column) -> bool:
    verdict = classify_column(column.values, name=column.name)
    if column.skip:
        return verdict.skipped is not None
    if column.json_truth is not None:
        return verdict.json_keys == column.json_truth
    return verdict.category == column.truth


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="60 values per column, one copy (under a minute).")
    parser.add_argument("--rows", type=int, help="Values per column.")
    parser.add_argument("--copies", type=int, help="Copies of every column (other seeds, other names).")
    args = parser.parse_args()
    rows = args.rows or (60 if args.quick else 200)
    columns = generate(rows, copies=args.copies or (1 if args.quick else 3))
    texts = [
        (
            value
            if isinstance(value, str)
            else json.dumps(value, ensure_ascii=False, default=str)
            if looks_like_json(value)
            else str(value),
            label,
        )
        for column in columns
        if not column.skip
        for value, label in zip(column.values, column.labels)
        if value is not None
    ]
    truths = [label for _text, label in texts]
    values_total = sum(len(column.values) for column in columns)
    print(f"{len(columns)} columns, {values_total:,} values ({len(texts):,} judged one by one)", flush=True)

    started = time.perf_counter()
    correct = [column_correct(column) for column in columns]
    classify_s = time.perf_counter() - started
    started = time.perf_counter()
    privet = [privet_detect(text) for text, _label in texts]
    detect_s = time.perf_counter() - started
    privet_scores = scores(truths, privet)

    presidio, reason = presidio_detector()
    presidio_scores: dict[str, tuple[int, int, int]] = {}
    presidio_s = 0.0
    if presidio is not None:
        started = time.perf_counter()
        found = [presidio(text) for text, _label in texts]
        presidio_s = time.perf_counter() - started
        presidio_scores = scores(truths, found)
    else:
        print(f"Presidio comparison skipped: {reason}")

    both = sorted(c for c in privet_scores if presidio_scores.get(c, (0, 0, 0))[0] > 0)
    print(
        f"\n{'category':36} {'support':>7} | {'Privet P':>8} {'R':>6} {'F2':>6} | {'Presidio P':>10} {'R':>6} {'F2':>6}"
    )
    figures: dict[str, object] = {}
    for category in sorted(privet_scores):
        tp, _fp, fn = privet_scores[category]
        mine = prf(privet_scores[category])
        detected = presidio_scores.get(category, (0, 0, 0))[:2] != (0, 0)
        theirs = prf(presidio_scores.get(category)) if detected else None
        shown = "  ".join(f"{x:6.3f}" for x in theirs) if theirs else "     (not detected)"
        print(f"{category:36} {tp + fn:7d} | {mine[0]:8.3f} {mine[1]:6.3f} {mine[2]:6.3f} | {shown}")
        figures[category] = {
            "p": round(mine[0], 3),
            "r": round(mine[1], 3),
            "f2": round(mine[2], 3),
            **({"presidio_f2": round(theirs[2], 3)} if theirs else {}),
        }
    by_naming = Counter(column.naming for column in columns)
    right_by_naming = Counter(column.naming for column, ok in zip(columns, correct, strict=True) if ok)
    accuracy = sum(correct) / len(columns)
    print(
        f"\ncolumn-level: {sum(correct)}/{len(columns)} correct ({accuracy:.3f}); "
        + ", ".join(f"{naming} {right_by_naming[naming]}/{count}" for naming, count in sorted(by_naming.items()))
    )
    wrong = [f"{column.kind}/{column.naming}" for column, ok in zip(columns, correct, strict=True) if not ok]
    if wrong:
        print("  wrong: " + ", ".join(wrong))
    classify_rate, detect_rate = values_total / classify_s, len(texts) / detect_s
    print(f"\nPrivet classify_column: {classify_rate:,.0f} values/s; one by one: {detect_rate:,.0f} values/s")
    result: dict[str, object] = {
        "bench": "discovery",
        "columns": len(columns),
        "values": values_total,
        "column_accuracy": round(accuracy, 4),
        "privet_values_per_s": round(classify_rate),
        "privet_detect_values_per_s": round(detect_rate),
        "categories": figures,
    }
    if presidio is not None:
        presidio_rate = len(texts) / presidio_s
        ratio = detect_rate / presidio_rate
        print(
            f"Presidio: {presidio_rate:,.0f} values/s; Privet is {ratio:.1f}x (one by one), "
            f"{classify_rate / presidio_rate:.1f}x (by column)"
        )
        result.update(presidio_values_per_s=round(presidio_rate), speed_ratio=round(ratio, 1))
        misses = [c for c in both if prf(privet_scores[c])[2] < TARGETS["f2"]]
        print(f"categories both detect: {', '.join(both)}; below F2 {TARGETS['f2']}: {', '.join(misses) or 'none'}")
    chinese = {c: round(prf(privet_scores.get(c))[2], 3) for c in CHINESE_IDENTIFIERS}
    print(f"Chinese identifiers F2: {chinese}")
    print(json.dumps(result, ensure_ascii=False))


if __name__ == "__main__":
    main()
