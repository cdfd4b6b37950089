"""The document and the server agree where schemathesis first found they did not: which
PATCH fields take `null`, bodies sent without the JSON media type, 405s, booleans and
date-times in queries."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.fixtures.factories import Tenant, profile_body, template_body

API = "/api/v1"

# Per-field decisions: `null` clears these optional values; every other PATCH field refuses it.
CLEARABLE = {
    "AgentProfileUpdate": {"additionalInstructions"},
    "TemplateUpdate": {"description", "objective", "requirements", "industry", "ai_context", "level"},
    "StageUpdate": {"agent_profile_id", "pass_threshold"},
    "ParticipantUpdate": {"evaluation_template_id", "pipeline_id", "external_id", "phone", "resume_url"},
    "EndpointUpdate": {"description"},
}


def nullable(prop: dict[str, Any]) -> bool:
    return prop.get("type") == "null" or any(option.get("type") == "null" for option in prop.get("anyOf", []))


async def spec(client: httpx.AsyncClient) -> dict[str, Any]:
    return (await client.get(f"{API}/openapi.json")).json()


async def test_the_document_calls_only_clearable_patch_fields_nullable(client):
    schemas = (await spec(client))["components"]["schemas"]
    for name, clearable in CLEARABLE.items():
        props = schemas[name]["properties"]
        assert {field for field, prop in props.items() if nullable(prop)} == clearable, name
        for field in clearable:  # and a clearable field still says what else it takes
            assert any(option.get("type") != "null" for option in props[field]["anyOf"]), (name, field)


async def seeded(client: httpx.AsyncClient, tenant: Tenant) -> dict[str, str]:
    """One of each resource with every clearable field set, as paths to PATCH."""
    h = tenant.headers

    async def post(path: str, body: dict[str, Any]) -> str:
        r = await client.post(f"{API}{path}", json=body, headers=h)
        assert r.status_code in (200, 201), r.text
        return str(r.json()["data"]["id"])

    profile = await post("/agent-profiles", profile_body(additionalInstructions="Be kind"))
    text = {f: "x" for f in CLEARABLE["TemplateUpdate"]}
    template = await post("/evaluation-templates", template_body(**text))
    stage = await post(
        "/evaluation-stages",
        {
            "evaluation_template_id": template,
            "type": "screen",
            "agent_profile_id": profile,
            "pass_threshold": 70,
        },
    )
    participant = await post(
        "/participants",
        {
            "name": "Jane",
            "email": "jane@example.com",
            "evaluation_template_id": template,
            "external_id": "ats-1",
            "phone": "+44 20 7946 0000",
        },
    )
    endpoint = await post("/webhook-endpoints", {"url": "https://hooks.example.com/x", "description": "ATS"})
    return {
        "AgentProfileUpdate": f"/agent-profiles/{profile}",
        "TemplateUpdate": f"/evaluation-templates/{template}",
        "StageUpdate": f"/evaluation-stages/{stage}",
        "ParticipantUpdate": f"/participants/{participant}",
        "EndpointUpdate": f"/webhook-endpoints/{endpoint}",
    }


async def test_null_clears_a_clearable_field_and_is_a_400_elsewhere(client, tenant):
    schemas = (await spec(client))["components"]["schemas"]
    paths = await seeded(client, tenant)
    for name, path in paths.items():
        for field in schemas[name]["properties"]:
            r = await client.patch(f"{API}{path}", json={field: None}, headers=tenant.headers)
            if field in CLEARABLE[name]:
                assert r.status_code == 200, (name, field, r.text)
                got = (await client.get(f"{API}{path}", headers=tenant.headers)).json()["data"]
                assert got[field] is None, (name, field, got)
            else:
                assert r.status_code == 400, (name, field, r.text)
                assert r.json()["issues"] == [
                    {"path": [field], "message": "Cannot be null; leave the field out to keep its value"}
                ], (name, field)


async def test_a_cleared_resume_url_leaves_no_resume(client, tenant):
    r = await client.post(
        f"{API}/participants",
        json={"name": "Jo", "email": "jo@example.com", "resume_url": "https://cv.example.com/jo.pdf"},
        headers=tenant.headers,
    )
    assert r.json()["data"]["resume_status"] == "pending"
    pid = r.json()["data"]["id"]
    r = await client.patch(f"{API}/participants/{pid}", json={"resume_url": None}, headers=tenant.headers)
    assert r.status_code == 200, r.text
    assert (r.json()["data"]["resume_url"], r.json()["data"]["resume_status"]) == (None, "none")


@pytest.mark.parametrize(
    "content_type", [None, "text/plain", "application/x-www-form-urlencoded"], ids=["none", "text", "form"]
)
async def test_a_json_body_without_the_json_content_type_is_a_415_naming_the_header(
    client, tenant, content_type
):
    headers = {**tenant.headers, **({"content-type": content_type} if content_type else {})}
    r = await client.post(f"{API}/evaluation-templates", content=b'{"template_name": "x"}', headers=headers)
    assert r.status_code == 415, r.text
    body = r.json()
    assert body["code"] == "unsupported_media_type"
    assert "Content-Type: application/json" in body["error"]
    assert (content_type or "no Content-Type header") in body["error"]


async def test_json_routes_document_their_415(client):
    paths = (await spec(client))["paths"]
    for path, method in (
        (f"{API}/evaluation-templates", "post"),
        (f"{API}/participants/{{participant_id}}", "patch"),
    ):
        assert paths[path][method]["responses"]["415"]["content"]["application/json"]["schema"] == {
            "$ref": "#/components/schemas/Error"
        }


@pytest.mark.parametrize(
    ("method", "path", "allow"),
    [
        ("TRACE", "/evaluation-templates", "GET, POST"),
        ("PUT", "/evaluation-templates/5ee29ea2-d800-4698-819f-0a58d1eb6f66", "GET, PATCH, DELETE"),
        ("OPTIONS", "/participants/5ee29ea2-d800-4698-819f-0a58d1eb6f66", "GET, PATCH, DELETE"),
        ("DELETE", "/sessions/5ee29ea2-d800-4698-819f-0a58d1eb6f66/cancel", "POST"),
        # "bulk" is not a participant id: the literal path wins over /participants/{participant_id}.
        ("PATCH", "/participants/bulk", "POST"),
        ("GET", "/participants/bulk", "POST"),
    ],
)
async def test_a_405_says_which_methods_the_path_allows(client, tenant, method, path, allow):
    r = await client.request(method, f"{API}{path}", headers=tenant.headers)
    assert r.status_code == 405, r.text
    assert r.headers["allow"] == allow
    assert r.json() == {"error": "Method not allowed"}


async def test_a_boolean_is_true_or_false_not_a_number(client, tenant):
    r = await client.post(
        f"{API}/webhook-endpoints",
        json={"url": "https://hooks.example.com/x", "enabled": 0},
        headers=tenant.headers,
    )
    assert r.status_code == 400, r.text
    assert [i["path"] for i in r.json()["issues"]] == [["enabled"]]


@pytest.mark.parametrize("query", ["/sessions?updated_since=0.5", "/events?since=1780000000"])
async def test_a_query_date_time_is_iso_8601_not_unix_time(client, tenant, query):
    r = await client.get(f"{API}{query}", headers=tenant.headers)
    assert r.status_code == 400, r.text
    assert "ISO 8601" in r.json()["issues"][0]["message"]
