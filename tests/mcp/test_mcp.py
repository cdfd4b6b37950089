"""/api/mcp (SPEC §8) against a real server (uvicorn on loopback): through the official MCP
client, and as the raw JSON-RPC a curl user sends. Every object the tools return is compared
with what the REST API shows for the same object."""

from __future__ import annotations

import asyncio
import json
import os
import re
import shutil
import subprocess
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import httpx2
import pytest
from fastapi import FastAPI
from mcp import Client
from mcp.client.streamable_http import streamable_http_client
from mcp.shared.exceptions import MCPDeprecationWarning

from tests.fixtures.factories import Tenant, make_key
from tests.fixtures.live import CLIENT_TIMEOUT, live_server
from tests.scoring.test_pipeline import first_session, run_interview, stages
from tests.sessions.helpers import pipeline
from viva import quickstart
from viva.auth import service as auth_service
from viva.auth.scopes import ALL_SCOPES
from viva.config import Settings
from viva.workspaces import service as workspaces

TOOLS = {
    "list_templates",
    "get_template",
    "create_template",
    "create_stage",
    "list_agent_profiles",
    "create_agent_profile",
    "list_participants",
    "create_participant",
    "schedule_session",
    "list_sessions",
    "get_session",
    "get_scorecard",
    "cancel_session",
    "review_session",
    "run_code",
}
# What `curl` sends in the docs' raw JSON-RPC examples.
CURL_HEADERS = {"Content-Type": "application/json", "Accept": "application/json, text/event-stream"}
INITIALIZE = {
    "jsonrpc": "2.0",
    "id": 1,
    "method": "initialize",
    "params": {
        "protocolVersion": "2025-06-18",
        "capabilities": {},
        "clientInfo": {"name": "curl", "version": "8"},
    },
}


@pytest.fixture
def base(settings: Settings, tenant: Tenant) -> Iterator[str]:
    with live_server(settings) as url:
        yield url


@pytest.fixture
async def rest(base: str, tenant: Tenant) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=base, headers=tenant.headers, timeout=CLIENT_TIMEOUT) as client:
        yield client


@asynccontextmanager
async def mcp_client(base: str, key: str, mode: str = "auto") -> AsyncIterator[Client]:
    """The official SDK client over streamable HTTP, sending the key as x-api-key."""
    async with httpx2.AsyncClient(
        headers={"x-api-key": key}, timeout=httpx2.Timeout(CLIENT_TIMEOUT.read)
    ) as http:
        async with Client(streamable_http_client(f"{base}/api/mcp", http_client=http), mode=mode) as client:
            yield client


async def ok(client: Client, tool: str, arguments: dict[str, Any]) -> Any:
    result = await client.call_tool(tool, arguments)
    assert not result.is_error, result.content
    # The text rendering is the same JSON as the structured content.
    assert json.loads(result.content[0].text) == result.structured_content
    return result.structured_content


async def refused(client: Client, tool: str, arguments: dict[str, Any]) -> tuple[dict[str, Any], str]:
    result = await client.call_tool(tool, arguments)
    assert result.is_error, result.structured_content
    return result.structured_content, result.content[0].text


async def data(rest: httpx.AsyncClient, path: str, **params: Any) -> Any:
    r = await rest.get(path, params=params)
    assert r.status_code == 200, r.text
    return r.json()["data"]


async def seed(rest: httpx.AsyncClient) -> dict[str, Any]:
    """The quickstart through REST: profile, template, stage, participant; returns a session body."""
    profile = (await rest.post("/api/v1/agent-profiles", json=quickstart.PROFILE)).json()["data"]
    template = (await rest.post("/api/v1/evaluation-templates", json=quickstart.TEMPLATE)).json()["data"]
    r = await rest.post(
        "/api/v1/evaluation-stages",
        json={
            **quickstart.STAGE,
            "evaluation_template_id": template["id"],
            "agent_profile_id": profile["id"],
        },
    )
    assert r.status_code == 201, r.text
    r = await rest.post(
        "/api/v1/participants", json={**quickstart.PARTICIPANT, "evaluation_template_id": template["id"]}
    )
    assert r.status_code == 201, r.text
    return {
        "candidate_id": r.json()["data"]["id"],
        "evaluation_template_id": template["id"],
        "stage": "screen",
    }


