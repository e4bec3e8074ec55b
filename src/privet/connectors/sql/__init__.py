"""SQL datastores (SQLite, PostgreSQL, MySQL/MariaDB); importing this registers their connector kinds."""

from privet.connectors.sql.connector import MysqlConnector, PostgresConnector, SqlConnector, SqliteConnector

__all__ = ["MysqlConnector", "PostgresConnector", "SqlConnector", "SqliteConnector"]
