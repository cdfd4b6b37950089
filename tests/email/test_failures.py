"""When the SMTP server is unreachable the invite is retried, the error is visible, and
after the last attempt the session says the invite failed."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from tests.email.helpers import outbox, schedule, seed, session_of, viva
from tests.fixtures.live import free_port
from tests.fixtures.smtp import smtp_server
from viva.email.tasks import MAX_ATTEMPTS
from viva.kit import clock

START = datetime(2031, 3, 3, 9, 0, tzinfo=UTC)


@pytest.fixture
def frozen() -> Iterator[None]:
    clock.freeze(START)
    try:
        yield
    finally:
        clock.freeze(None)


async def test_unreachable_smtp_is_retried_then_the_invite_fails(database_url: str, frozen: None) -> None:
    closed = free_port()  # nothing listens here
    async with viva(database_url, smtp_url=f"smtp://127.0.0.1:{closed}?timeout=5") as env:
        session = await schedule(env.client, env.tenant, await seed(env.client, env.tenant))

        assert await env.worker.drain() == 1
        [message] = await outbox(env.client, env.tenant)
        assert message["status"] == "queued"
        assert message["error"] and str(closed) in message["error"]  # e.g. "could not connect … :PORT"
        assert message["sent_at"] is None
        assert (await session_of(env.client, env.tenant, session["id"]))["invite_status"] == "queued"
        assert await env.worker.drain() == 0  # the retry waits for its backoff

        for attempt in range(2, MAX_ATTEMPTS + 1):
            clock.freeze(START + timedelta(hours=attempt))  # past any backoff so far
            assert await env.worker.drain() == 1, f"attempt {attempt} did not run"
            [message] = await outbox(env.client, env.tenant)
            invite_status = (await session_of(env.client, env.tenant, session["id"]))["invite_status"]
            if attempt < MAX_ATTEMPTS:
                assert (message["status"], invite_status) == ("queued", "queued"), attempt
                assert message["error"]

        assert message["status"] == "failed"
        assert message["error"] and str(closed) in message["error"]
        assert invite_status == "failed"

        clock.freeze(START + timedelta(days=3))
        assert await env.worker.drain() == 0  # given up: no ninth attempt


async def test_a_short_outage_heals_on_retry(database_url: str, frozen: None) -> None:
    port = free_port()
    async with viva(database_url, smtp_url=f"smtp://127.0.0.1:{port}?timeout=5") as env:
        session = await schedule(env.client, env.tenant, await seed(env.client, env.tenant))
        await env.worker.drain()
        [message] = await outbox(env.client, env.tenant)
        assert message["status"] == "queued" and message["error"]

        with smtp_server(port=port) as smtp:  # the mail server is back
            clock.freeze(START + timedelta(minutes=5))
            assert await env.worker.drain() == 1
            [received] = smtp.messages
            assert session["join_url"] in received.part("plain")

        [message] = await outbox(env.client, env.tenant)
        assert (message["status"], message["error"]) == ("sent", None)
        assert (await session_of(env.client, env.tenant, session["id"]))["invite_status"] == "sent"


async def test_resend_after_failure_can_still_succeed(database_url: str, frozen: None) -> None:
    """A failed invite is not the end: once SMTP works, resend-invite delivers and the
    session says so."""
    port = free_port()
    async with viva(database_url, smtp_url=f"smtp://127.0.0.1:{port}?timeout=5") as env:
        session = await schedule(env.client, env.tenant, await seed(env.client, env.tenant))
        for attempt in range(1, MAX_ATTEMPTS + 1):
            clock.freeze(START + timedelta(hours=attempt))
            await env.worker.drain()
        assert (await session_of(env.client, env.tenant, session["id"]))["invite_status"] == "failed"

        with smtp_server(port=port) as smtp:
            r = await env.client.post(
                f"/api/v1/sessions/{session['id']}/resend-invite", headers=env.tenant.headers
            )
            assert r.status_code == 200, r.text
            assert r.json()["data"]["invite_status"] == "queued"
            await env.worker.drain()
            [received] = smtp.messages
            assert session["join_url"] in received.part("html")

        assert (await session_of(env.client, env.tenant, session["id"]))["invite_status"] == "sent"
        assert [m["status"] for m in await outbox(env.client, env.tenant)] == ["failed", "sent"]