async def count(rest: httpx.AsyncClient, path: str, **params: Any) -> int:
    r = await rest.get(path, params=params)
    assert r.status_code == 200, r.text
    return int(r.json()["meta"]["total"])


@pytest.mark.parametrize("mode", ["auto", "legacy"])
async def test_official_client_runs_the_quickstart_and_sees_what_rest_sees(
    base: str, rest: httpx.AsyncClient, tenant: Tenant, mode: str
) -> None:
    # auto negotiates the 2026-07-28 protocol; legacy the initialize handshake of 2025.
    async with mcp_client(base, tenant.key, mode) as mcp:
        tools = {t.name: t for t in (await mcp.list_tools()).tools}
        assert set(tools) == TOOLS
        for tool in tools.values():
            assert tool.description and tool.input_schema["type"] == "object"
            assert tool.annotations is not None
        assert tools["get_session"].annotations.read_only_hint is True
        assert tools["cancel_session"].annotations.destructive_hint is True
        scheduling = tools["schedule_session"]
        assert scheduling.annotations.read_only_hint is False
        assert scheduling.annotations.destructive_hint is False
        assert scheduling.annotations.idempotent_hint is True
        properties = scheduling.input_schema["properties"]
        assert {"dry_run", "idempotency_key", "force", "interview_id"} <= set(properties)
        assert "accountSlug" not in properties
        assert sorted(scheduling.input_schema["required"]) == [
            "candidate_id",
            "evaluation_template_id",
            "stage",
        ]
        assert scheduling.input_schema["additionalProperties"] is False

        profile = await ok(mcp, "create_agent_profile", quickstart.PROFILE)
        assert profile == await data(rest, f"/api/v1/agent-profiles/{profile['id']}")
        template = await ok(mcp, "create_template", quickstart.TEMPLATE)
        assert template == await data(rest, f"/api/v1/evaluation-templates/{template['id']}")
        stage = await ok(
            mcp,
            "create_stage",
            {**quickstart.STAGE, "evaluation_template_id": template["id"], "agent_profile_id": profile["id"]},
        )
        assert stage == await data(rest, f"/api/v1/evaluation-stages/{stage['id']}")
        detail = await ok(mcp, "get_template", {"template_id": template["id"]})
        assert detail == await data(rest, f"/api/v1/evaluation-templates/{template['id']}")
        assert [s["id"] for s in detail["stages"]] == [stage["id"]]
        participant = await ok(
            mcp, "create_participant", {**quickstart.PARTICIPANT, "evaluation_template_id": template["id"]}
        )
        assert participant == await data(rest, f"/api/v1/participants/{participant['id']}")

        body = {
            "candidate_id": participant["id"],
            "evaluation_template_id": template["id"],
            **quickstart.SESSION,
        }
        preview = await ok(mcp, "schedule_session", {**body, "dry_run": True})
        assert preview["dry_run"] is True and preview["would_create"] is True
        assert preview["stage"] == {
            "evaluation_stage_id": stage["id"],
            "stage": "screen",
            "stage_name": "Technical Screen",
            "attempt": 1,
        }
        assert preview["credits"] == {"plan": "unlimited", "debited": False, "remaining_after": None}
        assert preview["duplicate_check"] == {"passed": True, "open_sessions_for_stage": 0, "force": False}
        assert preview["session"]["candidate_id"] == participant["id"]
        assert "id" not in preview["session"] and "join_url" not in preview["session"]
        # A dry run creates, emails and records nothing, and does not use up the idempotency key.
        assert await count(rest, "/api/v1/sessions") == 0
        assert await count(rest, "/api/v1/outbox") == 0
        assert await count(rest, "/api/v1/events", type="session.created") == 0

        session = await ok(mcp, "schedule_session", body)
        assert session["idempotent"] is False and session["status"] == "scheduled"
        assert session["join_url"].startswith("http://testserver/join/")
        as_rest = await data(rest, f"/api/v1/sessions/{session['id']}")
        assert {k: v for k, v in session.items() if k != "idempotent"} == as_rest
        assert await ok(mcp, "get_session", {"session_id": session["id"]}) == as_rest
        assert await count(rest, "/api/v1/outbox") == 1  # the invite

        # A retry with the same key replays, through MCP and through REST alike.
        again = await ok(mcp, "schedule_session", body)
        assert again["id"] == session["id"] and again["idempotent"] is True
        r = await rest.post("/api/v1/sessions", json=body)
        assert r.json()["data"]["id"] == session["id"] and r.headers["Idempotent-Replayed"] == "true"

        listed = await ok(mcp, "list_sessions", {"candidate_id": participant["id"]})
        r = await rest.get("/api/v1/sessions", params={"candidate_id": participant["id"]})
        assert listed == r.json() and listed["meta"]["total"] == 1
        listed = await ok(mcp, "list_templates", {"pageSize": 5})
        assert listed == (await rest.get("/api/v1/evaluation-templates", params={"pageSize": 5})).json()
        listed = await ok(mcp, "list_participants", {"evaluation_template_id": template["id"]})
        r = await rest.get("/api/v1/participants", params={"evaluation_template_id": template["id"]})
        assert listed == r.json()
        assert await ok(mcp, "list_agent_profiles", {}) == (await rest.get("/api/v1/agent-profiles")).json()

        cancelled = await ok(mcp, "cancel_session", {"session_id": session["id"]})
        assert cancelled["status"] == "cancelled"
        assert cancelled == await data(rest, f"/api/v1/sessions/{session['id']}")
        if mode == "legacy":  # ping is gone from the 2026-07-28 protocol (the SDK warns of it)
            with pytest.warns(MCPDeprecationWarning):
                await mcp.send_ping()


