"""Reflect a real database into a draft data map (datastore stub + dataset) so nobody types a schema by hand.

The draft is for people to review, then trust: `guesses` names what each column holds, `reflect` reads tables
(partitions folded into their parent) and indexes, `references` infers references nobody declared, `relations`
proposes whose row each reference leads to, and `draft` puts it together as manifest YAML.
"""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, NoSuchModuleError
from sqlalchemy.pool import NullPool

from privet.datamap.scaffold.draft import draft_tables
from privet.datamap.scaffold.guesses import guess_column, known_categories, nearest_known, snake, subject_table
from privet.datamap.scaffold.reflect import reflect
from privet.kit.clock import utcnow
from privet.kit.errors import InvalidInput, Unavailable

__all__ = ["guess_column", "known_categories", "nearest_known", "scaffold", "snake", "subject_table"]

KINDS = {"sqlite": "sqlite", "postgresql": "postgresql", "mysql": "mysql", "mariadb": "mysql"}


def scaffold(
    url: str,
    *,
    dataset_key: str,
    datastore_key: str,
    schema: str | None = None,
    include: list[str] | None = None,
    secret: str | None = None,
    region: str = "CN",
) -> dict:
    """Reflect `url` into `{"datastores": [stub], "datasets": [draft]}`; the URL itself never appears."""
    parsed = _parse(url)
    engine = _engine(parsed)
    try:
        with engine.connect() as conn:
            dialect = "mariadb" if getattr(conn.dialect, "is_mariadb", False) else conn.dialect.name
            reflected = reflect(conn, dialect, schema, include)
    except DBAPIError as exc:
        raise _connect_error(parsed, exc) from None
    finally:
        engine.dispose()
    tables = draft_tables(reflected, dialect, schema, known_categories())
    datastore = {
        "key": datastore_key,
        "system": "todo",
        "kind": KINDS[parsed.get_backend_name()],
        "region": region,
        "secret": secret or datastore_key,
        "description": f"Draft from scaffold of {dialect}",
    }
    dataset = {
        "key": dataset_key,
        "datastore": datastore_key,
        "description": f"Draft from scaffold of {dialect} on {utcnow().date().isoformat()}",
        "tables": tables,
    }
    return {"datastores": [datastore], "datasets": [dataset]}


def _parse(url: str) -> URL:
    try:
        parsed = make_url(url)
    except (ArgumentError, ValueError):
        raise InvalidInput(
            "The datastore is neither a database URL nor a known secret name",
            "pass a URL such as postgresql+psycopg://user@host/db or the name of a secret in PRIVET_SECRETS",
        ) from None
    if parsed.get_backend_name() not in KINDS:
        raise InvalidInput(
            f"Scaffold does not support {parsed.get_backend_name()!r} databases",
            "use SQLite, PostgreSQL or MariaDB/MySQL",
        )
    return parsed


def _engine(parsed: URL) -> sa.Engine:
    args: dict = {}
    if parsed.get_backend_name() == "sqlite":
        # reflecting must never create an empty database where the user mistyped a path
        if not parsed.database or parsed.database == ":memory:" or not Path(parsed.database).is_file():
            raise InvalidInput(
                f"No SQLite database file at {parsed.database or '(empty path)'}",
                "check the path in the sqlite:/// URL",
            )
    else:
        args["connect_timeout"] = 5  # an unreachable host should fail fast, not hang the CLI
    try:
        return sa.create_engine(parsed, poolclass=NullPool, connect_args=args)
    except (NoSuchModuleError, ModuleNotFoundError):
        raise InvalidInput(
            f"No database driver for {parsed.drivername!r}",
            "use postgresql+psycopg://, mysql+pymysql:// or sqlite:///, or install the driver "
            "(pip install 'privet[postgres]' / 'privet[mysql]')",
        ) from None


def _where(parsed: URL) -> str:
    if parsed.get_backend_name() == "sqlite":
        return f"SQLite file {parsed.database}"
    port = f":{parsed.port}" if parsed.port else ""
    return f"{parsed.get_backend_name()} at {parsed.host}{port}/{parsed.database or ''}"


def _connect_error(parsed: URL, exc: DBAPIError) -> Exception:
    """A one-line error naming host and database (never the password or the driver's raw text)."""
    text = str(exc.orig).lower()
    code = exc.orig.args[0] if exc.orig is not None and exc.orig.args else None
    where = _where(parsed)
    if (
        code in (1045, 1044)
        or "password" in text
        or "authentication" in text
        or ("role" in text and "does not exist" in text)
    ):
        return InvalidInput(f"Wrong credentials for {where}", "check the user name and password stored in the secret")
    if code == 1049 or ("database" in text and "does not exist" in text):
        return InvalidInput(f"The database does not exist: {where}", "check the database name in the URL")
    if "not a database" in text or "malformed" in text:
        return InvalidInput(f"Not a SQLite database: {where}", "point at a SQLite database file")
    if isinstance(exc, sa.exc.OperationalError) or code in (2003, 2005, 2013):
        return Unavailable(
            f"Cannot reach {where}", "check that the server is running and the host, port and firewall allow it"
        )
    return InvalidInput(
        f"Cannot reflect {where} ({type(exc.orig).__name__})", "check the URL and that the user may read the schema"
    )
