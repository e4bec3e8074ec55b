"""Create and fill a demo company's customer databases (SQLite, PostgreSQL or MariaDB), deterministically.

Sizes (default 200 customers): Keptek about 10,000 rows (≈1.3 MB of SQLite, most of it device location
points and page views), ZKTeco about 3,000 rows (≈0.8 MB). Rows grow linearly with `customers` (500 customers:
≈24,000 and ≈7,000). Generation takes about a second on SQLite.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import Engine, MetaData, func, inspect, select, text
from sqlalchemy.exc import SQLAlchemyError

from privet.demo.fakes import Fakes
from privet.kit.errors import InvalidInput, Unavailable

BATCH = 1000


@dataclass(frozen=True)
class Company:
    """A demo company: its datastores (key → tables), their secret names and its row builder."""

    key: str
    datastores: Callable[[], dict[str, MetaData]]
    build: Callable[[Fakes, int], dict[str, list[dict]]]

    def secret(self, datastore: str) -> str:
        """The secret name the data map uses for a datastore, e.g. `keptek_crm`."""
        return f"{self.key}_{datastore}"


def companies() -> dict[str, Company]:
    """The demo companies by key."""
    from privet.demo import keptek_data, keptek_schema, zkteco_data, zkteco_schema

    return {
        "keptek": Company("keptek", keptek_schema.datastores, keptek_data.build),
        "zkteco": Company("zkteco", zkteco_schema.datastores, zkteco_data.build),
    }


def company(key: str) -> Company:
    """The named demo company, or InvalidInput naming the valid ones."""
    known = companies()
    if key not in known:
        raise InvalidInput(f"Unknown demo company {key!r}", f"choose one of: {', '.join(sorted(known))}")
    return known[key]


@dataclass
class Generated:
    """What a run did: rows per table, grouped by datastore, and which datastores it (re)created."""

    tables: dict[str, dict[str, int]]  # datastore -> table -> rows
    created: list[str]

    @property
    def counts(self) -> dict[str, int]:
        """Rows per table across every datastore."""
        return {t: n for tables in self.tables.values() for t, n in tables.items()}


def generate(
    company: str, urls: dict[str, str] | str, *, customers: int = 200, seed: int = 42, reset: bool = False
) -> dict[str, int]:
    """Create and fill the company's datastores; returns rows per table. Populated datastores are left alone."""
    return fill(company, urls, customers=customers, seed=seed, reset=reset).counts


def fill(
    company_key: str,
    urls: dict[str, str] | str,
    *,
    customers: int = 200,
    seed: int = 42,
    reset: bool = False,
    matched: dict[str, list[tuple[str, str, str]]] | None = None,
) -> Generated:
    """Like `generate`, reporting per datastore and whether each was created now or already held data. `matched`
    ({datastore: [(table, column, match mode)]}) names the identity columns compared as an expression (casefold,
    phone): a created datastore gets the index `privet datamap evaluate` asks for on each (none on MariaDB)."""
    comp = company(company_key)
    if customers < 1:
        raise InvalidInput("The number of customers must be at least 1", "pass e.g. --customers 200")
    stores = comp.datastores()
    url_of = _urls(stores, urls)
    engines: dict[str, Engine] = {}
    result = Generated({}, [])
    rows: dict[str, list[dict]] | None = None
    try:
        for key, md in stores.items():
            engine = engines.get(url_of[key]) or engines.setdefault(url_of[key], _engine(url_of[key]))
            existing = _existing_counts(engine, md)
            if existing is not None and not reset:
                result.tables[key] = existing
                continue
            rows = rows if rows is not None else comp.build(Fakes(seed), customers)
            result.tables[key] = _fill(engine, md, rows, reset=reset)
            _match_indexes(engine, (matched or {}).get(key, []))
            result.created.append(key)
    except SQLAlchemyError as exc:
        raise Unavailable(
            f"Cannot write the demo datastore ({type(exc).__name__})",
            "check the URL, that the server runs and that the user may create tables",
        ) from None
    finally:
        for engine in engines.values():
            engine.dispose()
    return result


def _urls(stores: dict[str, MetaData], urls: dict[str, str] | str) -> dict[str, str]:
    if isinstance(urls, str):
        return dict.fromkeys(stores, urls)
    missing = sorted(set(stores) - set(urls))
    if missing:
        raise InvalidInput(
            f"No URL for datastore(s) {', '.join(missing)}",
            f"give one URL for all or a URL for each of: {', '.join(stores)}",
        )
    return {key: urls[key] for key in stores}


def _engine(url: str) -> Engine:
    from privet.db.engine import make_engine

    return make_engine(url, pool_size=2, max_overflow=0)


def _existing_counts(engine: Engine, md: MetaData) -> dict[str, int] | None:
    """Row counts when the datastore already holds the demo tables with data, else None."""
    names = set(inspect(engine).get_table_names())
    present = [t for t in md.sorted_tables if t.name in names]
    if not present:
        return None
    with engine.connect() as conn:
        counts = {t.name: conn.execute(select(func.count()).select_from(t)).scalar_one() for t in present}
    if len(present) < len(md.tables) or not any(counts.values()):
        return None  # half-created or empty: (re)create below
    return counts


def _match_indexes(engine: Engine, columns: list[tuple[str, str, str]]) -> None:
    """The expression indexes that serve identity lookups as they are matched (skipped where one exists)."""
    from privet.datamap.matching import index_statement

    with engine.begin() as conn:
        for table, column, mode in columns:
            statement = index_statement(table, column, mode, conn.dialect.name)
            if statement is None:
                continue  # MariaDB cannot index an expression
            if conn.dialect.name in ("postgresql", "sqlite"):
                statement = statement.replace("CREATE INDEX ", "CREATE INDEX IF NOT EXISTS ", 1)
            conn.execute(text(statement))


def _fill(engine: Engine, md: MetaData, rows: dict[str, list[dict]], *, reset: bool) -> dict[str, int]:
    counts: dict[str, int] = {}
    with engine.begin() as conn:
        if reset:
            md.drop_all(conn)
        md.create_all(conn)
        for table in md.sorted_tables:
            data = rows.get(table.name, [])
            conn.execute(table.delete())  # an empty leftover table: start clean
            for start in range(0, len(data), BATCH):
                conn.execute(table.insert(), data[start : start + BATCH])
            if data and conn.dialect.name == "postgresql" and "id" in table.c:
                # explicit ids leave the serial sequence behind; move it so later inserts do not collide
                conn.execute(
                    text(
                        f"SELECT setval(pg_get_serial_sequence('{table.name}', 'id'), "
                        f"(SELECT max(id) FROM {table.name}))"
                    )
                )
            counts[table.name] = len(data)
    return counts
