"""The turn lease (issue 15): a process that died mid-turn does not lock the interview, and a
producer that lost its lease to another request cannot store its turn (docs/candidate-room.md)."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from tests.fixtures.clock import FrozenClock
from tests.fixtures.factories import Tenant
from tests.room.helpers import STRONG, scheduled, spoken, turn
from viva.interview import runner
from viva.models import InterviewSession
from viva.sessions import live

SHORT = {"type": "technical", "stage_name": "Technical Screen", "duration_minutes": 10}
SERVED_WITHIN = 15  # seconds after a crash: the lease (10 s) has lapsed
WAIT = 60.0  # generous: how long a step may take on a loaded machine (readiness, never timing)


async def _interviewing(client: httpx.AsyncClient, tenant: Tenant) -> tuple[dict[str, Any], str]:
    """An interview whose first question was asked; the session and its join token."""
    s = await scheduled(client, tenant, stage=SHORT)
    await client.post(f"{s['path']}/start", json={"consent": True})
    await turn(client, s["path"])
    return s, s["path"].rsplit("/", 1)[1]


async def _begin(app: FastAPI, token: str, text: str | None) -> runner.Turn:
    """What a server does on POST /turn before it streams: the answer stored and the lease taken,
    committed. A server killed right after this never produces the turn."""
    async with app.state.sessionmaker() as db, db.begin():
        return await runner.begin_turn(db, app.state.interviewer, token, text, None)


async def _interviewer_kinds(client: httpx.AsyncClient, tenant: Tenant, session_id: str) -> list[str]:
    r = await client.get(f"/api/v1/sessions/{session_id}/transcript", headers=tenant.headers)
    return [f"{t['speaker']}:{t['kind']}" for t in r.json()["data"]["turns"] if t["kind"] != "event"]


async def test_a_lease_left_by_a_dead_process_is_taken_over_within_seconds(
    app: FastAPI, client: httpx.AsyncClient, tenant: Tenant, frozen: FrozenClock
) -> None:
    s, token = await _interviewing(client, tenant)
    await _begin(app, token, STRONG)  # ... and the process is killed (kill -9): nobody renews the lease

    r = await client.post(f"{s['path']}/turn", json={})
    assert r.status_code == 409 and r.json()["code"] == "interviewer_busy"  # it may still be working

    # Its lease lapses seconds after its last heartbeat (it used to be held 30 s, or 390 s with a
    # language model), and the next request takes it over and answers the stored answer.
    frozen.advance(seconds=SERVED_WITHIN)
    events = await turn(client, s["path"])
    replies = spoken(events)
    assert replies and "retry" not in [name for name, _ in events], events
    kinds = await _interviewer_kinds(client, tenant, s["id"])
    answer = kinds.index("candidate:answer")
    assert kinds[answer + 1 :] == [f"interviewer:{t['kind']}" for t in replies], kinds


async def test_a_producer_that_lost_its_lease_cannot_store_its_turn(
    app: FastAPI,
    client: httpx.AsyncClient,
    tenant: Tenant,
    frozen: FrozenClock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    s, token = await _interviewing(client, tenant)
    stalled, wake = asyncio.Event(), asyncio.Event()
    real_stream = runner._stream_builtin

    async def stall_the_first(text: str, emit: runner.Emit) -> None:
        if not stalled.is_set():  # the first producer freezes mid-turn (a GC pause, a lost network)
            stalled.set()
            await wake.wait()
        await real_stream(text, emit)

    monkeypatch.setattr(runner, "_stream_builtin", stall_the_first)
    stale = await _begin(app, token, STRONG)

    async def no_heartbeat() -> None:  # a frozen process sends none
        return None

    stale._keep_lease = no_heartbeat  # type: ignore[method-assign]
    stale_events: list[tuple[str, dict[str, Any]]] = []

    async def consume() -> None:
        async for item in stale.events():
            stale_events.append(item)

    stale_task = asyncio.create_task(consume())
    await asyncio.wait_for(stalled.wait(), WAIT)

    # Long after its lease lapsed, the candidate's reloaded room asks again: another request
    # takes the lease over and produces the interviewer's reply.
    frozen.advance(seconds=60)
    fresh = await turn(client, s["path"])
    replies = spoken(fresh)
    assert replies, fresh

    # The first producer wakes and tries to store the reply it had computed: refused.
    wake.set()
    await asyncio.wait_for(stale_task, WAIT)
    assert not [d for name, d in stale_events if name == "turn"], stale_events
    assert "retry" in [name for name, _ in stale_events]

    kinds = await _interviewer_kinds(client, tenant, s["id"])
    answer = kinds.index("candidate:answer")
    assert kinds[answer + 1 :] == [f"interviewer:{t['kind']}" for t in replies], kinds
    async with app.state.sessionmaker() as db:
        row = await db.get(InterviewSession, uuid.UUID(s["id"]))
        assert row is not None and row.turn_lock_owner is None  # released by the request that stored


async def test_the_heartbeat_keeps_a_long_turn_s_lease(
    app: FastAPI,
    client: httpx.AsyncClient,
    tenant: Tenant,
    frozen: FrozenClock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A turn that takes longer than the lease (a slow model) renews it: nobody takes it over."""
    monkeypatch.setattr(live, "HEARTBEAT_SECONDS", 0.05)
    s, token = await _interviewing(client, tenant)
    wake, streaming = asyncio.Event(), asyncio.Event()
    real_stream = runner._stream_builtin

    async def slow(text: str, emit: runner.Emit) -> None:
        streaming.set()
        await wake.wait()
        await real_stream(text, emit)

    monkeypatch.setattr(runner, "_stream_builtin", slow)
    pending = await _begin(app, token, STRONG)
    collected: list[str] = []

    async def consume() -> None:
        async for name, _ in pending.events():
            collected.append(name)

    task = asyncio.create_task(consume())
    await asyncio.wait_for(streaming.wait(), WAIT)
    lease = live.TURN_LEASE.total_seconds()
    for _ in range(3):  # most of a lease passes, three times over: 2.4 leases in all
        frozen.advance(seconds=lease * 0.8)
        await _until_renewed(app, s["id"], frozen.now + live.TURN_LEASE)
        r = await client.post(f"{s['path']}/turn", json={})
        assert r.status_code == 409 and r.json()["code"] == "interviewer_busy", r.text
    wake.set()
    await asyncio.wait_for(task, WAIT)
    assert "turn" in collected and "retry" not in collected, collected


async def _until_renewed(app: FastAPI, session_id: str, until: Any) -> None:
    """Wait (readiness, not timing) for a heartbeat to have renewed the lease to `until`."""

    async def renewed() -> None:
        while True:
            async with app.state.sessionmaker() as db:
                row = await db.get(InterviewSession, uuid.UUID(session_id))
                if row is not None and row.turn_lock_until is not None and row.turn_lock_until >= until:
                    return
            await asyncio.sleep(0.02)

    await asyncio.wait_for(renewed(), WAIT)
