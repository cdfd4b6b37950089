"""Running migrations and checking that the database is at head."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, pool

from viva.config import ensure_sqlite_dir, to_async_url

# Migrations live at the repository root (DESIGN.md); the package is installed editable.
MIGRATIONS = Path(__file__).resolve().parents[2] / "migrations"


def sync_url(url: str) -> str:
    """The synchronous twin of a database URL (Alembic runs synchronously)."""
    return to_async_url(url).replace("sqlite+aiosqlite://", "sqlite://")


def alembic_config(url: str) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option(
        "file_template", "%%(year)d-%%(month).2d-%%(day).2d-%%(hour).2d%%(minute).2d_%%(slug)s"
    )
    cfg.attributes["url"] = url
    return cfg


def upgrade(url: str) -> None:
    """Bring the database at `url` to the newest migration."""
    ensure_sqlite_dir(to_async_url(url))
    command.upgrade(alembic_config(url), "head")


def head_revision() -> str | None:
    return ScriptDirectory.from_config(alembic_config("")).get_current_head()


def current_revision(url: str) -> str | None:
    engine = create_engine(sync_url(url), poolclass=pool.NullPool)
    try:
        with engine.connect() as conn:
            return MigrationContext.configure(conn).get_current_revision()
    finally:
        engine.dispose()
