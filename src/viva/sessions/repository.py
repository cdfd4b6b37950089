from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Select, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from viva.kit.repository import WorkspaceRepository
from viva.models import IdempotencyKey, InterviewSession, Participant, TranscriptTurn


class SessionRepository(WorkspaceRepository[InterviewSession]):
    model = InterviewSession
    sortable = ("created_at", "updated_at", "scheduled_at")

    def with_external_id(self) -> Select[Any]:
        """Sessions with their participant's external_id (echoed in every session payload)."""
        stmt = (
            select(InterviewSession, Participant.external_id)
            .join(Participant, Participant.id == InterviewSession.participant_id)
            .where(InterviewSession.workspace_id == self.workspace_id)
        )
        return cast(Select[Any], stmt)

    async def get_with_external_id(self, session_id: uuid.UUID) -> tuple[InterviewSession, str | None] | None:
        row = (
            await self.db.execute(self.with_external_id().where(InterviewSession.id == session_id))
        ).first()
        return (row[0], row[1]) if row else None

    def filtered(
        self,
        *,
        status: str | None = None,
        candidate_id: uuid.UUID | None = None,
        template_id: uuid.UUID | None = None,
        stage_id: uuid.UUID | None = None,
        stage: str | None = None,
        external_id: str | None = None,
        review_status: str | None = None,
        passed: bool | None = None,
        updated_since: datetime | None = None,
    ) -> Select[Any]:
        stmt = self.with_external_id()
        if status:
            stmt = stmt.where(InterviewSession.status == status)
        if candidate_id:
            stmt = stmt.where(InterviewSession.participant_id == candidate_id)
        if template_id:
            stmt = stmt.where(InterviewSession.evaluation_template_id == template_id)
        if stage_id:
            stmt = stmt.where(InterviewSession.evaluation_stage_id == stage_id)
        if stage:
            label = stage.lower()
            stmt = stmt.where(
                or_(
                    func.lower(InterviewSession.stage) == label,
                    func.lower(InterviewSession.stage_name) == label,
                )
            )
        if external_id:
            stmt = stmt.where(Participant.external_id == external_id)
        if review_status:
            stmt = stmt.where(InterviewSession.review_status == review_status)
        if passed is not None:
            stmt = stmt.where(InterviewSession.passed.is_(passed))
        if updated_since:
            stmt = stmt.where(InterviewSession.updated_at >= updated_since)
        return stmt

    async def page_with_external_ids(
        self, stmt: Select[Any], offset: int, limit: int, descending: bool, sort: str
    ) -> tuple[list[tuple[InterviewSession, str | None]], int]:
        total = await self.db.scalar(select(func.count()).select_from(stmt.order_by(None).subquery()))
        column = getattr(InterviewSession, sort)
        order = (
            (column.desc(), InterviewSession.id.desc())
            if descending
            else (column.asc(), InterviewSession.id.asc())
        )
        rows = await self.db.execute(stmt.order_by(*order).offset(offset).limit(limit))
        return [(r[0], r[1]) for r in rows.all()], int(total or 0)

    async def for_participant_stage(
        self, participant_id: uuid.UUID, stage_id: uuid.UUID
    ) -> list[InterviewSession]:
        rows = await self.db.execute(
            self.select()
            .where(
                InterviewSession.participant_id == participant_id,
                InterviewSession.evaluation_stage_id == stage_id,
            )
            .order_by(InterviewSession.created_at)
        )
        return list(rows.scalars())

    async def open_unforced_id(self, participant_id: uuid.UUID, stage_id: uuid.UUID) -> uuid.UUID | None:
        """The session holding the participant's one open slot in the stage, if any."""
        found: uuid.UUID | None = await self.db.scalar(
            select(InterviewSession.id).where(
                InterviewSession.workspace_id == self.workspace_id,
                InterviewSession.participant_id == participant_id,
                InterviewSession.evaluation_stage_id == stage_id,
                InterviewSession.status.in_(("scheduled", "in_progress")),
                InterviewSession.forced.is_(False),
                InterviewSession.manual.is_(False),
            )
        )
        return found

    async def by_token_hash(self, token_hash: str) -> InterviewSession | None:
        found: InterviewSession | None = await self.db.scalar(
            self.select().where(InterviewSession.join_token_hash == token_hash)
        )
        return found

    async def count_for_stage(self, stage_id: uuid.UUID) -> int:
        return int(
            await self.db.scalar(
                select(func.count())
                .select_from(InterviewSession)
                .where(
                    InterviewSession.workspace_id == self.workspace_id,
                    InterviewSession.evaluation_stage_id == stage_id,
                )
            )
            or 0
        )


