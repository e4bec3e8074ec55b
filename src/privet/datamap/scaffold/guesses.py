"""What a column holds, guessed from its name alone: a data category and, for identities, the identity type."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

# Column-name guesses as data: (regex over the snake_case name, category, identity type or None).
# A regex matches whole `_`-separated words; the first matching row wins, so specific rows come first
# (credentials before `password`, so `password_salt` and `password_reset_token` are a secret and a token).
# English and the pinyin/Chinese-app names seen in practice (shouji = mobile phone, xingming = full name,
# mibao = account-protection question…).
GUESSES: list[tuple[str, str, str | None]] = [
    (r"(e_?mail|mail)(_?addr(ess)?)?|youxiang", "user.contact.email", "email"),
    (r"(wechat|wx|weixin)_?open_?id|open_?id", "user.account.third_party_id", "wechat_openid"),
    (r"(wechat|wx|weixin|alipay|qq)_?(union_?id|uid)|union_?id", "user.account.third_party_id", None),
    (
        r"(cell_?|mobile_?|tele?_?)?phone(_?(no|num|number))?|mobile(_?(no|num|number))?|tel|msisdn|shouji|dianhua",
        "user.contact.phone",
        "phone",
    ),
    (r"fax(_?(no|num|number))?|chuanzhen", "user.contact.phone", None),
    (r"ip(_?addr(ess)?)?|ipv[46]", "user.device.ip_address", None),
    (r"mac(_?addr(ess)?)?", "user.device.mac_address", None),
    (r"serial(_?(no|num|number|code))?|^sn$|device_?sn|xuliehao", "user.device.serial_number", "device_serial"),
    (r"device_?(id|uuid|uid)|imei|meid|idfa|idfv|oaid|android_?id|udid", "user.device.device_id", None),
    (
        r"id_?card(_?(no|num|number))?|id_?(doc(ument)?_?)?(no|number)|shenfenzheng|sfz(h|_?hao)?|national_?id|ssn",
        "user.government_id.national_id",
        None,
    ),
    (r"passport(_?(no|num|number))?|huzhao", "user.government_id.passport", None),
    (r"drivers?_?licen[cs]e(_?(no|num|number))?|jiashizheng", "user.government_id.drivers_license", None),
    (
        r"(security|secret|recovery)_?(answer|question)s?(_?\d)?|mibao(_?(daan|wenti))?",
        "user.authorization.security_answer",
        None,
    ),
    (
        (
            r"(totp|otp|mfa|2fa|two_?factor|authenticator)_?(secret|seed|key)|(api|client|app|webhook)_?secret"
            r"|(signing|encryption|private)_?key|secret(_?key)?|(password_?|pwd_?)?salt"
            r"|(recovery|backup|reset)_?codes?"
        ),
        "user.authorization.secret",
        None,
    ),
    (r"\w*token(s|_?hash|_?digest)?$|api_?key|access_?key(_?id)?", "user.authorization.token", None),
    (r"pass_?word(_?hash)?|passwd|pwd|mima", "user.authorization.password", None),
    (r"user_?name|^login$|login_?name|account_?name", "user.account.username", "account_name"),
    (r"nick_?name|screen_?name|display_?name|nicheng", "user.account.profile", None),
    (
        (
            r"(first|last|full|real|given|family|sur|middle|contact|customer|holder|owner|ship|shipping|bill|billing)"
            r"_?name|recipient|receiver"
            r"|consignee|contact_?person|legal_?representative|xingming|shouhuoren|lianxiren"
        ),
        "user.name",
        None,
    ),
    (r"birth(_?(date|day))?|dob|date_of_birth|shengri|chusheng_?riqi", "user.demographic.date_of_birth", None),
    (r"gender|sex|xingbie", "user.demographic.gender", None),
    (r"^age$|nianling", "user.demographic.age", None),
    (r"^((address|billing|shipping)_)?state$|province|shengfen", "user.contact.address.province", None),
    (
        r"addr(ess)?(_?line_?\d)?|street|district|city|post_?code|zip(_?code)?|postal_?code|youbian|dizhi",
        "user.contact.address",
        None,
    ),
    (r"lat(itude)?|lng|lon(gitude)?|geo|gps|coordinates?|weizhi", "user.location.precise", None),
    (r"track|trajectory|guiji", "user.location.track", None),
    (r"location", "user.location", None),
    (r"face(_?(template|feature|features|data))?|renlian", "user.biometric.face", None),
    (r"finger_?print|zhiwen", "user.biometric.fingerprint", None),
    (r"voice_?print|shengwen", "user.biometric.voiceprint", None),
    (r"iris|hongmo", "user.biometric.iris", None),
    (r"palm(_?(print|vein))?", "user.biometric.palm", None),
    (r"biometrics?", "user.biometric", None),
    (
        r"^card$|(credit|debit|bank)_?card(_?(no|num|number))?|card_?(no|num|number)|ccn|yinhangka",
        "user.financial.payment_card",
        None,
    ),
    (r"iban|bank(_?(account|acct))?(_?(no|num|number))?", "user.financial.bank_account", None),
    (r"pay(ment)?_?(account|method|info)|alipay(_?account)?", "user.financial.payment", None),
    (r"job_?(title|position)|^position$|zhiwei", "user.professional.position", None),
    (r"occupation|profession|zhiye", "user.professional.occupation", None),
    (r"employer|company(_?name)?|gongsi", "user.organisation.name", None),
    (r"education|school|xueli", "user.professional.education", None),
    (r"language|locale", "user.demographic.language", None),
    (r"(user|customer|member|account|client)_?id|uid", "user.account.user_id", None),
]
# Only on the subject table (users, customers, members…): a bare `name`, and its own id.
SUBJECT_TABLE = (
    r"(users?|customers?|members?|accounts?|clients?|persons?|people|profiles?|employees?|contacts?"
    r"|yonghu|huiyuan|kehu)"
)
_COMPILED = [(re.compile(rf"(?:^|_)(?:{rx})(?:_|$)"), cat, ident) for rx, cat, ident in GUESSES]
_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])")


@dataclass(frozen=True)
class Guess:
    category: str | None = None
    identity: str | None = None


@lru_cache(maxsize=16384)  # inference compares every column with every table's name and key
def snake(name: str) -> str:
    """`firstName`, `First-Name` and `CustomerID` become `first_name`, `first_name` and `customer_id`."""
    return re.sub(r"[^a-z0-9]+", "_", _CAMEL.sub("_", name).lower()).strip("_")


def bare(table: str) -> str:
    """A table's name without the house prefixes `t_`, `tb_`, `tbl_` (`tb_customer` → `customer`)."""
    return re.sub(r"^(t|tb|tbl)_(?=.)", "", snake(table))


