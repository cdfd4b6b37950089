"""Migrations build the whole schema from nothing on both databases, and the models match
them exactly (`alembic check`)."""

from __future__ import annotations

import os

import pytest
from alembic import command
from sqlalchemy import create_engine, inspect, make_url, pool, text

from viva import schema
from viva.models import Base


def _scratch_database(kind: str, tmp_path) -> str:
    if kind == "sqlite":
        return f"sqlite:///{tmp_path / 'migrations.db'}"
    base = os.environ.get("VIVA_TEST_DATABASE_URL")
    if not base:
        pytest.skip("PostgreSQL: set VIVA_TEST_DATABASE_URL to run against it")
    url = make_url(schema.sync_url(base))
    name = f"{url.database}_migrations_{os.environ.get('PYTEST_XDIST_WORKER', 'main')}"
    admin = create_engine(url, poolclass=pool.NullPool, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return url.set(database=name).render_as_string(hide_password=False)


@pytest.mark.parametrize("kind", ["sqlite", "postgresql"])
def test_upgrade_from_empty_matches_models_and_round_trips(kind, tmp_path):
    url = _scratch_database(kind, tmp_path)
    assert schema.current_revision(url) is None
    schema.upgrade(url)
    assert schema.current_revision(url) == schema.head_revision()
    command.check(schema.alembic_config(url))  # raises if models and migrations differ

    engine = create_engine(schema.sync_url(url), poolclass=pool.NullPool)
    tables = set(inspect(engine).get_table_names())
    assert set(Base.metadata.tables) <= tables
    command.downgrade(schema.alembic_config(url), "base")
    assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
    schema.upgrade(url)
    assert schema.current_revision(url) == schema.head_revision()
    engine.dispose()
