"""Building an app with its own SMTP settings, seeding a schedulable stage, and reading
back what the API and the database say about emails."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import httpx
from fastapi import FastAPI
from sqlalchemy import func, select

from tests.conftest import make_settings
from tests.fixtures.factories import Tenant, make_tenant, profile_body, template_body
from viva.app import create_app, make_worker
from viva.jobs.worker import Worker
from viva.models import EmailMessage, Job


@dataclass
class Env:
    app: FastAPI
    client: httpx.AsyncClient
    worker: Worker
    tenant: Tenant


@asynccontextmanager
async def viva(
    database_url: str, *, raise_app_exceptions: bool = True, **overrides: Any
) -> AsyncIterator[Env]:
    """An app (e.g. with `smtp_url=...`), an API client, a worker and the `acme` tenant."""
    app = create_app(make_settings(database_url, **overrides))
    worker = make_worker(app, poll_seconds=0.05)
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=raise_app_exceptions)
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            yield Env(app, client, worker, await make_tenant(app, "acme"))
    finally:
        await worker.context.http.aclose()
        await app.state.engine.dispose()


@dataclass
class Seeded:
    template_id: str
    stage_id: str
    participant_id: str
    email: str


async def seed(
    client: httpx.AsyncClient,
    tenant: Tenant,
    *,
    candidate: str = "Ada Lovelace",
    email: str = "ada@example.com",
    stage_name: str = "Technical Screen",
    duration_minutes: int = 30,
) -> Seeded:
    """An agent profile, a template with one AI `screen` stage, and a participant in it."""
    h = tenant.headers

    async def post(path: str, body: dict[str, Any]) -> str:
        r = await client.post(path, json=body, headers=h)
        assert r.status_code == 201, r.text
        return str(r.json()["data"]["id"])

    profile_id = await post("/api/v1/agent-profiles", profile_body())
    template_id = await post("/api/v1/evaluation-templates", template_body())
    stage_id = await post(
        "/api/v1/evaluation-stages",
        {
            "evaluation_template_id": template_id,
            "type": "screen",
            "stage_name": stage_name,
            "agent_profile_id": profile_id,
            "duration_minutes": duration_minutes,
        },
    )
    participant_id = await post(
        "/api/v1/participants", {"name": candidate, "email": email, "evaluation_template_id": template_id}
    )
    return Seeded(template_id, stage_id, participant_id, email)


async def schedule(client: httpx.AsyncClient, tenant: Tenant, seeded: Seeded, **extra: Any) -> dict[str, Any]:
    r = await client.post(
        "/api/v1/sessions",
        json={
            "candidate_id": seeded.participant_id,
            "evaluation_template_id": seeded.template_id,
            "stage": "screen",
            **extra,
        },
        headers=tenant.headers,
    )
    assert r.status_code == 200, r.text
    data: dict[str, Any] = r.json()["data"]
    return data


async def session_of(client: httpx.AsyncClient, tenant: Tenant, session_id: str) -> dict[str, Any]:
    r = await client.get(f"/api/v1/sessions/{session_id}", headers=tenant.headers)
    assert r.status_code == 200, r.text
    data: dict[str, Any] = r.json()["data"]
    return data


async def outbox(
    client: httpx.AsyncClient, tenant: Tenant, session_id: str | None = None
) -> list[dict[str, Any]]:
    """The workspace's emails, oldest first."""
    params = {"pageSize": "100", **({"session_id": session_id} if session_id else {})}
    r = await client.get("/api/v1/outbox", params=params, headers=tenant.headers)
    assert r.status_code == 200, r.text
    rows: list[dict[str, Any]] = r.json()["data"]
    return sorted(rows, key=lambda m: m["created_at"])


async def stored(app: FastAPI) -> tuple[int, dict[str, int]]:
    """(email rows, job rows per kind) straight from the database."""
    async with app.state.sessionmaker() as db:
        emails = await db.scalar(select(func.count()).select_from(EmailMessage))
        rows = (await db.execute(select(Job.kind, func.count()).group_by(Job.kind))).all()
    return int(emails or 0), {str(kind): int(n) for kind, n in rows}
