"""Reflect a real database into a draft data map (datastore stub + dataset) so nobody types a schema by hand."""

from __future__ import annotations

import re
from dataclasses import dataclass
from fnmatch import fnmatchcase
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, NoSuchModuleError
from sqlalchemy.pool import NullPool

from privet.kit.clock import utcnow
from privet.kit.errors import InvalidInput, Unavailable

KINDS = {"sqlite": "sqlite", "postgresql": "postgresql", "mysql": "mysql", "mariadb": "mysql"}
_REF_OK = re.compile(r"^[A-Za-z_]\w*$")

# Column-name guesses as data: (regex over the snake_case name, category, identity type or None).
# A regex matches whole `_`-separated words; the first matching row wins, so specific rows come first.
# English and the pinyin/Chinese-app names seen in practice (shouji = mobile phone, xingming = full name…).
GUESSES: list[tuple[str, str, str | None]] = [
    (r"(e_?mail|mail)(_?addr(ess)?)?|youxiang", "user.contact.email", "email"),
    (r"(wechat|wx|weixin)_?open_?id|open_?id", "user.account.third_party_id", "wechat_openid"),
    (r"(wechat|wx|weixin|alipay|qq)_?(union_?id|uid)|union_?id", "user.account.third_party_id", None),
    (r"(cell_?|mobile_?|tele?_?)?phone(_?(no|num|number))?|mobile(_?(no|num|number))?|tel|shouji|dianhua",
     "user.contact.phone", "phone"),
    (r"ip(_?addr(ess)?)?|ipv[46]", "user.device.ip_address", None),
    (r"mac(_?addr(ess)?)?", "user.device.mac_address", None),
    (r"serial(_?(no|num|number|code))?|^sn$|device_?sn|xuliehao", "user.device.serial_number", "device_serial"),
    (r"device_?(id|uuid|uid)|imei|meid|idfa|idfv|oaid|android_?id|udid", "user.device.device_id", None),
    (r"id_?card(_?(no|num|number))?|id_?(doc(ument)?_?)?(no|number)|shenfenzheng|sfz(h|_?hao)?|national_?id|ssn",
     "user.government_id.national_id", None),
    (r"passport(_?(no|num|number))?|huzhao", "user.government_id.passport", None),
    (r"drivers?_?licen[cs]e(_?(no|num|number))?|jiashizheng", "user.government_id.drivers_license", None),
    (r"pass_?word(_?hash)?|passwd|pwd|mima", "user.authorization.password", None),
    (r"(security|secret)_?answer", "user.authorization.security_answer", None),
    (r"user_?name|^login$|login_?name|account_?name", "user.account.username", "account_name"),
    (r"nick_?name|screen_?name|nicheng", "user.account.profile", None),
    (r"(first|last|full|real|given|family|sur|middle|contact|customer|holder|owner)_?name|recipient|receiver"
     r"|consignee|contact_?person|legal_?representative|xingming|shouhuoren|lianxiren", "user.name", None),
    (r"birth(_?(date|day))?|dob|date_of_birth|shengri|chusheng_?riqi", "user.demographic.date_of_birth", None),
    (r"gender|sex|xingbie", "user.demographic.gender", None),
    (r"^age$|nianling", "user.demographic.age", None),
    (r"^((address|billing|shipping)_)?state$|province|shengfen", "user.contact.address.province", None),
    (r"addr(ess)?(_?line_?\d)?|street|district|city|post_?code|zip(_?code)?|postal_?code|youbian|dizhi",
     "user.contact.address", None),
    (r"lat(itude)?|lng|lon(gitude)?|geo|gps|coordinates?|weizhi", "user.location.precise", None),
    (r"track|trajectory|guiji", "user.location.track", None),
    (r"location", "user.location", None),
    (r"face(_?(template|feature|features|data))?|renlian", "user.biometric.face", None),
    (r"finger_?print|zhiwen", "user.biometric.fingerprint", None),
    (r"voice_?print|shengwen", "user.biometric.voiceprint", None),
    (r"iris|hongmo", "user.biometric.iris", None),
    (r"palm(_?(print|vein))?", "user.biometric.palm", None),
    (r"biometrics?", "user.biometric", None),
    (r"^card$|(credit|debit|bank)_?card(_?(no|num|number))?|card_?(no|num|number)|ccn|yinhangka",
     "user.financial.payment_card", None),
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
SUBJECT_TABLE = r"(users?|customers?|members?|accounts?|clients?|persons?|people|profiles?|employees?|contacts?" \
                r"|yonghu|huiyuan|kehu)"
_COMPILED = [(re.compile(rf"(?:^|_)(?:{rx})(?:_|$)"), cat, ident) for rx, cat, ident in GUESSES]
_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")


@dataclass(frozen=True)
class Guess:
    category: str | None = None
    identity: str | None = None


def snake(name: str) -> str:
    """`firstName` and `First-Name` both become `first_name`."""
    return re.sub(r"[^a-z0-9]+", "_", _CAMEL.sub("_", name).lower()).strip("_")


def subject_table(name: str) -> bool:
    """Whether a table looks like the one holding the data subjects themselves."""
    return re.fullmatch(rf"(t_|tb_|tbl_)?{SUBJECT_TABLE}", snake(name)) is not None


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
        return Guess(nearest_known("user.account.user_id", known), "user_id")
    if is_subject and column in ("name", "xingming"):
        return Guess(nearest_known("user.name", known))
    for pattern, category, identity in _COMPILED:
        found = pattern.search(column)
        # `address_id` is a key pointing at an address row, not an address: for `*_id` the match must
        # reach the end (`device_id`, `customer_id` still match)
        if found and (not column.endswith("_id") or found.end() == len(column)):
            return Guess(nearest_known(category, known), identity)
    return Guess()


def scaffold(url: str, *, dataset_key: str, datastore_key: str, schema: str | None = None,
             include: list[str] | None = None, secret: str | None = None, region: str = "CN") -> dict:
    """Reflect `url` into `{"datastores": [stub], "datasets": [draft]}`; the URL itself never appears."""
    parsed = _parse(url)
    engine = _engine(parsed)
    try:
        with engine.connect() as conn:
            dialect = "mariadb" if getattr(conn.dialect, "is_mariadb", False) else conn.dialect.name
            tables = _reflect(sa.inspect(conn), schema, include)
    except DBAPIError as exc:
        raise _connect_error(parsed, exc) from None
    finally:
        engine.dispose()
    datastore = {"key": datastore_key, "system": "todo", "kind": KINDS[parsed.get_backend_name()],
                 "region": region, "secret": secret or datastore_key,
                 "description": f"Draft from scaffold of {dialect}"}
    dataset = {"key": dataset_key, "datastore": datastore_key,
               "description": f"Draft from scaffold of {dialect} on {utcnow().date().isoformat()}",
               "tables": tables}
    return {"datastores": [datastore], "datasets": [dataset]}


def _parse(url: str) -> URL:
    try:
        parsed = make_url(url)
    except (ArgumentError, ValueError):
        raise InvalidInput("The datastore is neither a database URL nor a known secret name",
                           "pass a URL such as postgresql+psycopg://user@host/db or the name of a secret "
                           "in PRIVET_SECRETS") from None
    if parsed.get_backend_name() not in KINDS:
        raise InvalidInput(f"Scaffold does not support {parsed.get_backend_name()!r} databases",
                           "use SQLite, PostgreSQL or MariaDB/MySQL")
    return parsed


def _engine(parsed: URL) -> sa.Engine:
    args: dict = {}
    if parsed.get_backend_name() == "sqlite":
        # reflecting must never create an empty database where the user mistyped a path
        if not parsed.database or parsed.database == ":memory:" or not Path(parsed.database).is_file():
            raise InvalidInput(f"No SQLite database file at {parsed.database or '(empty path)'}",
                               "check the path in the sqlite:/// URL")
    else:
        args["connect_timeout"] = 5  # an unreachable host should fail fast, not hang the CLI
    try:
        return sa.create_engine(parsed, poolclass=NullPool, connect_args=args)
    except (NoSuchModuleError, ModuleNotFoundError):
        raise InvalidInput(f"No database driver for {parsed.drivername!r}",
                           "use postgresql+psycopg://, mysql+pymysql:// or sqlite:///, or install the driver "
                           "(pip install 'privet[postgres]' / 'privet[mysql]')") from None


def _where(parsed: URL) -> str:
    if parsed.get_backend_name() == "sqlite":
        return f"SQLite file {parsed.database}"
    port = f":{parsed.port}" if parsed.port else ""
    return f"{parsed.get_backend_name()} at {parsed.host}{port}/{parsed.database or ''}"


def _connect_error(parsed: URL, exc: DBAPIError) -> Exception:
    """A one-line error naming host and database (never the password or the driver's raw text)."""
    text = str(exc.orig).lower()
    code = exc.orig.args[0] if getattr(exc.orig, "args", None) else None
    where = _where(parsed)
    if code in (1045, 1044) or "password" in text or "authentication" in text or (
            "role" in text and "does not exist" in text):
        return InvalidInput(f"Wrong credentials for {where}",
                            "check the user name and password stored in the secret")
    if code == 1049 or ("database" in text and "does not exist" in text):
        return InvalidInput(f"The database does not exist: {where}", "check the database name in the URL")
    if "not a database" in text or "malformed" in text:
        return InvalidInput(f"Not a SQLite database: {where}", "point at a SQLite database file")
    if isinstance(exc, sa.exc.OperationalError) or code in (2003, 2005, 2013):
        return Unavailable(f"Cannot reach {where}",
                           "check that the server is running and the host, port and firewall allow it")
    return InvalidInput(f"Cannot reflect {where} ({type(exc.orig).__name__})",
                        "check the URL and that the user may read the schema")


def _reflect(insp: sa.Inspector, schema: str | None, include: list[str] | None) -> list[dict]:
    if schema is not None and schema not in insp.get_schema_names():
        raise InvalidInput(f"No schema {schema!r} in the database", "check --schema (or leave it out)")
    names = _selected(insp.get_table_names(schema=schema), include)
    if not names:
        raise InvalidInput("No tables found to scaffold", "check --schema and --table, or create the tables first")
    meta = {"columns": insp.get_multi_columns, "pk": insp.get_multi_pk_constraint,
            "fks": insp.get_multi_foreign_keys, "indexes": insp.get_multi_indexes,
            "uniques": insp.get_multi_unique_constraints}
    got = {what: {k[1]: v for k, v in call(schema=schema, filter_names=names).items()}
           for what, call in meta.items()}
    known = known_categories()
    return [_table(name, {what: got[what].get(name) or [] for what in meta}, known) for name in names]


def _selected(names: list[str], include: list[str] | None) -> list[str]:
    if not include:
        return sorted(names)
    missing = [p for p in include if not any(fnmatchcase(n, p) for n in names)]
    if missing:
        raise InvalidInput(f"No table matches {', '.join(missing)}", "check the --table names (globs like order* work)")
    return sorted(n for n in names if any(fnmatchcase(n, p) for p in include))


def _table(name: str, info: dict, known: set[str]) -> dict:
    pk = list((info["pk"] or {}).get("constrained_columns") or [])
    refs: dict[str, str] = {}
    for fk in info["fks"]:
        for local, remote in zip(fk["constrained_columns"], fk["referred_columns"], strict=False):
            if _REF_OK.match(fk["referred_table"]) and _REF_OK.match(remote):
                refs.setdefault(local, f"{fk['referred_table']}.{remote}")
    # a column is "indexed" when it leads an index, a unique constraint or the primary key
    leading = {cols[0] for cols in [pk] + [i["column_names"] for i in info["indexes"]]
               + [u["column_names"] for u in info["uniques"]] if cols and cols[0]}
    is_subject = subject_table(name)
    fields, personal = [], 0
    for column in info["columns"]:
        guess = guess_column(column["name"], is_subject=is_subject, is_pk=pk == [column["name"]], known=known)
        fields.append(_field(column["name"], guess, refs.get(column["name"]), column["name"] in leading))
        personal += guess.category is not None
    table = {"name": name}
    table["description"] = (f"Draft: {personal} of {len(fields)} columns look personal"
                            if personal else "Draft: no column looks personal — check before trusting it")
    if pk:
        table["primary_key"] = pk
    table["fields"] = fields
    return table


def _field(name: str, guess: Guess, reference: str | None, indexed: bool) -> dict:
    field: dict = {"name": name}
    if guess.category:
        field["category"] = guess.category
    if guess.identity:
        field["identity"] = guess.identity
        field["indexed"] = indexed  # evaluate warns about identity fields that are not indexed
    if reference:
        field["references"] = reference
    return field
