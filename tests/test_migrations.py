"""Migrations build the whole schema from nothing on both databases, and the models match
them exactly (`alembic check`)."""

from __future__ import annotations

import os
from datetime import timedelta

import pytest
from alembic import command
from sqlalchemy import create_engine, inspect, make_url, pool, text
from sqlalchemy.orm import Session

from viva import schema
from viva.kit import clock
from viva.models import (
    Base,
    EmailMessage,
    EvaluationStage,
    EvaluationTemplate,
    InterviewSession,
    Participant,
    Workspace,
)


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


@pytest.mark.parametrize("kind", ["sqlite", "postgresql"])
def test_invite_status_backfill_says_not_configured_and_none(kind, tmp_path):
    """Sessions from before 0008d kept "queued" forever when their invite only reached the
    outbox, and reviewer-only sessions said "queued" though nothing is sent."""
    url = _scratch_database(kind, tmp_path)
    config = schema.alembic_config(url)
    command.upgrade(config, "0008d_api_compat-1")  # just before the backfill
    engine = create_engine(schema.sync_url(url), poolclass=pool.NullPool)
    with Session(engine) as db:
        workspace = Workspace(slug="acme", name="Acme")
        db.add(workspace)
        db.flush()
        ws = {"workspace_id": workspace.id}
        template = EvaluationTemplate(
            **ws,
            template_name="Role",
            use_case="hiring",
            success_outcome="hire_no_hire",
            skills=[],
            soft_skills=[],
            default_duration_minutes=30,
            default_difficulty="intermediate",
            session_mode="live_ai_interview",
            visibility="team",
            language="en",
            status="active",
        )
        db.add(template)
        db.flush()
        stage = EvaluationStage(
            **ws,
            evaluation_template_id=template.id,
            type="screen",
            stage_name="Screen",
            stage_type="ai_interview",
            stage_order=0,
            duration_minutes=30,
            difficulty="intermediate",
            allow_retake=False,
            max_attempts=1,
            automation_rule="none",
            status="active",
        )
        person = Participant(
            **ws,
            evaluation_template_id=template.id,
            name="Ada",
            email="ada@example.com",
            dedupe_key="x",
            tags=[],
            profile={},
            background={},
            resume_status="none",
            metadata_={},
            status="active",
        )
        db.add_all([stage, person])
        db.flush()

        def session(name: str, invite_status: str, *mails: str, manual: bool = False) -> InterviewSession:
            row = InterviewSession(
                **ws,
                participant_id=person.id,
                evaluation_template_id=template.id,
                evaluation_stage_id=stage.id,
                stage="screen",
                stage_name=name,
                status="scheduled",
                join_token_hash=name,
                join_token_encrypted=name,
                invite_status=invite_status,
                expires_at=clock.now(),
                manual=manual,
                forced=True,  # several open sessions of one person and stage: only forced ones may be
            )
            db.add(row)
            db.flush()
            for i, status in enumerate(mails):
                db.add(
                    EmailMessage(
                        **ws,
                        session_id=row.id,
                        kind="invite" if i == 0 else "reschedule",
                        to_address="ada@example.com",
                        subject="s",
                        text_body="t",
                        html_body="h",
                        status=status,
                        created_at=clock.now() + timedelta(seconds=i),
                    )
                )
            return row

        session("outboxed", "queued", "outbox")
        session("rescheduled-outboxed", "queued", "outbox", "outbox")
        session("waiting", "queued", "outbox", "queued")  # its newest invite is still queued
        session("delivered", "sent", "sent")
        session("review", "queued", manual=True)
        db.commit()

    def statuses() -> dict[str, str]:
        with engine.connect() as conn:
            rows = conn.execute(text("SELECT stage_name, invite_status FROM interview_sessions"))
            return {name: status for name, status in rows}

    command.upgrade(config, "head")
    assert statuses() == {
        "outboxed": "not_configured",
        "rescheduled-outboxed": "not_configured",
        "waiting": "queued",
        "delivered": "sent",
        "review": "none",
    }
    command.downgrade(config, "0008d_api_compat-1")  # back to the values the old code knows
    assert set(statuses().values()) == {"queued", "sent"}
    engine.dispose()
