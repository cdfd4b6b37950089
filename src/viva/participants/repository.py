from __future__ import annotations

import uuid
from collections.abc import Collection, Sequence
from typing import Any

from sqlalchemy import Select, delete, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from viva.kit.repository import WorkspaceRepository
from viva.kit.sql import JsonArrayContains, escape_like
from viva.models import Participant, ResumeChunk


class ParticipantRepository(WorkspaceRepository[Participant]):
    model = Participant

    def filtered(
        self,
        template_id: uuid.UUID | None = None,
        status: str | None = None,
        email: str | None = None,
        external_id: str | None = None,
        tag: str | None = None,
        q: str | None = None,
    ) -> Select[Any]:
        stmt = self.select()
        if template_id:
            stmt = stmt.where(Participant.evaluation_template_id == template_id)
        if status:
            stmt = stmt.where(Participant.status == status)
        if email:
            stmt = stmt.where(Participant.email == email.strip().lower())
        if external_id:
            stmt = stmt.where(Participant.external_id == external_id)
        if tag:
            stmt = stmt.where(JsonArrayContains(Participant.tags, tag))
        if q:
            pattern = f"%{escape_like(q)}%"
            stmt = stmt.where(
                or_(
                    Participant.name.ilike(pattern, escape="\\"),
                    Participant.email.ilike(pattern, escape="\\"),
                )
            )
        return stmt

    async def existing_keys(self, keys: Collection[str]) -> set[str]:
        if not keys:
            return set()
        rows = await self.db.execute(
            select(Participant.dedupe_key).where(
                Participant.workspace_id == self.workspace_id, Participant.dedupe_key.in_(list(keys))
            )
        )
        return set(rows.scalars())

    async def count_for_template(self, template_id: uuid.UUID) -> int:
        stmt = (
            select(func.count())
            .select_from(Participant)
            .where(
                Participant.workspace_id == self.workspace_id,
                Participant.evaluation_template_id == template_id,
            )
        )
        return int(await self.db.scalar(stmt) or 0)

    async def drop_resume_chunks(self, participant_id: uuid.UUID) -> None:
        await self.db.execute(
            delete(ResumeChunk).where(
                ResumeChunk.workspace_id == self.workspace_id, ResumeChunk.participant_id == participant_id
            )
        )

    def add_resume_chunks(
        self, participant_id: uuid.UUID, chunks: list[str], embeddings: Sequence[bytes | None]
    ) -> None:
        self.db.add_all(
            ResumeChunk(
                workspace_id=self.workspace_id,
                participant_id=participant_id,
                position=i,
                text=text,
                embedding=embedding,
            )
            for i, (text, embedding) in enumerate(zip(chunks, embeddings, strict=True))
        )

    async def resume_chunks(self, participant_id: uuid.UUID) -> list[str]:
        rows = await self.db.execute(
            select(ResumeChunk.text)
            .where(
                ResumeChunk.workspace_id == self.workspace_id, ResumeChunk.participant_id == participant_id
            )
            .order_by(ResumeChunk.position)
        )
        return list(rows.scalars())

    async def resume_chunks_with_embeddings(
        self, participant_id: uuid.UUID
    ) -> list[tuple[str, bytes | None]]:
        rows = await self.db.execute(
            select(ResumeChunk.text, ResumeChunk.embedding)
            .where(
                ResumeChunk.workspace_id == self.workspace_id, ResumeChunk.participant_id == participant_id
            )
            .order_by(ResumeChunk.position)
        )
        return [(text, embedding) for text, embedding in rows.tuples()]

    @staticmethod
    async def by_id_any_workspace(db: AsyncSession, participant_id: uuid.UUID) -> Participant | None:
        """For jobs, which are told an id and find the workspace from the row."""
        found: Participant | None = await db.scalar(
            select(Participant).where(Participant.id == participant_id)
        )
        return found
