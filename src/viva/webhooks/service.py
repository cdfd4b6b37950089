"""Webhook endpoints and deliveries: the rules. Sending lives in tasks.py."""

from __future__ import annotations

import json
import uuid
from datetime import timedelta
from typing import Any

from pydantic import AnyUrl
from sqlalchemy.ext.asyncio import AsyncSession

from viva.errors import Conflict, NotFound, ValidationFailed
from viva.jobs.service import enqueue
from viva.kit import clock
from viva.kit.net import blocked_host, host_kind
from viva.kit.pagination import Page, PageRequest
from viva.kit.secretbox import SecretBox
from viva.models import Event, WebhookAttempt, WebhookDelivery, WebhookEndpoint
from viva.models.event import new_event_id
from viva.webhooks.repository import DeliveryRepository, EndpointRepository
from viva.webhooks.schemas import (
    AttemptRead,
    DeliveryRead,
    EndpointCreate,
    EndpointRead,
    EndpointUpdate,
    EndpointWithSecret,
)
from viva.webhooks.signing import new_secret

ROTATION_OVERLAP = timedelta(hours=24)


def check_url(url: AnyUrl, allow_private: bool) -> str:
    """https anywhere public; plain http and private hosts only when the operator allows
    private targets (development), and then http only to loopback. The private-address rule is
    kit.net's, the one every delivery's connection is held to."""
    host = url.host or ""
    if url.scheme not in ("https", "http"):
        raise ValidationFailed.at(["url"], "Webhook URLs must be https")
    if url.scheme == "http" and not (allow_private and host_kind(host) == "loopback"):
        raise ValidationFailed.at(
            ["url"], "Webhook URLs must be https (plain http only to loopback in development)"
        )
    if blocked_host(host, allow_private):
        raise ValidationFailed.at(
            ["url"], "Webhook URLs may not point at private, loopback or link-local addresses"
        )
    return str(url)


def to_read(endpoint: WebhookEndpoint) -> EndpointRead:
    return EndpointRead.model_validate(endpoint, from_attributes=True)


def with_secret(endpoint: WebhookEndpoint, box: SecretBox) -> EndpointWithSecret:
    return EndpointWithSecret(**to_read(endpoint).model_dump(), secret=box.open(endpoint.secret_encrypted))


async def create(
    db: AsyncSession, workspace_id: uuid.UUID, data: EndpointCreate, box: SecretBox, allow_private: bool
) -> WebhookEndpoint:
    """Register an endpoint; its signing secret is generated and returned once (and on rotation)."""
    endpoint = EndpointRepository(db, workspace_id).add(
        WebhookEndpoint(
            url=check_url(data.url, allow_private),
            events=list(data.events),
            description=data.description,
            enabled=data.enabled,
            secret_encrypted=box.seal(new_secret()),
        )
    )
    await db.flush()
    return endpoint


async def get(db: AsyncSession, workspace_id: uuid.UUID, endpoint_id: uuid.UUID) -> WebhookEndpoint:
    endpoint = await EndpointRepository(db, workspace_id).get(endpoint_id)
    if endpoint is None:
        raise NotFound("Webhook endpoint")
    return endpoint


async def list_endpoints(
    db: AsyncSession, workspace_id: uuid.UUID, request: PageRequest
) -> Page[WebhookEndpoint]:
    repo = EndpointRepository(db, workspace_id)
    return await repo.paginate(repo.select(), request)


async def update(
    db: AsyncSession,
    workspace_id: uuid.UUID,
    endpoint_id: uuid.UUID,
    patch: EndpointUpdate,
    allow_private: bool,
) -> WebhookEndpoint:
    endpoint = await get(db, workspace_id, endpoint_id)
    changes = patch.model_dump(exclude_unset=True)
    if patch.url is not None:
        endpoint.url = check_url(patch.url, allow_private)
    if patch.events is not None:
        endpoint.events = list(patch.events)
    if "description" in changes:
        endpoint.description = patch.description
    if patch.enabled is not None:
        endpoint.enabled = patch.enabled
        if patch.enabled:  # re-enabled by a person: start counting failures afresh
            endpoint.disabled_reason = None
            endpoint.failing_since = None
    await db.flush()
    return endpoint


async def delete(db: AsyncSession, workspace_id: uuid.UUID, endpoint_id: uuid.UUID) -> None:
    endpoint = await get(db, workspace_id, endpoint_id)
    await EndpointRepository(db, workspace_id).delete(endpoint)
    await db.flush()


async def rotate_secret(
    db: AsyncSession, workspace_id: uuid.UUID, endpoint_id: uuid.UUID, box: SecretBox
) -> WebhookEndpoint:
    """New secret now; the old one keeps signing (both signatures sent) for 24 hours."""
    endpoint = await get(db, workspace_id, endpoint_id)
    endpoint.previous_secret_encrypted = endpoint.secret_encrypted
    endpoint.previous_secret_expires_at = clock.now() + ROTATION_OVERLAP
    endpoint.secret_encrypted = box.seal(new_secret())
    await db.flush()
    return endpoint


def active_secrets(endpoint: WebhookEndpoint, box: SecretBox) -> list[str]:
    found = [box.open(endpoint.secret_encrypted)]
    if (
        endpoint.previous_secret_encrypted
        and endpoint.previous_secret_expires_at
        and endpoint.previous_secret_expires_at > clock.now()
    ):
        found.append(box.open(endpoint.previous_secret_encrypted))
    return found


