"""Repositories scoped to one workspace: a query that forgets the workspace can't be built."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any, ClassVar, Generic, TypeVar

from sqlalchemy import Select, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from viva.kit.pagination import Page, PageRequest

M = TypeVar("M")


class WorkspaceRepository(Generic[M]):
    """Base for every tenant-owned table. Subclasses set `model` (which must have
    `id`, `workspace_id` and `created_at`) and the columns a list may be sorted by."""

    model: ClassVar[type[Any]]
    sortable: ClassVar[tuple[str, ...]] = ("created_at", "updated_at")

    def __init__(self, db: AsyncSession, workspace_id: uuid.UUID) -> None:
        if workspace_id is None:
            raise ValueError("a repository needs a workspace id")
        self.db = db
        self.workspace_id = workspace_id

    def select(self) -> Select[Any]:
        """SELECT of this workspace's rows; every read starts here."""
        return select(self.model).where(self.model.workspace_id == self.workspace_id)

    async def get(self, id: uuid.UUID) -> M | None:
        result = await self.db.execute(self.select().where(self.model.id == id))
        return result.scalar_one_or_none()  # type: ignore[no-any-return]

    async def get_many(self, ids: Sequence[uuid.UUID]) -> list[M]:
        if not ids:
            return []
        result = await self.db.execute(self.select().where(self.model.id.in_(list(ids))))
        return list(result.scalars())

    def add(self, obj: M) -> M:
        obj.workspace_id = self.workspace_id  # type: ignore[attr-defined]
        self.db.add(obj)
        return obj

    async def delete(self, obj: M) -> None:
        if obj.workspace_id != self.workspace_id:  # type: ignore[attr-defined]
            raise ValueError("object belongs to another workspace")
        await self.db.delete(obj)

    async def paginate(self, stmt: Select[Any], request: PageRequest) -> Page[M]:
        """Run `stmt` (which must come from `select()`) for one page, with the total."""
        total = await self.db.scalar(select(func.count()).select_from(stmt.order_by(None).subquery()))
        column = getattr(self.model, request.sort_field)
        order = column.desc() if request.descending else column.asc()
        tie = self.model.id.desc() if request.descending else self.model.id.asc()
        rows = await self.db.execute(
            stmt.order_by(order, tie).offset(request.offset).limit(request.page_size)
        )
        return Page(items=list(rows.scalars()), total=int(total or 0), request=request)