class IdempotencyRepository(WorkspaceRepository[IdempotencyKey]):
    model = IdempotencyKey

    async def by_key(self, key: str) -> IdempotencyKey | None:
        found: IdempotencyKey | None = await self.db.scalar(self.select().where(IdempotencyKey.key == key))
        return found


async def due_for_expiry(db: AsyncSession, now: datetime, limit: int) -> list[InterviewSession]:
    """Scheduled sessions past their expiry, across workspaces (the sweep job)."""
    rows = await db.execute(
        select(InterviewSession)
        .where(
            InterviewSession.status == "scheduled",
            InterviewSession.expires_at < now,
            InterviewSession.manual.is_(False),  # waiting for a reviewer, not a candidate
        )
        .order_by(InterviewSession.expires_at)
        .limit(limit)
    )
    return list(rows.scalars())


async def session_by_id(db: AsyncSession, session_id: uuid.UUID) -> InterviewSession | None:
    """For jobs, which are told an id and find the workspace from the row."""
    return await db.scalar(select(InterviewSession).where(InterviewSession.id == session_id))


class TurnRepository(WorkspaceRepository[TranscriptTurn]):
    model = TranscriptTurn

    async def for_session(self, session_id: uuid.UUID) -> list[TranscriptTurn]:
        rows = await self.db.execute(
            self.select().where(TranscriptTurn.session_id == session_id).order_by(TranscriptTurn.seq)
        )
        return list(rows.scalars())

    async def next_seq(self, session_id: uuid.UUID) -> int:
        top = await self.db.scalar(
            select(func.max(TranscriptTurn.seq)).where(
                TranscriptTurn.workspace_id == self.workspace_id, TranscriptTurn.session_id == session_id
            )
        )
        return int(top or 0) + 1


async def session_by_token_hash(
    db: AsyncSession, token_hash: str, lock: bool = False
) -> InterviewSession | None:
    """The join link is the candidate's only credential; it names the session (and so its workspace).
    `lock`: hold the row until commit (PostgreSQL), for read-modify-write of its JSON columns."""
    stmt = select(InterviewSession).where(InterviewSession.join_token_hash == token_hash)
    return await db.scalar(stmt.with_for_update() if lock else stmt)


async def claim_turn(
    db: AsyncSession, session_id: uuid.UUID, owner: str, now: datetime, until: datetime
) -> bool:
    """Take the session's turn lease if it is free or expired; False when another request holds it."""
    result = await db.execute(
        update(InterviewSession)
        .where(
            InterviewSession.id == session_id,
            or_(InterviewSession.turn_lock_until.is_(None), InterviewSession.turn_lock_until < now),
        )
        .values(turn_lock_owner=owner, turn_lock_until=until)
        .execution_options(synchronize_session=False)
    )
    return bool(getattr(result, "rowcount", 0))


async def renew_turn(db: AsyncSession, session_id: uuid.UUID, owner: str, until: datetime) -> bool:
    """Extend `owner`'s lease (compare-and-set on the owner); False when it is not theirs any more."""
    result = await db.execute(
        update(InterviewSession)
        .where(InterviewSession.id == session_id, InterviewSession.turn_lock_owner == owner)
        # A heartbeat is not a change an integrator syncing on updated_at wants to see.
        .values(turn_lock_until=until, updated_at=InterviewSession.updated_at)
        .execution_options(synchronize_session=False)
    )
    return bool(getattr(result, "rowcount", 0))


async def release_turn(db: AsyncSession, session_id: uuid.UUID, owner: str) -> None:
    await db.execute(
        update(InterviewSession)
        .where(InterviewSession.id == session_id, InterviewSession.turn_lock_owner == owner)
        .values(turn_lock_owner=None, turn_lock_until=None)
        .execution_options(synchronize_session=False)
    )


async def live_due(
    db: AsyncSession, now: datetime, seen_before: datetime, limit: int
) -> list[InterviewSession]:
    """Interviews past their hard stop, or whose candidate has been silent since `seen_before`."""
    rows = await db.execute(
        select(InterviewSession)
        .where(
            InterviewSession.status == "in_progress",
            or_(InterviewSession.hard_stop_at < now, InterviewSession.last_seen_at < seen_before),
        )
        .limit(limit)
        .with_for_update(skip_locked=True)  # a session a room request is writing waits for the next sweep
    )
    return list(rows.scalars())