async def test_raw_json_rpc_as_curl_sends_it(
    base: str, app: FastAPI, rest: httpx.AsyncClient, tenant: Tenant
) -> None:
    headers = {**CURL_HEADERS, "x-api-key": tenant.key}
    async with httpx.AsyncClient(base_url=base, timeout=CLIENT_TIMEOUT) as http:
        r = await http.post("/api/mcp", json=INITIALIZE, headers=headers)
        assert r.status_code == 200, r.text  # POST /api/mcp itself: no redirect to /api/mcp/
        assert r.headers["content-type"].startswith("application/json")
        assert "mcp-session-id" not in r.headers  # stateless
        assert r.headers["RateLimit-Policy"] == '"default";q=600;w=60'
        result = r.json()["result"]
        assert r.json()["id"] == 1 and result["protocolVersion"] == "2025-06-18"
        assert result["serverInfo"]["name"] == "viva" and "tools" in result["capabilities"]

        r = await http.post(
            "/api/mcp", json={"jsonrpc": "2.0", "method": "notifications/initialized"}, headers=headers
        )
        assert r.status_code == 202 and r.content == b""

        r = await http.post("/api/mcp", json={"jsonrpc": "2.0", "id": 2, "method": "ping"}, headers=headers)
        assert r.status_code == 200 and r.json() == {"jsonrpc": "2.0", "id": 2, "result": {}}

        bearer = {**CURL_HEADERS, "Authorization": f"Bearer {tenant.key}"}
        r = await http.post(
            "/api/mcp", json={"jsonrpc": "2.0", "id": 3, "method": "tools/list"}, headers=bearer
        )
        assert r.status_code == 200 and {t["name"] for t in r.json()["result"]["tools"]} == TOOLS

        missing = str(uuid.uuid4())
        r = await http.post(
            "/api/mcp",
            json={
                "jsonrpc": "2.0",
                "id": 4,
                "method": "tools/call",
                "params": {"name": "get_template", "arguments": {"template_id": missing}},
            },
            headers=headers,
        )
        result = r.json()["result"]
        assert result["isError"] is True
        not_found = await rest.get(f"/api/v1/evaluation-templates/{missing}")
        assert result["structuredContent"] == {"status": 404, **not_found.json()}

        r = await http.post(
            "/api/mcp",
            json={"jsonrpc": "2.0", "id": 5, "method": "tools/call", "params": {"name": "nope"}},
            headers=headers,
        )
        assert r.json()["error"]["code"] == -32602 and "nope" in r.json()["error"]["message"]
        r = await http.post("/api/mcp", json={"jsonrpc": "2.0", "id": 6, "method": "nope"}, headers=headers)
        assert r.json()["error"]["code"] == -32601  # method not found

        # Batches were removed from MCP (2025-06-18). Anything that is not one JSON-RPC message
        # is an "Invalid Request" (-32600) saying what is wrong in a sentence, never a 500 or
        # a validation dump; the id is echoed when there is a usable one.
        batch = [{"jsonrpc": "2.0", "id": 7, "method": "ping"}, {"jsonrpc": "2.0", "id": 8, "method": "ping"}]
        bad_id = 'the "id" member must be a string or an integer'
        malformed = [
            (batch, "send one JSON-RPC message per request; batches are not supported", None),
            ("ping", "the body must be a JSON-RPC object", None),
            (42, "the body must be a JSON-RPC object", None),
            ({"id": 9, "method": "ping"}, 'the "jsonrpc" member must be "2.0"', 9),
            ({"jsonrpc": "1.0", "id": 9, "method": "ping"}, 'the "jsonrpc" member must be "2.0"', 9),
            ({"jsonrpc": "2.0", "id": 10}, 'the "method" member is required', 10),
            ({"jsonrpc": "2.0", "id": 11, "method": 5}, 'the "method" member must be a string', 11),
            # The SDK alone would take these two for notifications and answer 202.
            ({"jsonrpc": "2.0", "id": True, "method": "ping"}, bad_id, None),
            ({"jsonrpc": "2.0", "id": None, "method": "ping"}, bad_id, None),
            (
                {"jsonrpc": "2.0", "id": 12, "method": "ping", "params": [1]},
                'the "params" member must be an object',
                12,
            ),
        ]
        for body, reason, echoed in malformed:
            r = await http.post("/api/mcp", json=body, headers=headers)
            assert r.status_code == 400, body
            error = r.json()["error"]
            assert r.json()["jsonrpc"] == "2.0" and r.json()["id"] == echoed, body
            assert error["code"] == -32600 and error["message"] == f"Invalid Request: {reason}", body

        r = await http.post("/api/mcp", content=b"{not json", headers=headers)
        assert r.status_code == 400 and r.json()["error"]["code"] == -32700  # parse error

        for method in ("GET", "DELETE"):  # no event stream, no session: stateless JSON only
            r = await http.request(method, "/api/mcp", headers=headers)
            assert r.status_code == 405 and r.json() == {"error": "Method not allowed"}

        # The 401 tells OAuth clients where to start (RFC 9728 §5.1), the body as before.
        metadata = "http://testserver/.well-known/oauth-protected-resource/api/mcp"
        r = await http.post("/api/mcp", json=INITIALIZE, headers=CURL_HEADERS)
        assert r.status_code == 401
        assert r.json() == {"error": "Missing API key: send it in the x-api-key header"}
        assert r.headers["WWW-Authenticate"] == f'Bearer resource_metadata="{metadata}"'
        r = await http.post(
            "/api/mcp", json=INITIALIZE, headers={**CURL_HEADERS, "x-api-key": "iv_live_nope"}
        )
        assert r.status_code == 401 and r.json() == {"error": "Invalid API key"}
        assert (
            r.headers["WWW-Authenticate"] == f'Bearer error="invalid_token", resource_metadata="{metadata}"'
        )
        r = await http.post(
            "/api/mcp", json={"jsonrpc": "2.0", "method": "notifications/initialized"}, headers=CURL_HEADERS
        )
        assert r.status_code == 401  # notifications too

        async with app.state.sessionmaker() as db:
            keys = await auth_service.list_api_keys(db, tenant.workspace_id)
            assert keys[0].last_used_at is not None  # recorded as for REST
            await auth_service.revoke_api_key(db, str(keys[0].id))
            await db.commit()
        r = await http.post("/api/mcp", json=INITIALIZE, headers=headers)
        assert r.status_code == 401 and r.json() == {"error": "This API key has been revoked"}


