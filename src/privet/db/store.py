"""Opening Privet's store from the CLI and jobs: settings → engine → one unit of work."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from privet.db.engine import make_engine, make_sessionmaker, session_scope
from privet.db.migrate import require_current
from privet.settings import Settings, get_settings


def open_engine(settings: Settings | None = None) -> Engine:
    """An engine for the configured store."""
    settings = settings or get_settings()
    return make_engine(settings.sqlalchemy_url, pool_size=settings.db_pool_size, max_overflow=settings.db_max_overflow)


@contextlib.contextmanager
def store_session(settings: Settings | None = None, *, engine: Engine | None = None) -> Iterator[Session]:
    """A committed-once session on a store whose migrations are current."""
    own = engine is None
    engine = engine or open_engine(settings)
    try:
        require_current(engine)
        with session_scope(make_sessionmaker(engine, settings or get_settings())) as session:
            yield session
    finally:
        if own:
            engine.dispose()
