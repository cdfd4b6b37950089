"""Delivering webhooks (job kind `webhooks.deliver`), at least once, per SPEC §4.

Each job is one attempt. The attempt's record, the delivery's new state and, on failure,
the job for the next attempt are written in one transaction with the job's completion, so
a crash at any point either leaves the attempt to be made again (same webhook-id) or has
recorded it. Nothing is ever lost; at worst an event is sent twice."""

from __future__ import annotations

import random
import time
import uuid
from datetime import timedelta
from email.utils import parsedate_to_datetime
from typing import Any

import httpx
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from viva.events import service as events
from viva.jobs.context import JobContext
from viva.jobs.registry import task
from viva.jobs.service import enqueue
from viva.kit import clock
from viva.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint
from viva.webhooks import service
from viva.webhooks.repository import delivery_with_endpoint
from viva.webhooks.signing import signature_header

# Waits before retries 1..7 (SPEC §4), each ±10%: 8 attempts in all.
RETRY_SCHEDULE = (5, 300, 1800, 7200, 18000, 36000, 36000)
MAX_ATTEMPTS = len(RETRY_SCHEDULE) + 1
DISABLE_AFTER = timedelta(days=5)
MAX_RETRY_AFTER = 24 * 3600
EXCERPT = 1000


def retry_after_seconds(value: str | None) -> float | None:
    """A Retry-After header (delta-seconds or HTTP-date) in seconds, capped at a day."""
    if not value:
        return None
    value = value.strip()
    try:
        seconds = (
            float(value) if value.isdigit() else (parsedate_to_datetime(value) - clock.now()).total_seconds()
        )
    except (TypeError, ValueError):
        return None
    return max(0.0, min(seconds, MAX_RETRY_AFTER))


async def disable(db: AsyncSession, endpoint: WebhookEndpoint, reason: str) -> None:
    """Turn an endpoint off and tell the workspace (event `endpoint.disabled`), once.

    Several deliveries to one endpoint can be in flight together and all see it fail (or a
    person may switch it off meanwhile); the `endpoint` we loaded before sending is stale by
    now. Only the transaction that actually flips `enabled` emits the event (on PostgreSQL a
    concurrent one waits for the row lock, then finds it already off).

    Here, not in webhooks' service: events' service fans out through that one, and a job may
    call any domain's service."""

    flipped = await db.execute(
        update(WebhookEndpoint)
        .where(WebhookEndpoint.id == endpoint.id, WebhookEndpoint.enabled.is_(True))
        .values(enabled=False, disabled_reason=reason, updated_at=clock.now())
        .execution_options(synchronize_session=False)
    )
    endpoint.enabled = False  # the object agrees with the row either way
    if not flipped.rowcount:  # type: ignore[attr-defined]
        return
    endpoint.disabled_reason = reason
    await db.flush()
    await events.emit(
        db,
        endpoint.workspace_id,
        "endpoint.disabled",
        {"endpoint": {"id": str(endpoint.id), "url": endpoint.url, "reason": reason}},
    )


@task("webhooks.deliver", max_attempts=5)
async def deliver(ctx: JobContext, db: AsyncSession, payload: dict[str, Any]) -> None:
    found = await delivery_with_endpoint(db, uuid.UUID(payload["delivery_id"]))
    if found is None:  # deleted with its endpoint
        return
    delivery, endpoint = found
    # A stale job (a manual retry or an earlier run already made this attempt) does nothing.
    if delivery.status != "pending" or delivery.attempts != payload.get("attempt", 0):
        return
    if not endpoint.enabled:
        delivery.status = "failed"
        delivery.next_attempt_at = None
        return
    now = clock.now()
    headers = {
        "content-type": "application/json",
        "webhook-id": delivery.event_id,
        "webhook-timestamp": str(int(now.timestamp())),
        "webhook-signature": signature_header(
            service.active_secrets(endpoint, ctx.secrets), delivery.event_id, now, delivery.payload
        ),
    }
    url, body = endpoint.url, delivery.payload
    await db.commit()  # no transaction (SQLite: no write lock) held while we wait on the network

    started = time.perf_counter()
    status_code: int | None = None
    excerpt = error = None
    retry_after: float | None = None
    try:
        response = await ctx.http.post(url, content=body.encode(), headers=headers, timeout=15.0)
        status_code = response.status_code
        excerpt = response.text[:EXCERPT]
        retry_after = retry_after_seconds(response.headers.get("retry-after"))
    except httpx.HTTPError as exc:
        error = f"{type(exc).__name__}: {exc}"[:EXCERPT]
    duration_ms = int((time.perf_counter() - started) * 1000)

    number = delivery.attempts + 1
    delivery.attempts = number
    delivery.last_status_code = status_code
    ok = status_code is not None and 200 <= status_code < 300
    next_at = None
    if ok:
        delivery.status = "succeeded"
        endpoint.failing_since = None
    elif status_code == 410:
        delivery.status = "failed"
        await disable(db, endpoint, "The endpoint answered 410 Gone")
    else:
        endpoint.failing_since = endpoint.failing_since or now
        if clock.now() - endpoint.failing_since >= DISABLE_AFTER:
            delivery.status = "failed"
            await disable(db, endpoint, "Deliveries failed for 5 days")
        elif number >= MAX_ATTEMPTS or (payload.get("manual") and not payload.get("resume")):
            # Out of retries; or a manual retry of a finished delivery, which is one attempt,
            # not a new schedule. (A manual retry of a pending one carries on its schedule.)
            delivery.status = "failed"
        else:
            wait = RETRY_SCHEDULE[number - 1] * random.uniform(0.9, 1.1)
            next_at = clock.now() + timedelta(seconds=max(wait, retry_after or 0))
            await enqueue(
                db,
                "webhooks.deliver",
                {"delivery_id": str(delivery.id), "attempt": number},
                run_at=next_at,
                workspace_id=delivery.workspace_id,
            )
    delivery.next_attempt_at = next_at
    db.add(
        WebhookAttempt(
            workspace_id=delivery.workspace_id,
            delivery_id=delivery.id,
            attempt=number,
            request_headers={k: v for k, v in headers.items() if k != "webhook-signature"},
            status_code=status_code,
            response_excerpt=excerpt,
            error=error,
            duration_ms=duration_ms,
            next_attempt_at=next_at,
        )
    )
    db.add(delivery)
    db.add(endpoint)


__all__ = ["deliver", "WebhookDelivery"]
