from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import Select, select

from viva.kit.pagination import Page, PageRequest
from viva.kit.repository import WorkspaceRepository
from viva.kit.sql import escape_like
from viva.models import AgentProfile


class AgentProfileRepository(WorkspaceRepository[AgentProfile]):
    model = AgentProfile
    sortable = ("created_at", "updated_at", "name")

    def filtered(self, use_case: str | None, q: str | None) -> Select[Any]:
        stmt = self.select()
        return _filters(stmt, use_case, q)

    async def public_library(
        self, request: PageRequest, use_case: str | None, q: str | None
    ) -> Page[AgentProfile]:
        """The public library spans workspaces by design: only rows their owners marked
        public, read-only, and copied (forked) before use."""
        stmt = _filters(select(AgentProfile).where(AgentProfile.is_public.is_(True)), use_case, q)
        return await self.paginate(stmt, request)

    async def get_readable(self, profile_id: uuid.UUID) -> AgentProfile | None:
        """A profile this workspace may read and copy: its own, or anyone's public one."""
        stmt = select(AgentProfile).where(
            AgentProfile.id == profile_id,
            (AgentProfile.workspace_id == self.workspace_id) | AgentProfile.is_public.is_(True),
        )
        return await self.db.scalar(stmt)


def _filters(stmt: Select[Any], use_case: str | None, q: str | None) -> Select[Any]:
    if use_case:
        stmt = stmt.where(AgentProfile.use_case == use_case)
    if q:
        stmt = stmt.where(AgentProfile.name.ilike(f"%{escape_like(q)}%", escape="\\"))
    return stmt
