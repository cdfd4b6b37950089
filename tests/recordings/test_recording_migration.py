"""Migration 0008a moves each session's recording fields into `session_recordings` and back."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa
from alembic import command
from sqlalchemy import create_engine, inspect, pool, text

from tests.test_migrations import _scratch_database
from viva import schema

BEFORE, AFTER = "0007_session_recordings", "0008a_recording_table"


def _filler(column: dict) -> object:
    kind = column["type"]
    if column["name"] == "id" or column["name"].endswith("_id"):
        return uuid.uuid4().hex  # SQLite keeps uuids as 32 hex characters; PostgreSQL parses them
    if isinstance(kind, sa.Boolean):
        return False
    if isinstance(kind, sa.Integer):
        return 0
    if isinstance(kind, sa.Float):
        return 0.0
    if isinstance(kind, sa.DateTime) or "TIMESTAMP" in str(kind).upper() or "DATETIME" in str(kind).upper():
        return datetime(2026, 12, 1, tzinfo=UTC)
    if "JSON" in str(kind).upper():
        return "{}"
    return "x" + uuid.uuid4().hex[:8]


def _insert(conn: sa.Connection, table_name: str, **given: object) -> uuid.UUID:
    """A row with its required columns filled, its parents (foreign keys) made the same way."""
    inspector = inspect(conn)
    values: dict[str, object] = {
        c["name"]: _filler(c)
        for c in inspector.get_columns(table_name)
        if not c["nullable"] and c.get("default") is None
    }
    for fk in inspector.get_foreign_keys(table_name):
        column = fk["constrained_columns"][0]
        if column in values and column not in given and fk["referred_table"] != table_name:
            values[column] = _insert(conn, fk["referred_table"]).hex
    values.update(given)
    conn.execute(sa.Table(table_name, sa.MetaData(), autoload_with=conn).insert().values(**values))
    return uuid.UUID(str(values["id"]))


@pytest.mark.parametrize("kind", ["sqlite", "postgresql"])
def test_recording_fields_move_to_their_table_and_back(kind, tmp_path):
    url = _scratch_database(kind, tmp_path)
    config = schema.alembic_config(url)
    command.upgrade(config, BEFORE)
    engine = create_engine(schema.sync_url(url), poolclass=pool.NullPool)
    with engine.begin() as conn:
        ready = _insert(
            conn,
            "interview_sessions",
            recording_status="ready",
            recording_key="recordings/p/s.ogg",
            recording_bytes=1234,
            recording_seconds=61.5,
            recording_takes=2,
        )
        empty_take = _insert(conn, "interview_sessions", recording_takes=1)  # a take, no part
        text_only = _insert(conn, "interview_sessions")
    command.upgrade(config, AFTER)
    with engine.connect() as conn:
        rows = {
            r.session_id: tuple(r[1:])
            for r in conn.execute(
                text("SELECT session_id, status, key, bytes, seconds, takes FROM session_recordings")
            )
        }
        columns = {c["name"] for c in inspect(conn).get_columns("interview_sessions")}
    assert {uuid.UUID(str(k)): v for k, v in rows.items()} == {
        ready: ("ready", "recordings/p/s.ogg", 1234, 61.5, 2),
        empty_take: (None, None, None, None, 1),
    }
    assert not {c for c in columns if c.startswith("recording_")} and text_only not in rows
    command.downgrade(config, BEFORE)
    with engine.connect() as conn:
        back = {
            uuid.UUID(str(r[0])): tuple(r[1:])
            for r in conn.execute(
                text(
                    "SELECT id, recording_status, recording_key, recording_bytes, recording_seconds, "
                    "recording_takes FROM interview_sessions"
                )
            )
        }
        assert "session_recordings" not in inspect(conn).get_table_names()
    assert back == {
        ready: ("ready", "recordings/p/s.ogg", 1234, 61.5, 2),
        empty_take: (None, None, None, None, 1),
        text_only: (None, None, None, None, 0),
    }
    engine.dispose()