def envelope(event: Event) -> dict[str, Any]:
    """The event as receivers and GET /events see it (SPEC §4)."""
    from viva.kit.clock import isoformat

    return {
        "id": event.id,
        "event": event.type,
        "occurred_at": isoformat(event.occurred_at),
        "data": event.data,
    }


def _body(envelope_: dict[str, Any]) -> str:
    return json.dumps(envelope_, separators=(",", ":"), ensure_ascii=False)


async def _schedule(
    db: AsyncSession, endpoint: WebhookEndpoint, event_id: str, event_type: str, body: str
) -> WebhookDelivery:
    delivery = DeliveryRepository(db, endpoint.workspace_id).add(
        WebhookDelivery(
            endpoint_id=endpoint.id,
            event_id=event_id,
            event_type=event_type,
            payload=body,
            status="pending",
            attempts=0,
            next_attempt_at=clock.now(),
        )
    )
    await db.flush()
    await enqueue(
        db,
        "webhooks.deliver",
        {"delivery_id": str(delivery.id), "attempt": 0},
        workspace_id=endpoint.workspace_id,
    )
    return delivery


async def fan_out(db: AsyncSession, event: Event) -> int:
    """Schedule a delivery of `event` to every enabled endpoint subscribed to it, in the
    transaction that records the event. Returns how many."""
    endpoints = await EndpointRepository(db, event.workspace_id).enabled()
    body = _body(envelope(event))
    count = 0
    for endpoint in endpoints:
        if "*" in endpoint.events or event.type in endpoint.events:
            await _schedule(db, endpoint, event.id, event.type, body)
            count += 1
    return count


async def send_test(db: AsyncSession, workspace_id: uuid.UUID, endpoint_id: uuid.UUID) -> WebhookDelivery:
    """A `webhook.test` event to this endpoint only (not recorded in the event log)."""
    endpoint = await get(db, workspace_id, endpoint_id)
    if not endpoint.enabled:
        raise Conflict("This endpoint is disabled; enable it first", code="endpoint_disabled")
    event_id = new_event_id()
    body = _body(
        {
            "id": event_id,
            "event": "webhook.test",
            "occurred_at": clock.isoformat(clock.now()),
            "data": {"endpoint_id": str(endpoint.id)},
        }
    )
    return await _schedule(db, endpoint, event_id, "webhook.test", body)


def delivery_to_read(delivery: WebhookDelivery, attempts: list[WebhookAttempt]) -> DeliveryRead:
    return DeliveryRead(
        id=delivery.id,
        endpoint_id=delivery.endpoint_id,
        event_id=delivery.event_id,
        event=delivery.event_type,
        status=delivery.status,
        attempts=delivery.attempts,
        next_attempt_at=delivery.next_attempt_at,
        last_status_code=delivery.last_status_code,
        payload=delivery.payload,
        attempt_log=[
            AttemptRead(
                attempt=a.attempt,
                status_code=a.status_code,
                response_excerpt=a.response_excerpt,
                error=a.error,
                duration_ms=a.duration_ms,
                attempted_at=a.created_at,
                next_attempt_at=a.next_attempt_at,
                request_headers=a.request_headers,
            )
            for a in attempts
        ],
        created_at=delivery.created_at,
        updated_at=delivery.updated_at,
    )


async def deliveries(
    db: AsyncSession,
    workspace_id: uuid.UUID,
    endpoint_id: uuid.UUID,
    request: PageRequest,
    status: str | None = None,
) -> tuple[Page[WebhookDelivery], dict[uuid.UUID, list[WebhookAttempt]]]:
    await get(db, workspace_id, endpoint_id)
    repo = DeliveryRepository(db, workspace_id)
    stmt = repo.select().where(WebhookDelivery.endpoint_id == endpoint_id)
    if status:
        stmt = stmt.where(WebhookDelivery.status == status)
    page = await repo.paginate(stmt, request)
    return page, await repo.attempts_of([d.id for d in page.items])


async def get_delivery(
    db: AsyncSession, workspace_id: uuid.UUID, delivery_id: uuid.UUID
) -> tuple[WebhookDelivery, list[WebhookAttempt]]:
    repo = DeliveryRepository(db, workspace_id)
    delivery = await repo.get(delivery_id)
    if delivery is None:
        raise NotFound("Webhook delivery")
    return delivery, (await repo.attempts_of([delivery.id]))[delivery.id]


async def retry(
    db: AsyncSession, workspace_id: uuid.UUID, delivery_id: uuid.UUID
) -> tuple[WebhookDelivery, list[WebhookAttempt]]:
    """Send a delivery again now (one more attempt), whatever its state. If it was still
    pending (its automatic retries running), a failed manual attempt carries on with them:
    the manual job makes the scheduled one stale, so it must not end the schedule."""
    delivery, attempts = await get_delivery(db, workspace_id, delivery_id)
    endpoint = await get(db, workspace_id, delivery.endpoint_id)
    if not endpoint.enabled:
        raise Conflict("This endpoint is disabled; enable it first", code="endpoint_disabled")
    resume = delivery.status == "pending"
    delivery.status = "pending"
    delivery.next_attempt_at = clock.now()
    await enqueue(
        db,
        "webhooks.deliver",
        {"delivery_id": str(delivery.id), "attempt": delivery.attempts, "manual": True, "resume": resume},
        workspace_id=workspace_id,
    )
    await db.flush()
    return delivery, attempts
