"""The SQL connector (kinds sqlite, postgresql, mysql): fetch, erase and rectify a subject's rows.

The dialect comes from the connection URL, not the kind (the demo keeps `kind: sqlite` while running on one
PostgreSQL database). Engines are shared per URL (`engines.py`); the plan is completed with reflected foreign keys
on first use and cached (`schema.py`) — `connector.plan` is then the completed plan. Errors name the datastore
and the error class only; statements and parameters (personal data) never appear.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from datetime import date
from typing import Any, TypeVar

from sqlalchemy import Connection, Engine, text
from sqlalchemy.exc import ArgumentError, DBAPIError, SQLAlchemyError

from privet.connectors.base import Connector, ConnectorError, DatastorePlan, StepResult, register
from privet.connectors.sql import engines
from privet.connectors.sql.erase import COPY_PASSES, Expected, absorb_copies
from privet.connectors.sql.erase import erase as erase_rows
from privet.connectors.sql.intent import expected_json, observed
from privet.connectors.sql.output import fetched
from privet.connectors.sql.rectify import prepare
from privet.connectors.sql.rectify import rectify as rectify_rows
from privet.connectors.sql.schema import Layout, forget, layout_for
from privet.connectors.sql.walk import find, holds_any
from privet.settings import Settings

log = logging.getLogger(__name__)
T = TypeVar("T")


class SqlConnector(Connector):
    """One SQL datastore; safe to create per step (connections come from the shared pool)."""

    kind = "sql"

    def __init__(self, plan: DatastorePlan, secret: str | None, *, hash_key: bytes) -> None:
        super().__init__(plan, secret)
        if len(hash_key or b"") < 16:  # never a built-in key: hashed values must not be reversible by anyone else
            raise ValueError("the SQL connector needs the installation's key for hashing erased values")
        self.hash_key = hash_key  # `open_connector` passes the installation's (for_settings)
        self._layout: Layout | None = None

    @classmethod
    def for_settings(cls, plan: DatastorePlan, secret: str | None, settings: Settings) -> SqlConnector:
        """The connector with the installation's key for hashing erased values."""
        from privet.kit.crypto import Keyring

        return cls(plan, secret, hash_key=Keyring.from_settings(settings).derive("connectors:erasure-hash"))

    # --- plumbing -----------------------------------------------------------------------------------------
    def _fail(self, what: str, exc: BaseException) -> ConnectorError:
        if self.secret:
            forget(self.secret)  # the schema may have changed under us: the next attempt reflects again
        cause = getattr(exc, "orig", None) or exc
        log.warning("datastore %s: %s failed (%s)", self.plan.datastore, what, type(cause).__name__)
        return ConnectorError(f"Datastore `{self.plan.datastore}`: {what} failed ({type(cause).__name__})")

    def _engine(self) -> Engine:
        if not self.secret:
            raise ConnectorError(
                f"Datastore `{self.plan.datastore}` has no connection URL "
                "(name a secret in the data map and configure it)"
            )
        try:
            return engines.engine_for(self.secret)
        except (ArgumentError, ValueError, ImportError) as exc:
            raise ConnectorError(
                f"Datastore `{self.plan.datastore}`: the connection URL is not usable ({type(exc).__name__})"
            ) from None

    def _once(self, engine: Engine, work: Callable[[Connection, Layout], T], write: bool) -> T:
        with engine.connect() as conn:
            if self._layout is None:
                assert self.secret is not None  # _engine() refused a datastore without one
                self._layout = layout_for(conn, self.secret, self.plan)
                self.plan = self._layout.plan
                conn.rollback()  # reflection ran in its own implicit transaction
            if write:
                conn.execution_options(privet_write=True)  # SQLite: BEGIN IMMEDIATE (see engines.py)
                with conn.begin():
                    return work(conn, self._layout)
            if conn.dialect.name != "sqlite":
                # reads need no transaction: under READ COMMITTED each statement takes its own snapshot anyway,
                # and BEGIN/ROLLBACK would add two round trips to every access request
                conn.execution_options(isolation_level="AUTOCOMMIT")
                return work(conn, self._layout)
            with conn.begin() as tx:
                result = work(conn, self._layout)
                tx.rollback()
                return result

    def _run(self, what: str, work: Callable[[Connection, Layout], T], *, write: bool) -> T:
        """Run `work` on a pooled connection (in one transaction when it writes); errors become ConnectorError.

        Pooled connections are not pinged before use (a round trip per request); one the server dropped fails
        its first statement, is discarded, and the work runs once more on a fresh connection — safe for
        writes too, as an interrupted transaction was rolled back and erasure is idempotent."""
        engine = self._engine()
        driver_error: Any = getattr(engine.dialect.loaded_dbapi, "Error", DBAPIError)  # the driver's (untyped) Error
        for attempt in (1, 2):
            try:
                return self._once(engine, work, write)
            except DBAPIError as exc:
                if attempt == 1 and exc.connection_invalidated:
                    continue
                raise self._fail(what, exc) from None
            except driver_error as exc:  # raised outside a statement, e.g. while switching to autocommit
                if attempt == 1 and engine.dialect.is_disconnect(exc, None, None):
                    continue
                raise self._fail(what, exc) from None
            except SQLAlchemyError as exc:
                raise self._fail(what, exc) from None
        raise AssertionError("unreachable")

    def layout(self) -> Layout:
        """The completed plan with reflected tables (reflecting on first use)."""
        if self._layout is None:
            self._run("reflection", lambda _c, _l: None, write=False)
        assert self._layout is not None
        return self._layout

    # --- the connector interface --------------------------------------------------------------------------
    def test_connection(self) -> None:
        """Raise ConnectorError when the datastore cannot be reached."""
        self._run("connection test", lambda conn, _l: conn.execute(text("SELECT 1")).scalar_one(), write=False)

    def fetch(self, identities: dict[str, list[str]]) -> StepResult:
        """The subject's rows (declared fields and keys only; never values of undisclosed categories), the
        non-personal rows they point at, and the other people's rows they point at, named by table and key."""

        def work(conn: Connection, layout: Layout) -> StepResult:
            return fetched(layout, find(conn, layout, identities, access=True))

        return self._run("fetch", work, write=False)

    def holds(self, identities: dict[str, list[str]]) -> bool:
        """Whether the datastore's identity columns name the person (no rows are read; see `walk.holds_any`)."""
        return self._run("lookup", lambda conn, layout: holds_any(conn, layout, identities), write=False)

    def _commit_hook(self, result: StepResult, expected: Expected) -> None:
        if self.before_commit is not None:
            self.before_commit(result, expected_json(self.layout(), expected))

    def erase(self, identities: dict[str, list[str]], *, retain_from: date) -> StepResult:
        """Apply every field's erasure action to the subject's rows in one transaction."""

        def work(conn: Connection, layout: Layout) -> StepResult:
            found = find(conn, layout, identities)
            result, expected = erase_rows(conn, layout, found, retain_from=retain_from, hash_key=self.hash_key)
            for _ in range(COPY_PASSES if layout.triggers else 0):  # rows a trigger wrote meanwhile: theirs too
                fresh = find(conn, layout, identities).fresh(found)
                if not any(fresh.kind.values()):
                    break
                more, also = erase_rows(conn, layout, fresh, retain_from=retain_from, hash_key=self.hash_key)
                absorb_copies(result, expected, more, also)
                found.absorbed(fresh)
            self._commit_hook(result, expected)
            return result

        return self._run("erasure", work, write=True)

    def rectify(self, identities: dict[str, list[str]], changes: Mapping[str, str | dict[str, str]]) -> StepResult:
        """Set every field of each corrected category on the subject's rows (validated before any write)."""
        layout = self.layout()
        layout.check()
        updates = prepare(layout, changes)

        def work(conn: Connection, layout: Layout) -> StepResult:
            result, expected = rectify_rows(conn, layout, find(conn, layout, identities), updates)
            self._commit_hook(result, expected)
            return result

        return self._run("rectification", work, write=True)

    def check_changes(self, changes: dict[str, object]) -> None:
        """InvalidInput when a correction cannot fit this datastore's columns (type, length, parts): checked when
        the request is filed, so a value that can never be written is refused before anything runs."""
        layout = self.layout()
        layout.check()
        prepare(layout, changes)

    def confirm(self, expected: dict) -> bool:
        """Whether the database holds the state an interrupted erasure or rectification was about to commit."""
        return self._run("confirmation", lambda conn, layout: observed(conn, layout, expected), write=False)


@register
class SqliteConnector(SqlConnector):
    kind = "sqlite"


@register
class PostgresConnector(SqlConnector):
    kind = "postgresql"


@register
class MysqlConnector(SqlConnector):
    kind = "mysql"
