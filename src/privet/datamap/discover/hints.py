"""What a column's name and SQL type suggest it holds: evidence that raises or lowers confidence, never a verdict.

``name_hint`` reads English words (snake_case, camelCase, abbreviations such as ``tel``, ``dob``, ``sfz``) and
Chinese words (手机, 身份证, 地址...) and returns the category they point to, or None. ``type_hint`` does the same for
SQL types that say what they hold (inet, macaddr, point, date).
"""

from __future__ import annotations

import re

from privet.datamap.discover import recognizers as r

_WORDS: dict[str, tuple[str, ...]] = {
    r.PHONE: ("phone", "mobile", "tel", "telephone", "cell", "cellphone", "msisdn", "fax", "手机", "电话", "联系电话",
              "座机", "手机号"),
    r.EMAIL: ("email", "mail", "e_mail", "邮箱", "邮件", "电子邮件"),
    r.NATIONAL_ID: ("idcard", "id_card", "id_no", "idno", "id_number", "identity", "resident", "sfz", "sfzh",
                    "citizen", "national_id", "ssn", "身份证", "证件号", "证件号码", "身份证号"),
    r.PASSPORT: ("passport", "护照"),
    r.CREDIT_CODE: ("uscc", "credit_code", "social_credit", "license_no", "licence_no", "tax_id", "信用代码",
                    "统一社会信用代码", "营业执照"),
    r.PAYMENT_CARD: ("card", "card_no", "card_number", "pan", "bank_card", "credit_card", "银行卡", "卡号"),
    r.BANK_ACCOUNT: ("iban", "account_no", "bank_account", "account_number", "银行账号", "账号", "账户"),
    r.DEVICE_ID: ("imei", "meid", "device_id", "udid", "idfa", "android_id", "设备号", "设备id"),
    r.MAC: ("mac", "mac_address", "macaddr", "mac地址"),
    r.IP: ("ip", "ip_address", "ipaddr", "client_ip", "remote_addr", "remote_ip", "ip地址"),
    r.PRECISE_LOCATION: ("lat", "lng", "lon", "latitude", "longitude", "coord", "coords", "coordinates", "geo",
                         "gps", "location", "position", "经度", "纬度", "坐标", "位置", "定位"),
    r.DATE_OF_BIRTH: ("birth", "dob", "birthday", "birthdate", "born", "生日", "出生", "出生日期"),
    r.NAME: ("name", "full_name", "first_name", "last_name", "given_name", "family_name", "surname", "fullname",
             "firstname", "lastname", "姓名", "名字", "联系人", "收件人", "客户名"),
    r.ADDRESS: ("address", "addr", "street", "地址", "住址", "收货地址", "通讯地址", "家庭住址"),
}
_EXACT: dict[str, str] = {}
_CHINESE: list[tuple[str, str]] = []
for _category, _words in _WORDS.items():
    for _word in _words:
        if _word.isascii():
            _EXACT[_word] = _category
        else:
            _CHINESE.append((_word, _category))
_CHINESE.sort(key=lambda pair: -len(pair[0]))
_NOT_PERSON_NAME = frozenset(("product", "company", "file", "table", "host", "domain", "org", "organisation",
                              "organization", "brand", "app", "item", "category", "city", "shop", "store",
                              "event", "job", "column", "key", "field", "sku", "project", "team", "user"))
_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")
_SPLIT = re.compile(r"[^a-z0-9\u4e00-\u9fff]+")


def name_hint(name: str) -> str | None:
    """The category a column name points to, or None when it says nothing (c7, ref, data)."""
    if not name:
        return None
    for word, chinese in _CHINESE:
        if word in name:
            return chinese
    lowered = _CAMEL.sub("_", name).lower()
    if lowered in _EXACT:
        return _EXACT[lowered]
    tokens = [token for token in _SPLIT.split(lowered) if token]
    for size in (2, 1):
        for start in range(len(tokens) - size + 1):
            category = _EXACT.get("_".join(tokens[start:start + size]))
            if category == r.NAME and _NOT_PERSON_NAME.intersection(tokens):
                return None
            if category is not None:
                return category
    return None


def is_date_name(name: str) -> bool:
    """A name that says the column holds some other date (created_at, order_date, 下单时间)."""
    lowered = _CAMEL.sub("_", name).lower()
    tokens = set(_SPLIT.split(lowered))
    return bool(tokens & {"date", "time", "at", "on", "created", "updated", "timestamp", "ts", "day", "expires",
                          "expiry"}) or any(word in name for word in ("日期", "时间"))


def type_hint(sql_type: str) -> str | None:
    """The category an SQL type points to (inet, macaddr, point, geography), or None."""
    lowered = sql_type.lower()
    if lowered.startswith(("inet", "cidr")):
        return r.IP
    if lowered.startswith("macaddr"):
        return r.MAC
    if lowered.startswith(("point", "geography", "geometry")):
        return r.PRECISE_LOCATION
    return None


def binary_type(sql_type: str) -> bool:
    """Types that hold bytes (bytea, blob, varbinary...)."""
    return any(word in sql_type.lower() for word in ("bytea", "blob", "binary", "image"))


def json_type(sql_type: str) -> bool:
    """JSON column types (json, jsonb)."""
    return sql_type.lower().startswith("json")