async def test_stateless_any_replica_answers_any_request(settings: Settings, tenant: Tenant) -> None:
    """Two app processes on one database, as behind a load balancer without sticky sessions:
    initialize on one, call a tool on the other."""
    headers = {**CURL_HEADERS, "x-api-key": tenant.key}
    with live_server(settings) as one, live_server(settings) as two:
        async with httpx.AsyncClient(timeout=CLIENT_TIMEOUT) as http:
            r = await http.post(f"{one}/api/mcp", json=INITIALIZE, headers=headers)
            assert r.status_code == 200 and "mcp-session-id" not in r.headers
            call = {
                "jsonrpc": "2.0",
                "id": 2,
                "method": "tools/call",
                "params": {"name": "create_template", "arguments": {"template_name": "Replica"}},
            }
            r = await http.post(f"{two}/api/mcp", json=call, headers=headers)
            created = r.json()["result"]["structuredContent"]
            r = await http.get(f"{one}/api/v1/evaluation-templates/{created['id']}", headers=tenant.headers)
            assert r.json()["data"] == created


async def test_tools_list_shows_only_the_tools_the_keys_scopes_allow(
    base: str, app: FastAPI, rest: httpx.AsyncClient, tenant: Tenant
) -> None:
    reader = await make_key(app, tenant.slug, ["candidates.read", "evaluation_templates.read"])
    async with mcp_client(base, reader) as mcp:
        listed = {t.name for t in (await mcp.list_tools()).tools}
        assert listed == {"list_participants", "list_templates", "get_template"}
        # A tool it does not list is still refused by name, with the scope it lacks.
        error, _ = await refused(mcp, "create_template", {"template_name": "Nope"})
        assert error["status"] == 403 and error["scope"] == "evaluation_templates.write"
    # run_code needs interviews.write; get_scorecard interviews.read alone.
    runner = await make_key(app, tenant.slug, ["interviews.read"])
    async with mcp_client(base, runner) as mcp:
        listed = {t.name for t in (await mcp.list_tools()).tools}
        assert "get_scorecard" in listed and "run_code" not in listed and "list_participants" not in listed


