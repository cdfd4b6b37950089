"""Many identical POST /sessions at once, over real HTTP: exactly one session."""

from __future__ import annotations

import asyncio

import httpx
from sqlalchemy import func, select

from tests.fixtures.live import live_server
from tests.sessions.helpers import pipeline, session_body
from viva.models import EmailMessage, Event, InterviewSession

N = 50


async def test_fifty_identical_requests_make_one_session(app, client, settings, tenant):
    p = await pipeline(client, tenant)
    body = session_body(p, idempotency_key="ats-job-8821-stage-screen")
    with live_server(settings.model_copy(update={"rate_limit_per_minute": 10_000})) as base:
        async with httpx.AsyncClient(base_url=base, headers=tenant.headers, timeout=60) as http:
            responses = await asyncio.gather(*(http.post("/api/v1/sessions", json=body) for _ in range(N)))
    assert [r.status_code for r in responses] == [200] * N, {r.status_code: r.text for r in responses}
    sessions = [r.json()["data"] for r in responses]
    assert len({s["id"] for s in sessions}) == 1
    assert sorted(s["idempotent"] for s in sessions) == [False] + [True] * (N - 1)
    async with app.state.sessionmaker() as db:
        assert await db.scalar(select(func.count()).select_from(InterviewSession)) == 1
        assert await db.scalar(select(func.count()).select_from(EmailMessage)) == 1
        assert (
            await db.scalar(select(func.count()).select_from(Event).where(Event.type == "session.created"))
            == 1
        )
