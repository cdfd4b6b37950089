"""Driving the candidate room over HTTP, as the browser does."""

from __future__ import annotations

import json
from typing import Any

import httpx

from tests.fixtures.factories import Tenant
from tests.sessions.helpers import pipeline, session_body


def parse_sse(body: str) -> list[tuple[str, dict[str, Any]]]:
    """SSE messages as (event, data) pairs."""
    events = []
    for block in body.split("\n\n"):
        name, data = "message", None
        for line in block.splitlines():
            if line.startswith("event: "):
                name = line[7:]
            elif line.startswith("data: "):
                data = json.loads(line[6:])
        if data is not None:
            events.append((name, data))
    return events


async def scheduled(
    client: httpx.AsyncClient,
    tenant: Tenant,
    *,
    stage: dict[str, Any] | None = None,
    profile: dict[str, Any] | None = None,
    **participant: Any,
) -> dict[str, Any]:
    """A scheduled session (`profile`: overrides of the agent profile); returns its API object plus
    `path`, the room's path."""
    p = await pipeline(
        client, tenant, stages=[stage] if stage else None, participant=participant or None, profile=profile
    )
    r = await client.post("/api/v1/sessions", json=session_body(p), headers=tenant.headers)
    assert r.status_code == 200, r.text
    session = r.json()["data"]
    session["path"] = "/join/" + session["join_url"].rsplit("/join/", 1)[1]
    return session


async def turn(
    client: httpx.AsyncClient, path: str, text: str | None = None, **extra: Any
) -> list[tuple[str, dict[str, Any]]]:
    body: dict[str, Any] = {"text": text} if text is not None else {}
    r = await client.post(f"{path}/turn", json={**body, **extra})
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("text/event-stream")
    return parse_sse(r.text)


def spoken(events: list[tuple[str, dict[str, Any]]]) -> list[dict[str, Any]]:
    return [d for name, d in events if name == "turn"]


STRONG = (
    "In my last role I designed and built the payments API in Python and PostgreSQL. For example, "
    "I split the ledger writes from the read path, added idempotency keys, and load-tested it to "
    "2,000 requests per second with p99 latency under 80 ms. I measured every change, wrote the "
    "runbook, and led the migration of 40 services without downtime; the outcome was 35% lower cost."
)


async def play(
    client: httpx.AsyncClient, path: str, answer: str = STRONG, max_turns: int = 80
) -> list[tuple[str, dict[str, Any]]]:
    """Answer every interviewer turn with `answer` until the interview ends; all events, in order."""
    everything = await turn(client, path)
    for _ in range(max_turns):
        if any(name == "ended" for name, _ in everything):
            return everything
        everything += await turn(client, path, answer)
    raise AssertionError("the interview did not end")