async def test_a_key_without_interviews_write_cannot_schedule(
    base: str, app: FastAPI, rest: httpx.AsyncClient, tenant: Tenant
) -> None:
    body = await seed(rest)
    reader = await make_key(app, tenant.slug, [s for s in ALL_SCOPES if s != "interviews.write"])
    as_rest = await rest.post("/api/v1/sessions", json=body, headers={"x-api-key": reader})
    assert as_rest.status_code == 403
    async with mcp_client(base, reader) as mcp:
        for arguments in (body, {**body, "dry_run": True}):
            error, text = await refused(mcp, "schedule_session", arguments)
            assert error == {"status": 403, **as_rest.json()}
            assert error["code"] == "missing_scope" and error["scope"] == "interviews.write"
            assert "interviews.write" in text
        # What the key may do, it can.
        assert (await ok(mcp, "list_sessions", {}))["meta"]["total"] == 0
    assert await count(rest, "/api/v1/sessions") == 0


async def test_another_workspaces_key_cannot_read_a_session(
    base: str, rest: httpx.AsyncClient, tenant: Tenant, other: Tenant
) -> None:
    body = await seed(rest)
    session = (await rest.post("/api/v1/sessions", json=body)).json()["data"]
    other_rest = await rest.get(f"/api/v1/sessions/{session['id']}", headers=other.headers)
    assert other_rest.status_code == 404
    async with mcp_client(base, other.key) as mcp:
        for tool in ("get_session", "get_scorecard", "cancel_session"):
            error, text = await refused(mcp, tool, {"session_id": session["id"]})
            assert error == {"status": 404, **other_rest.json()}, tool
            assert text.startswith("Session not found")
        error, _ = await refused(mcp, "schedule_session", body)
        as_rest = await rest.post("/api/v1/sessions", json=body, headers=other.headers)
        assert error == {"status": 404, **as_rest.json()}
        assert (await ok(mcp, "list_sessions", {}))["data"] == []
    assert (await data(rest, f"/api/v1/sessions/{session['id']}"))["status"] == "scheduled"


