from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from viva.kit.repository import WorkspaceRepository
from viva.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint


class EndpointRepository(WorkspaceRepository[WebhookEndpoint]):
    model = WebhookEndpoint

    async def enabled(self) -> list[WebhookEndpoint]:
        rows = await self.db.execute(self.select().where(WebhookEndpoint.enabled.is_(True)))
        return list(rows.scalars())


class DeliveryRepository(WorkspaceRepository[WebhookDelivery]):
    model = WebhookDelivery

    async def attempts_of(self, delivery_ids: list[uuid.UUID]) -> dict[uuid.UUID, list[WebhookAttempt]]:
        if not delivery_ids:
            return {}
        rows = await self.db.execute(
            select(WebhookAttempt)
            .where(
                WebhookAttempt.workspace_id == self.workspace_id, WebhookAttempt.delivery_id.in_(delivery_ids)
            )
            .order_by(WebhookAttempt.attempt)
        )
        out: dict[uuid.UUID, list[WebhookAttempt]] = {i: [] for i in delivery_ids}
        for attempt in rows.scalars():
            out[attempt.delivery_id].append(attempt)
        return out


async def delivery_by_id(db: AsyncSession, delivery_id: uuid.UUID) -> WebhookDelivery | None:
    """For the delivery job, which is told the id and finds the workspace from the row."""
    return await db.scalar(select(WebhookDelivery).where(WebhookDelivery.id == delivery_id))


async def delivery_with_endpoint(
    db: AsyncSession, delivery_id: uuid.UUID
) -> tuple[WebhookDelivery, WebhookEndpoint] | None:
    """The delivery job's one read: the delivery and its endpoint (same workspace) together."""
    row = (
        await db.execute(
            select(WebhookDelivery, WebhookEndpoint)
            .join(
                WebhookEndpoint,
                (WebhookEndpoint.id == WebhookDelivery.endpoint_id)
                & (WebhookEndpoint.workspace_id == WebhookDelivery.workspace_id),
            )
            .where(WebhookDelivery.id == delivery_id)
        )
    ).first()
    return None if row is None else (row[0], row[1])
