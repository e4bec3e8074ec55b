"""Column classification: values decide, names add evidence; free text, JSON, bad columns; nothing leaks."""

from __future__ import annotations

import importlib.util
import json
import sys
from datetime import date, datetime
from pathlib import Path

import pytest
from faker import Faker

from privet.datamap.discover import recognizers as r
from privet.datamap.discover.classify import ColumnVerdict, classify_column, custom_recognizer

zh, en = Faker("zh_CN"), Faker("en_US")
zh.seed_instance(7)
en.seed_instance(7)


def _bench():
    path = Path(__file__).resolve().parents[3] / "bench" / "discovery.py"
    spec = importlib.util.spec_from_file_location("bench_discovery", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while the file executes
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("name", ["mobile", "order_ref", "c17", ""])
def test_phones_found_whatever_the_name(name: str) -> None:
    verdict = classify_column([zh.phone_number() for _ in range(40)], name=name)
    assert verdict.category == r.PHONE
    assert verdict.share >= 0.9 and verdict.sampled == 40


def test_the_name_moves_confidence_not_the_verdict() -> None:
    values = [zh.ssn() for _ in range(40)]
    honest, misleading, meaningless = (classify_column(values, name=n) for n in ("身份证号", "phone", "ref"))
    assert honest.category == misleading.category == meaningless.category == r.NATIONAL_ID
    assert honest.confidence > meaningless.confidence > misleading.confidence


@pytest.mark.parametrize("name", ["id_card", "mobile", "c3"])
def test_near_misses_are_not_personal_data(name: str) -> None:
    values = [zh.ssn()[:17] for _ in range(20)] + [str(1_700_000_000 + i * 7919) for i in range(20)]
    values += ["12" + str(100000000 + i * 31) for i in range(20)]
    assert classify_column(values, name=name).category is None


def test_dates_of_birth_by_values_and_by_name() -> None:
    births = [en.date_of_birth(minimum_age=5, maximum_age=90) for _ in range(60)]
    assert classify_column(births, name="c9").category == r.DATE_OF_BIRTH
    assert classify_column([d.isoformat() for d in births], name="c9").category == r.DATE_OF_BIRTH
    recent = [en.date_between("-2y") for _ in range(60)]
    assert classify_column(recent, name="c9").category is None
    assert classify_column(births, name="created_on").category is None  # other dates, even spread out
    stamped = [datetime(2024, 1, 1, 10, i % 60) for i in range(60)]
    assert classify_column(stamped, name="birthday").category is None  # times of day are not birth dates
    assert classify_column(["1990年1月2日", "19850304"] * 10, name="出生日期").category == r.DATE_OF_BIRTH


def test_coordinates_pairs_alone_single_axis_with_a_name() -> None:
    pairs = [f"{en.latitude():.6f},{en.longitude():.6f}" for _ in range(20)]
    assert classify_column(pairs, name="x").category == r.PRECISE_LOCATION
    latitudes = [float(f"{float(en.latitude()):.6f}") for _ in range(20)]
    assert classify_column(latitudes, name="lat").category == r.PRECISE_LOCATION
    assert classify_column(latitudes, name="x").category is None


def test_names_and_addresses() -> None:
    assert classify_column([zh.name() for _ in range(30)], name="label").category == r.NAME
    assert classify_column([en.name() for _ in range(30)], name="c1").category == r.NAME
    assert classify_column([zh.address() for _ in range(30)], name="memo").category == r.ADDRESS
    assert classify_column([zh.word() for _ in range(60)], name="姓名").category is None
    assert classify_column([en.company() for _ in range(30)], name="name").category is None


def test_free_text_reports_embedded_categories() -> None:
    texts = [
        f"{zh.sentence()}请联系{zh.phone_number()}，邮箱 {en.email()}" if i % 2 else zh.sentence() for i in range(40)
    ]
    verdict = classify_column(texts, name="remark")
    assert verdict.embedded[r.PHONE] >= 0.45 and verdict.embedded[r.EMAIL] == 0.5
    assert verdict.category in (r.PHONE, r.EMAIL)
    clean = [f"订单号2024051212345678已发货，时间戳{1_700_000_000_000 + i}" for i in range(20)]
    assert classify_column(clean, name="log") == ColumnVerdict(None, 0.0, 0.0, 20)


def test_json_documents_name_their_key_paths() -> None:
    documents = [
        {
            "name": zh.name(),
            "contact": {"email": en.email(), "phones": [zh.phone_number()]},
            "sku": en.bothify("??-####"),
            "qty": 2,
        }
        for _ in range(30)
    ]
    expected = {"name": r.NAME, "contact.email": r.EMAIL, "contact.phones[]": r.PHONE}
    verdict = classify_column(documents, name="profile")
    assert verdict.json_keys == expected and verdict.category is not None
    as_text = [json.dumps(d, ensure_ascii=False) for d in documents]
    assert classify_column(as_text, name="c2", sql_type="jsonb").json_keys == expected
    some_broken = as_text[:25] + ["{broken"] * 5
    assert classify_column(some_broken, name="c2", sql_type="json").json_keys == expected


@pytest.mark.parametrize(
    ("values", "sql_type", "reason"),
    [
        ([b"\x00\x01\xff\xfe" * 4] * 10, "", "binary data (10 of 10 sampled values)"),
        ([b"\x89PNG"] * 3, "bytea", "binary data (3 of 3 sampled values)"),
        ([], "", "no non-empty values in the sample"),
        ([None, "", "  "], "text", "no non-empty values in the sample"),
        (['{"name": "x'] * 6, "jsonb", "6 of 6 sampled values are not valid JSON documents"),
    ],
)
def test_bad_columns_are_skipped_with_a_reason(values: list[object], sql_type: str, reason: str) -> None:
    verdict = classify_column(values, name="blob", sql_type=sql_type)
    assert verdict.skipped == reason and verdict.category is None


def test_utf8_bytes_are_text() -> None:
    assert classify_column([e.encode() for e in (en.email() for _ in range(10))]).category == r.EMAIL


def test_custom_recognizers_come_first() -> None:
    serial = custom_recognizer("device_serial", "user.device.serial_number", r"DEV-(\d{7}[\dX])", "iso7064_mod11_2")
    from stdnum.iso7064 import mod_11_2

    values = [f"DEV-{body}{mod_11_2.calc_check_digit(body)}" for body in (f"{i * 7919:07d}" for i in range(30))]
    assert classify_column(values, name="c4", custom=[serial]).category == "user.device.serial_number"
    assert classify_column(values, name="c4").category is None
    texts = [f"replaced unit {v} today" for v in values]
    assert classify_column(texts, custom=[serial]).embedded == {"user.device.serial_number": 1.0}


def test_no_value_reaches_a_verdict() -> None:
    values = [zh.ssn() for _ in range(10)] + [f"联系{zh.phone_number()}，地址{zh.address()}" for _ in range(10)]
    verdict = classify_column(values, name="x")
    rendered = repr(verdict)
    assert not any(value in rendered for value in values)
    assert not any(ch.isdigit() and len(part) > 6 for part in rendered.split() for ch in part[:1])


def test_bench_columns_are_classified() -> None:
    """The bench's generated columns (honest, misleading and meaningless names) at a small size."""
    bench = _bench()
    columns = bench.generate(rows=30, seed=5)
    wrong = [f"{c.kind}/{c.naming}" for c in columns if not bench.column_correct(c)]
    assert len(wrong) <= len(columns) // 50, wrong


def test_sampled_counts_non_empty_values() -> None:
    verdict = classify_column([None, "", en.email(), en.email(), date(2000, 1, 1)], name="x")
    assert verdict.sampled == 3
