"""A request that fails sends nothing: the email and its job are written in the request's
transaction, so a rollback takes them back too."""

from __future__ import annotations

import uuid

import pytest

from tests.email.helpers import outbox, schedule, seed, session_of, stored, viva
from tests.fixtures.smtp import smtp_server
from viva.sessions import service as sessions


async def test_refused_requests_leave_no_email_and_no_job(database_url: str) -> None:
    with smtp_server() as smtp:
        async with viva(database_url, smtp_url=f"smtp://{smtp.host}:{smtp.port}") as env:
            h = env.tenant.headers
            seeded = await seed(env.client, env.tenant)
            session = await schedule(env.client, env.tenant, seeded)
            before = await stored(env.app)
            assert before == (1, {"email.send": 1})

            body = {
                "candidate_id": seeded.participant_id,
                "evaluation_template_id": seeded.template_id,
                "stage": "screen",
            }
            r = await env.client.post("/api/v1/sessions", json=body, headers=h)
            assert (r.status_code, r.json()["code"]) == (409, "duplicate_session")
            r = await env.client.post(
                "/api/v1/sessions",
                json={**body, "force": True, "scheduled_at": "2001-01-01T00:00:00Z"},
                headers=h,
            )
            assert r.status_code == 400
            r = await env.client.post(
                "/api/v1/sessions", json={**body, "force": True, "interview_id": str(uuid.uuid4())}, headers=h
            )
            assert r.status_code == 400
            r = await env.client.patch(
                f"/api/v1/sessions/{session['id']}", json={"scheduled_at": "2001-01-01T00:00:00Z"}, headers=h
            )
            assert r.status_code == 400

            assert await stored(env.app) == before
            await env.worker.drain()
            assert len(smtp.messages) == 1  # only the one invite that was committed
            assert len(await outbox(env.client, env.tenant)) == 1


async def test_a_failure_after_the_email_was_queued_rolls_it_back(
    database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The invite is queued mid-request; when the request then fails, no email exists, no
    job exists, and the worker sends nothing."""

    async def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("boom after the invite was queued")

    with smtp_server() as smtp:
        async with viva(
            database_url, smtp_url=f"smtp://{smtp.host}:{smtp.port}", raise_app_exceptions=False
        ) as env:
            h = env.tenant.headers
            seeded = await seed(env.client, env.tenant)
            monkeypatch.setattr(sessions, "_schedule_reminders", broken)

            r = await env.client.post(
                "/api/v1/sessions",
                json={
                    "candidate_id": seeded.participant_id,
                    "evaluation_template_id": seeded.template_id,
                    "stage": "screen",
                    "scheduled_at": "2030-01-01T10:00:00Z",
                },
                headers=h,
            )
            assert r.status_code == 500
            assert "boom" not in r.text  # and no internals leak

            assert await stored(env.app) == (0, {})
            await env.worker.drain()
            assert smtp.messages == []
            r = await env.client.get("/api/v1/sessions", headers=h)
            assert r.json()["data"] == []

            # The same for a reschedule that fails after queueing its email.
            monkeypatch.undo()
            session = await schedule(env.client, env.tenant, seeded, scheduled_at="2030-01-01T10:00:00Z")
            await env.worker.drain()
            before = await stored(env.app)
            monkeypatch.setattr(sessions, "_schedule_reminders", broken)
            r = await env.client.patch(
                f"/api/v1/sessions/{session['id']}", json={"scheduled_at": "2030-02-01T10:00:00Z"}, headers=h
            )
            assert r.status_code == 500
            assert await stored(env.app) == before
            await env.worker.drain()
            assert [m.message["Subject"] for m in smtp.messages] == [
                "Your interview with Acme: Technical Screen"
            ]
            assert (await session_of(env.client, env.tenant, session["id"]))["scheduled_at"].startswith(
                "2030-01-01T10:00:00"
            )