async def test_tool_errors_carry_the_api_messages_and_issues(
    base: str, rest: httpx.AsyncClient, tenant: Tenant
) -> None:
    body = await seed(rest)
    weights_90 = {
        **quickstart.PROFILE,
        "evaluationDimensions": [{"name": "Coding", "description": "Clean", "weight": 90}],
    }
    cases = [
        (
            "create_template",
            "/api/v1/evaluation-templates",
            {"template_name": "", "use_case": "x", "typo": 1},
        ),
        ("create_agent_profile", "/api/v1/agent-profiles", weights_90),
        ("schedule_session", "/api/v1/sessions", {**body, "interview_id": str(uuid.uuid4())}),
        ("schedule_session", "/api/v1/sessions", {**body, "scheduled_at": "2020-01-01T00:00:00Z"}),
        ("schedule_session", "/api/v1/sessions", {**body, "timezone": "Europe"}),
        ("schedule_session", "/api/v1/sessions", {**body, "timezone": "Mars/" + "x" * 300}),
        (
            "create_participant",
            "/api/v1/participants",
            {**quickstart.PARTICIPANT, "evaluation_template_id": body["evaluation_template_id"]},
        ),
    ]
    async with mcp_client(base, tenant.key) as mcp:
        for tool, path, arguments in cases:
            error, text = await refused(mcp, tool, arguments)
            r = await rest.post(path, json=arguments)
            assert r.status_code >= 400
            if "timezone" in arguments:
                assert r.status_code == 400 and r.json()["issues"][0]["path"] == ["timezone"]
            assert error == {"status": r.status_code, **r.json()}, tool
            assert text.startswith(r.json()["error"])
            for issue in r.json().get("issues", []):
                assert issue["message"] in text
    assert await count(rest, "/api/v1/sessions") == 0


async def test_dry_run_previews_credits_and_duplicates_without_spending(
    base: str, app: FastAPI, rest: httpx.AsyncClient, tenant: Tenant
) -> None:
    body = await seed(rest)

    async def plan(credits: int | None = None) -> tuple[str, int]:
        async with app.state.sessionmaker() as db:
            if credits is not None:
                await workspaces.set_plan(db, tenant.slug, "credits", credits)
                await db.commit()
            workspace = await workspaces.get_workspace(db, tenant.slug)
            return workspace.plan, workspace.credits

    await plan(credits=2)
    async with mcp_client(base, tenant.key) as mcp:
        preview = await ok(mcp, "schedule_session", {**body, "dry_run": True})
        assert preview["credits"] == {"plan": "credits", "debited": True, "remaining_after": 1}
        assert await plan() == ("credits", 2)  # nothing spent

        await ok(mcp, "schedule_session", body)
        assert await plan() == ("credits", 1)
        # A failing call rolls back all it did: the duplicate check comes after the debit.
        error, _ = await refused(mcp, "schedule_session", body)
        assert error["code"] == "duplicate_session"
        assert await plan() == ("credits", 1)

        # The duplicate check runs in a dry run exactly as for real.
        error, _ = await refused(mcp, "schedule_session", {**body, "dry_run": True})
        as_rest = await rest.post("/api/v1/sessions", json=body)
        assert as_rest.status_code == 409 and error == {"status": 409, **as_rest.json()}
        preview = await ok(mcp, "schedule_session", {**body, "force": True, "dry_run": True})
        assert preview["duplicate_check"] == {"passed": True, "open_sessions_for_stage": 1, "force": True}
        assert preview["credits"]["remaining_after"] == 0
        assert preview["stage"]["attempt"] == 2

        await plan(credits=0)
        error, text = await refused(mcp, "schedule_session", {**body, "force": True, "dry_run": True})
        assert error["status"] == 402 and error["code"] == "no_credits"
        assert text.startswith("This workspace has no session credits left")
    assert await count(rest, "/api/v1/sessions") == 1


async def test_scorecard_and_review_of_a_finished_interview(
    base: str, client: httpx.AsyncClient, rest: httpx.AsyncClient, tenant: Tenant, worker: Any
) -> None:
    # The interview runs in-process (the room and the job worker); MCP asks the live server.
    p = await pipeline(client, tenant, stages=stages("require_reviewer_approval"))
    session = await first_session(client, tenant, p)
    async with mcp_client(base, tenant.key) as mcp:
        error, _ = await refused(mcp, "get_scorecard", {"session_id": session["id"]})
        assert error["status"] == 404 and error["code"] == "not_scored"

        done = await run_interview(client, tenant, worker, session, answer="I don't know, maybe.")
        assert done["review_status"] == "pending"
        card = await ok(mcp, "get_scorecard", {"session_id": session["id"]})
        assert card == await data(rest, f"/api/v1/sessions/{session['id']}/scorecard")
        assert card["engine"]["method"] == "heuristic"

        url = f"/api/v1/sessions/{session['id']}/review"
        error, _ = await refused(mcp, "review_session", {"session_id": session["id"], "decision": "reject"})
        as_rest = await rest.post(url, json={"decision": "reject"})
        assert error == {"status": 400, **as_rest.json()} and error["issues"][0]["path"] == ["reason"]

        decision = {"session_id": session["id"], "decision": "approve", "reason": "Strong portfolio"}
        reviewed = await ok(mcp, "review_session", decision)
        assert reviewed == await data(rest, f"/api/v1/sessions/{session['id']}")
        assert reviewed["review_status"] == "approved"
        assert reviewed["review"]["reviewer"].startswith("api_key:")
        error, _ = await refused(mcp, "review_session", decision)
        assert error["status"] == 409 and error["code"] == "review_not_pending"


