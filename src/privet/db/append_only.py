"""Tables the database itself keeps append-only: triggers refuse UPDATE and DELETE (and TRUNCATE on PostgreSQL).

Privet never changes or removes a row of these tables (the audit events, the consent ledger), so the triggers have
no exception and no setting that lifts them: getting round them takes DDL (dropping or disabling a trigger), which
the application never does. A change made that way is what the keyed audit chain exists to reveal.

A table is marked with `guard(table)` next to its model: `create_all` then installs the triggers with the table
(test stores), and a migration installs them on existing stores (0008). A migration that rebuilds a guarded table
(SQLite batch mode copies it into a new table) must call `install` again, since the copy has no triggers.
"""

from __future__ import annotations

from sqlalchemy import Connection, Table, event

GUARDED_INFO = "privet_append_only"  # Table.info flag set by `guard`
_FUNCTION = "privet_refuse_change"  # PostgreSQL: the one trigger function every guarded table shares


def guard(table: Table) -> Table:
    """Mark `table` append-only: `create_all` installs its triggers right after creating it."""
    table.info[GUARDED_INFO] = True
    event.listen(table, "after_create", lambda target, connection, **_: install(connection, target.name))
    return table


def message(table: str, operation: str) -> str:
    """The error text every dialect raises: what was refused and why."""
    return (
        f"{table} is append-only: {operation} refused (Privet keeps its audit events and consent ledger "
        "unchanged; record a new event instead)"
    )


def trigger_names(dialect: str, table: str) -> list[str]:
    """The names of the triggers `install` creates for `table` on `dialect`."""
    if dialect == "postgresql":
        return [f"{table}_append_only", f"{table}_no_truncate"]
    return [f"{table}_no_update", f"{table}_no_delete"]


def _statements(dialect: str, table: str) -> list[str]:
    update, delete = (message(table, op) for op in ("UPDATE", "DELETE"))
    if dialect == "sqlite":
        return [
            f"CREATE TRIGGER {name} BEFORE {op} ON {table} BEGIN SELECT RAISE(ABORT, '{text}'); END"
            for name, op, text in zip(trigger_names(dialect, table), ("UPDATE", "DELETE"), (update, delete))
        ]
    if dialect in ("mysql", "mariadb"):
        return [
            f"CREATE TRIGGER {name} BEFORE {op} ON {table} FOR EACH ROW "
            f"SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = '{text}'"
            for name, op, text in zip(trigger_names(dialect, table), ("UPDATE", "DELETE"), (update, delete))
        ]
    if dialect == "postgresql":
        # statement-level: a refused statement costs nothing per row; TRUNCATE fires no row trigger, so it has its own
        rows, truncate = trigger_names(dialect, table)
        return [
            # no '%' placeholders: drivers would take them for parameters
            f"CREATE OR REPLACE FUNCTION {_FUNCTION}() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
            f"RAISE EXCEPTION USING ERRCODE = 'restrict_violation', MESSAGE = TG_TABLE_NAME || ' is append-only: ' "
            f"|| TG_OP || ' refused (Privet keeps its audit events and consent ledger unchanged; record a new event "
            f"instead)'; END $$",
            f"CREATE TRIGGER {rows} BEFORE UPDATE OR DELETE ON {table} FOR EACH STATEMENT "
            f"EXECUTE FUNCTION {_FUNCTION}()",
            f"CREATE TRIGGER {truncate} BEFORE TRUNCATE ON {table} FOR EACH STATEMENT EXECUTE FUNCTION {_FUNCTION}()",
        ]
    raise NotImplementedError(f"no append-only triggers for the {dialect} dialect")


def install(connection: Connection, table: str) -> None:
    """Create the triggers refusing UPDATE and DELETE on `table` (a name from our own models, never input)."""
    for statement in _statements(connection.dialect.name, table):
        connection.exec_driver_sql(statement)


def uninstall(connection: Connection, table: str) -> None:
    """Drop `table`'s triggers (a migration's downgrade; never called by Privet at run time)."""
    dialect = connection.dialect.name
    for name in trigger_names(dialect, table):
        on = f" ON {table}" if dialect == "postgresql" else ""
        connection.exec_driver_sql(f"DROP TRIGGER IF EXISTS {name}{on}")


def installed(connection: Connection, table: str) -> set[str]:
    """The names of `table`'s triggers that are present (and, on PostgreSQL, enabled)."""
    dialect = connection.dialect.name
    if dialect == "sqlite":
        sql = "SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = ?"
    elif dialect == "postgresql":
        sql = "SELECT tgname FROM pg_trigger WHERE tgrelid = to_regclass(%s) AND NOT tgisinternal AND tgenabled <> 'D'"
    else:
        sql = (
            "SELECT trigger_name FROM information_schema.triggers WHERE event_object_schema = DATABASE() "
            "AND event_object_table = %s"
        )
    return {row[0] for row in connection.exec_driver_sql(sql, (table,))}