def subject_table(name: str) -> bool:
    """Whether a table looks like the one holding the data subjects themselves."""
    return re.fullmatch(SUBJECT_TABLE, bare(name)) is not None


def known_categories() -> set[str]:
    """Category keys of the shipped taxonomy (a draft must never name an unknown key)."""
    from privet.taxonomy.loader import default_taxonomy

    return set(default_taxonomy().categories)


def nearest_known(category: str | None, known: set[str]) -> str | None:
    """The category itself when known, else its nearest known ancestor, else None."""
    while category and category not in known:
        category = category.rpartition(".")[0] or None
    return category


def guess_column(name: str, *, is_subject: bool, is_pk: bool, known: set[str]) -> Guess:
    """Guess a column's category and identity type from its name alone."""
    column = snake(name)
    if is_subject and (is_pk or re.fullmatch(r"(user|customer|member|account|client)_?id|uid", column)):
        return _known(Guess("user.account.user_id", "user_id"), known)
    if is_subject and column in ("name", "xingming"):
        return _known(Guess("user.name"), known)
    for pattern, category, identity in _COMPILED:
        found = pattern.search(column)
        # `address_id` is a key pointing at an address row, not an address: for `*_id` the match must
        # reach the end (`device_id`, `customer_id` still match)
        if found and (not column.endswith("_id") or found.end() == len(column)):
            return _known(Guess(category, identity), known)
    return Guess()


def _known(guess: Guess, known: set[str]) -> Guess:
    # an identity without a category could never be erased (the manifest refuses it): drop both together
    category = nearest_known(guess.category, known)
    return Guess(category, guess.identity if category else None)
