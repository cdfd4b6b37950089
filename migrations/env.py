"""Alembic environment: one migration stream for SQLite and PostgreSQL (batch mode)."""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine, pool

from viva.config import get_settings
from viva.models import Base
from viva.schema import sync_url

config = context.config
url = config.attributes.get("url") or config.get_main_option("sqlalchemy.url") or get_settings().database_url


def run() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _migrate(connection)
        return
    engine = create_engine(sync_url(url), poolclass=pool.NullPool)
    with engine.begin() as connection:
        _migrate(connection)
    engine.dispose()


def _migrate(connection) -> None:  # type: ignore[no-untyped-def]
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        render_as_batch=True,  # SQLite can't ALTER most things; batch mode rebuilds tables
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


run()
