"""Building a schedulable pipeline through the API."""

from __future__ import annotations

from typing import Any

import httpx

from tests.fixtures.factories import Tenant, profile_body, template_body


async def pipeline(
    client: httpx.AsyncClient,
    tenant: Tenant,
    stages: list[dict[str, Any]] | None = None,
    participant: dict[str, Any] | None = None,
    profile: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """A profile (the quickstart's, with `profile` overrides), a template with stages (default:
    one "screen" stage named Technical Screen) and a participant; returns their ids."""
    h = tenant.headers
    r = await client.post("/api/v1/agent-profiles", json=profile_body(**(profile or {})), headers=h)
    assert r.status_code == 201, r.text
    profile_id = r.json()["data"]["id"]
    template = (await client.post("/api/v1/evaluation-templates", json=template_body(), headers=h)).json()[
        "data"
    ]
    stage_ids = []
    for spec in stages or [{"type": "technical", "stage_name": "Technical Screen"}]:
        body = {"evaluation_template_id": template["id"], "agent_profile_id": profile_id, **spec}
        r = await client.post("/api/v1/evaluation-stages", json=body, headers=h)
        assert r.status_code == 201, r.text
        stage_ids.append(r.json()["data"]["id"])
    body = {
        "name": "Jane Smith",
        "email": "jane@example.com",
        "external_id": "ats-1",
        "evaluation_template_id": template["id"],
        **(participant or {}),
    }
    r = await client.post("/api/v1/participants", json=body, headers=h)
    assert r.status_code == 201, r.text
    return {
        "profile": profile_id,
        "template": template["id"],
        "stages": stage_ids,
        "participant": r.json()["data"]["id"],
    }


def session_body(p: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {
        "candidate_id": p["participant"],
        "evaluation_template_id": p["template"],
        "stage": "screen",
        **extra,
    }