README = Path(__file__).resolve().parents[2] / "README.md"


@pytest.mark.skipif(shutil.which("curl") is None, reason="curl is installed by make setup")
async def test_the_readme_curl_command_and_cursor_config_work(base: str, tenant: Tenant) -> None:
    section = README.read_text().split("## MCP", 1)[1].split("\n## ", 1)[0]
    command = re.search(r"curl -X POST http://127\.0\.0\.1:8000/api/mcp .*?'\n", section, flags=re.S)
    assert command is not None
    out = await asyncio.to_thread(
        subprocess.run,
        ["bash", "-c", command.group(0).replace("http://127.0.0.1:8000", base).strip() + " -sS"],
        capture_output=True,
        text=True,
        timeout=30,
        env={**os.environ, "KEY": tenant.key},
    )
    answer = json.loads(out.stdout)
    assert answer["result"]["isError"] is False
    assert answer["result"]["structuredContent"] == {
        "data": [],
        "meta": {"page": 1, "pageSize": 5, "total": 0, "totalPages": 0},
    }

    cursor = json.loads(re.search(r"```json\n(.*?)```", section, flags=re.S).group(1))
    server = cursor["mcpServers"]["viva"]
    assert server["url"] == "http://127.0.0.1:8000/api/mcp"
    headers = {name: tenant.key for name in server["headers"]}
    async with httpx.AsyncClient(timeout=CLIENT_TIMEOUT) as http:
        r = await http.post(
            server["url"].replace("http://127.0.0.1:8000", base), json=INITIALIZE, headers=headers
        )
        assert r.status_code == 200 and r.json()["result"]["serverInfo"]["name"] == "viva"
    assert '--header "x-api-key: iv_live_…"' in section and "/api/mcp" in section


def without_timings(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: without_timings(v) for k, v in value.items() if k != "duration_ms"}
    if isinstance(value, list):
        return [without_timings(v) for v in value]
    return value


async def test_run_code_runs_in_the_sandbox_like_the_rest_endpoint(
    base: str, app: FastAPI, rest: httpx.AsyncClient, tenant: Tenant
) -> None:
    body = {
        "language": "python",
        "code": "def add(a, b):\n    return a + b\n",
        "entrypoint": "add",
        "test_cases": [
            {"name": "small", "input": [1, 2], "expected_output": 3},
            {"input": [2, 2], "expected_output": 5, "hidden": True},
        ],
    }
    async with mcp_client(base, tenant.key) as mcp:
        ran = await ok(mcp, "run_code", body)
        as_rest = await rest.post("/api/v1/code-executions", json=body)
        assert as_rest.status_code == 200, as_rest.text
        assert without_timings(ran) == without_timings(as_rest.json()["data"])
        assert ran["status"] == "failed" and (ran["passed"], ran["total"]) == (1, 2)
        assert ran["results"][0]["actual_output"] == 3
        assert ran["results"][1]["actual_output"] is None  # hidden: status only

        go = {**body, "language": "go"}
        error, _ = await refused(mcp, "run_code", go)
        as_rest = await rest.post("/api/v1/code-executions", json=go)
        assert error == {"status": 422, **as_rest.json()}

    reader = await make_key(app, tenant.slug, [s for s in ALL_SCOPES if s != "interviews.write"])
    async with mcp_client(base, reader) as mcp:
        error, _ = await refused(mcp, "run_code", body)
        assert error["status"] == 403 and error["scope"] == "interviews.write"
