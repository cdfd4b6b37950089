"""Reschedule, cancel and resend each email the candidate; reminders go out 24 h and 1 h
before the interview, and only for the time it is actually scheduled at."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tests.email.helpers import Env, outbox, schedule, seed, session_of, viva
from tests.fixtures.smtp import SmtpServer, smtp_server
from viva.kit import clock

T0 = datetime(2031, 3, 3, 9, 0, tzinfo=UTC)  # a Monday; Berlin is UTC+1 until 30 March


def at(hours: float) -> str:
    return clock.isoformat(T0 + timedelta(hours=hours))


@pytest.fixture
def frozen() -> Iterator[None]:
    clock.freeze(T0)
    try:
        yield
    finally:
        clock.freeze(None)


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    with smtp_server() as server:
        yield server


@pytest.fixture
async def env(database_url: str, smtp: SmtpServer, frozen: None) -> AsyncIterator[Env]:
    async with viva(database_url, smtp_url=f"smtp://{smtp.host}:{smtp.port}") as env:
        yield env


async def run_at(env: Env, hours: float) -> None:
    """Move the clock to T0 + hours and run whatever became due."""
    clock.freeze(T0 + timedelta(hours=hours))
    await env.worker.drain()


def subjects(smtp: SmtpServer) -> list[str]:
    return [m.message["Subject"] for m in smtp.messages]


async def invite_status(env: Env, session: dict[str, Any]) -> str:
    return str((await session_of(env.client, env.tenant, session["id"]))["invite_status"])


async def test_reschedule_resend_and_cancel_each_email_the_candidate(env: Env, smtp: SmtpServer) -> None:
    h = env.tenant.headers
    seeded = await seed(env.client, env.tenant)
    session = await schedule(env.client, env.tenant, seeded, scheduled_at=at(72), timezone="Europe/Berlin")
    sid, join_url = session["id"], session["join_url"]
    await run_at(env, 0.05)  # each step at its own time, so the outbox lists them in order
    assert subjects(smtp) == ["Your interview with Acme: Technical Screen"]
    assert "Thursday 6 March 2031, 10:00 (Europe/Berlin)" in smtp.messages[0].part("plain")

    # Reschedule: the new time, in the candidate's zone, and the same link.
    r = await env.client.patch(f"/api/v1/sessions/{sid}", json={"scheduled_at": at(97.5)}, headers=h)
    assert r.status_code == 200 and r.json() == {"success": True}, r.text
    assert await invite_status(env, session) == "queued"
    await run_at(env, 0.1)
    assert subjects(smtp)[-1] == "New time for your interview with Acme"
    moved = smtp.messages[-1]
    assert moved.rcpt_tos == ["ada@example.com"]
    for body in (moved.part("plain"), moved.part("html")):
        assert "Friday 7 March 2031, 11:30 (Europe/Berlin)" in body
        assert "6 March" not in body
        assert join_url in body
    assert await invite_status(env, session) == "sent"

    # Resend: the invite again, with the current time and the same link.
    r = await env.client.post(f"/api/v1/sessions/{sid}/resend-invite", headers=h)
    assert r.status_code == 200, r.text
    assert r.json()["data"]["invite_status"] == "queued"
    await run_at(env, 0.2)
    assert subjects(smtp)[-1] == "Your interview with Acme: Technical Screen"
    again = smtp.messages[-1].part("plain")
    assert join_url in again and "Friday 7 March 2031, 11:30 (Europe/Berlin)" in again
    assert await invite_status(env, session) == "sent"

    # Cancel: a cancellation that names the interview and offers no link any more.
    r = await env.client.post(f"/api/v1/sessions/{sid}/cancel", headers=h)
    assert r.status_code == 200, r.text
    assert r.json()["data"]["join_url"] is None
    await run_at(env, 0.3)
    assert subjects(smtp)[-1] == "Your interview with Acme was cancelled"
    cancelled = smtp.messages[-1]
    for body in (cancelled.part("plain"), cancelled.part("html")):
        assert "Technical Screen" in body and "cancelled" in body
        assert join_url not in body

    assert [(m["kind"], m["status"]) for m in await outbox(env.client, env.tenant, sid)] == [
        ("invite", "sent"),
        ("reschedule", "sent"),
        ("invite", "sent"),
        ("cancellation", "sent"),
    ]

    # A cancelled interview gets no reminders.
    await run_at(env, 97.5 - 24)
    await run_at(env, 97.5 - 1)
    assert len(smtp.messages) == 4

    # And it can't be moved or re-sent any more.
    r = await env.client.patch(f"/api/v1/sessions/{sid}", json={"scheduled_at": at(120)}, headers=h)
    assert r.status_code == 409
    r = await env.client.post(f"/api/v1/sessions/{sid}/resend-invite", headers=h)
    assert r.status_code == 409
    await run_at(env, 0.4)
    assert len(smtp.messages) == 4


async def test_reminders_24_hours_and_1_hour_before(env: Env, smtp: SmtpServer) -> None:
    seeded = await seed(env.client, env.tenant)
    session = await schedule(env.client, env.tenant, seeded, scheduled_at=at(30), timezone="Europe/Berlin")
    await run_at(env, 0)
    assert len(smtp.messages) == 1  # the invite

    await run_at(env, 6 - 0.01)
    assert len(smtp.messages) == 1  # not yet
    await run_at(env, 6)
    assert subjects(smtp)[-1] == "Reminder: your interview with Acme in 24 hours"
    day_before = smtp.messages[-1]
    assert day_before.rcpt_tos == ["ada@example.com"]
    for body in (day_before.part("plain"), day_before.part("html")):
        assert "starts in 24 hours" in body
        assert "Tuesday 4 March 2031, 16:00 (Europe/Berlin)" in body
        assert session["join_url"] in body

    await run_at(env, 29 - 0.01)
    assert len(smtp.messages) == 2
    await run_at(env, 29)
    assert subjects(smtp)[-1] == "Reminder: your interview with Acme in 1 hour"
    assert "starts in 1 hour" in smtp.messages[-1].part("plain")

    await run_at(env, 48)
    assert len(smtp.messages) == 3  # exactly two reminders
    assert await invite_status(env, session) == "sent"  # reminders don't touch the invite's status
    kinds = [m["kind"] for m in await outbox(env.client, env.tenant, session["id"])]
    assert kinds == ["invite", "reminder", "reminder"]


async def test_only_future_reminders_are_scheduled(env: Env, smtp: SmtpServer) -> None:
    """An interview 5 hours away gets the 1-hour reminder only (the 24-hour one would be in
    the past), and one without a time gets none."""
    seeded = await seed(env.client, env.tenant)
    await schedule(env.client, env.tenant, seeded, scheduled_at=at(5))
    await schedule(env.client, env.tenant, seeded, force=True)
    await run_at(env, 0)
    assert len(smtp.messages) == 2  # two invites
    await run_at(env, 4)
    assert subjects(smtp)[2:] == ["Reminder: your interview with Acme in 1 hour"]
    await run_at(env, 24 * 20)
    assert len(smtp.messages) == 3


async def test_rescheduling_replaces_the_reminders(env: Env, smtp: SmtpServer) -> None:
    seeded = await seed(env.client, env.tenant)
    session = await schedule(env.client, env.tenant, seeded, scheduled_at=at(30), timezone="Europe/Berlin")
    r = await env.client.patch(
        f"/api/v1/sessions/{session['id']}", json={"scheduled_at": at(50)}, headers=env.tenant.headers
    )
    assert r.status_code == 200, r.text
    await run_at(env, 0)
    # Both were due at once; the worker sends them side by side, in either order.
    assert sorted(subjects(smtp)) == [
        "New time for your interview with Acme",
        "Your interview with Acme: Technical Screen",
    ]

    await run_at(env, 30 - 24)  # the old 24-hour reminder's time: nothing
    assert len(smtp.messages) == 2
    await run_at(env, 50 - 24)
    assert subjects(smtp)[-1] == "Reminder: your interview with Acme in 24 hours"
    assert "Wednesday 5 March 2031, 12:00 (Europe/Berlin)" in smtp.messages[-1].part("plain")
    await run_at(env, 30 - 1)  # the old 1-hour reminder's time: nothing
    assert len(smtp.messages) == 3
    await run_at(env, 50 - 1)
    assert subjects(smtp)[-1] == "Reminder: your interview with Acme in 1 hour"
    await run_at(env, 24 * 3)
    assert len(smtp.messages) == 4


async def test_reminders_when_the_time_is_given_with_an_offset(env: Env, smtp: SmtpServer) -> None:
    seeded = await seed(env.client, env.tenant)
    # 16:00 in Berlin (UTC+1) is 15:00 UTC, T0 + 30 h: the same instant as at(30).
    await schedule(
        env.client, env.tenant, seeded, scheduled_at="2031-03-04T16:00:00+01:00", timezone="Europe/Berlin"
    )
    await run_at(env, 0)
    await run_at(env, 6)
    assert subjects(smtp)[-1] == "Reminder: your interview with Acme in 24 hours"


async def test_moving_back_to_the_original_time_sends_each_reminder_once(env: Env, smtp: SmtpServer) -> None:
    seeded = await seed(env.client, env.tenant)
    session = await schedule(env.client, env.tenant, seeded, scheduled_at=at(30))
    for hours in (50, 30):
        r = await env.client.patch(
            f"/api/v1/sessions/{session['id']}", json={"scheduled_at": at(hours)}, headers=env.tenant.headers
        )
        assert r.status_code == 200, r.text
    await run_at(env, 0)
    await run_at(env, 30 - 24)
    assert subjects(smtp).count("Reminder: your interview with Acme in 24 hours") == 1
