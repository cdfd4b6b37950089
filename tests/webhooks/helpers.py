"""API calls the webhook tests share: an interview set-up, endpoints, sessions, deliveries."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx

from tests.fixtures.factories import Tenant, profile_body, template_body


@dataclass
class Setup:
    template_id: str
    stage_id: str
    participant_ids: list[str]
    external_ids: list[str]


async def _post(client: httpx.AsyncClient, tenant: Tenant, path: str, body: dict[str, Any]) -> dict[str, Any]:
    r = await client.post(path, json=body, headers=tenant.headers)
    assert r.status_code in (200, 201), r.text
    data: dict[str, Any] = r.json()["data"]
    return data


async def interview_setup(client: httpx.AsyncClient, tenant: Tenant, participants: int = 1) -> Setup:
    """An agent profile, a template with one AI stage, and `participants` candidates."""
    profile = await _post(client, tenant, "/api/v1/agent-profiles", profile_body())
    template = await _post(client, tenant, "/api/v1/evaluation-templates", template_body())
    stage = await _post(
        client,
        tenant,
        "/api/v1/evaluation-stages",
        {
            "evaluation_template_id": template["id"],
            "type": "screen",
            "stage_name": "Technical Screen",
            "agent_profile_id": profile["id"],
        },
    )
    ids, externals = [], []
    for n in range(participants):
        external = f"ats-{n + 1}"
        p = await _post(
            client,
            tenant,
            "/api/v1/participants",
            {
                "name": f"Candidate {n + 1}",
                "email": f"candidate{n + 1}@example.com",
                "evaluation_template_id": template["id"],
                "external_id": external,
            },
        )
        ids.append(p["id"])
        externals.append(external)
    return Setup(template["id"], stage["id"], ids, externals)


async def create_session(
    client: httpx.AsyncClient, tenant: Tenant, setup: Setup, participant: int = 0
) -> dict[str, Any]:
    return await _post(
        client,
        tenant,
        "/api/v1/sessions",
        {
            "candidate_id": setup.participant_ids[participant],
            "evaluation_template_id": setup.template_id,
            "stage": "screen",
            "force": True,
        },
    )


async def cancel_session(client: httpx.AsyncClient, tenant: Tenant, session_id: str) -> dict[str, Any]:
    return await _post(client, tenant, f"/api/v1/sessions/{session_id}/cancel", {})


async def create_endpoint(
    client: httpx.AsyncClient, tenant: Tenant, url: str, events: list[str] | None = None
) -> tuple[str, str]:
    """Returns (endpoint id, signing secret)."""
    body: dict[str, Any] = {"url": url, "description": "test receiver"}
    if events is not None:
        body["events"] = events
    r = await client.post("/api/v1/webhook-endpoints", json=body, headers=tenant.headers)
    assert r.status_code == 201, r.text
    data = r.json()["data"]
    assert data["secret"].startswith("whsec_")
    return data["id"], data["secret"]


async def get_endpoint(client: httpx.AsyncClient, tenant: Tenant, endpoint_id: str) -> dict[str, Any]:
    r = await client.get(f"/api/v1/webhook-endpoints/{endpoint_id}", headers=tenant.headers)
    assert r.status_code == 200, r.text
    data: dict[str, Any] = r.json()["data"]
    return data


async def deliveries(client: httpx.AsyncClient, tenant: Tenant, endpoint_id: str) -> list[dict[str, Any]]:
    """The endpoint's deliveries, oldest first, each with its attempt_log."""
    r = await client.get(
        f"/api/v1/webhook-endpoints/{endpoint_id}/deliveries?pageSize=100&sort=created_at",
        headers=tenant.headers,
    )
    assert r.status_code == 200, r.text
    found: list[dict[str, Any]] = r.json()["data"]
    return found


async def events(client: httpx.AsyncClient, tenant: Tenant, query: str = "") -> list[dict[str, Any]]:
    r = await client.get(f"/api/v1/events?pageSize=100{query}", headers=tenant.headers)
    assert r.status_code == 200, r.text
    found: list[dict[str, Any]] = r.json()["data"]
    return found
