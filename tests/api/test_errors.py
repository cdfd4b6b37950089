"""The error shapes of SPEC §2, as an integrator sees them."""

from __future__ import annotations

import json

from tests.fixtures.factories import profile_body


async def test_malformed_json_is_a_400(client, tenant):
    r = await client.post(
        "/api/v1/agent-profiles",
        content=b'{"name": "x",',
        headers={**tenant.headers, "content-type": "application/json"},
    )
    assert r.status_code == 400
    assert r.json()["error"].startswith("Malformed JSON")


async def test_missing_fields_are_listed_with_paths(client, tenant):
    r = await client.post("/api/v1/evaluation-stages", json={}, headers=tenant.headers)
    assert r.status_code == 400
    body = r.json()
    assert body["error"] == "Validation error"
    assert {"path": ["evaluation_template_id"], "message": "Required"} in body["issues"]
    assert {"path": ["type"], "message": "Required"} in body["issues"]


async def test_wrong_type_and_bad_enum_name_the_problem(client, tenant):
    body = profile_body(name=42, interaction={"tone": "rude"})
    r = await client.post("/api/v1/agent-profiles", json=body, headers=tenant.headers)
    assert r.status_code == 400
    issues = {tuple(i["path"]): i["message"] for i in r.json()["issues"]}
    assert issues[("name",)] == "Expected string, received number"
    tone = issues[("interaction", "tone")]
    for allowed in ("friendly", "professional", "strict", "challenging"):
        assert allowed in tone
    assert "rude" in tone


async def test_weights_must_sum_to_100_and_the_message_gives_the_sum(client, tenant):
    dims = [{"name": "A", "weight": 50}, {"name": "B", "weight": 40}]
    r = await client.post(
        "/api/v1/agent-profiles", json=profile_body(evaluationDimensions=dims), headers=tenant.headers
    )
    assert r.status_code == 400
    [issue] = r.json()["issues"]
    assert issue["path"] == ["evaluationDimensions"]
    assert "sum to 100" in issue["message"] and "90" in issue["message"]


async def test_unknown_fields_are_rejected_not_dropped(client, tenant):
    r = await client.post(
        "/api/v1/evaluation-templates", json={"template_name": "T", "skils": ["Go"]}, headers=tenant.headers
    )
    assert r.status_code == 400
    assert r.json()["issues"] == [{"path": ["skils"], "message": "Unrecognized field 'skils'"}]
    r = await client.get("/api/v1/evaluation-templates", headers=tenant.headers)
    assert r.json()["meta"]["total"] == 0  # nothing half-written


async def test_bad_query_parameters_are_400_with_the_parameter_named(client, tenant):
    r = await client.get("/api/v1/participants?pageSize=500&sort=banana", headers=tenant.headers)
    assert r.status_code == 400
    paths = [i["path"] for i in r.json()["issues"]]
    assert ["pageSize"] in paths and ["sort"] in paths


async def test_bad_id_in_path_is_a_400_not_a_500(client, tenant):
    r = await client.get("/api/v1/participants/not-a-uuid", headers=tenant.headers)
    assert r.status_code == 400
    assert r.json()["issues"][0]["path"] == ["participant_id"]


async def test_bodies_over_1_mib_are_413(client, tenant):
    big = profile_body(additionalInstructions="x" * (1024 * 1024 + 10))
    r = await client.post(
        "/api/v1/agent-profiles",
        content=json.dumps(big),
        headers={**tenant.headers, "content-type": "application/json"},
    )
    assert r.status_code == 413
    assert "too large" in r.json()["error"]


async def test_bulk_import_accepts_bodies_up_to_5_mib(client, tenant):
    rows = [
        {"name": f"P{i}", "email": f"p{i}@example.com", "metadata": {"note": "y" * 3000}} for i in range(500)
    ]  # ~1.6 MB: over the general limit, under the bulk one
    r = await client.post("/api/v1/participants/bulk", json={"participants": rows}, headers=tenant.headers)
    assert r.status_code == 200, r.text[:300]
    assert len(r.json()["data"]["created"]) == 500
    rows = [
        {"name": "P", "email": f"p{i}@example.com", "metadata": {"note": "y" * 11000}} for i in range(500)
    ]  # ~5.5 MB
    r = await client.post("/api/v1/participants/bulk", json={"participants": rows}, headers=tenant.headers)
    assert r.status_code == 413


async def test_unknown_route_and_method_are_json(client, tenant):
    r = await client.get("/api/v1/nothing-here", headers=tenant.headers)
    assert r.status_code == 404 and r.json() == {"error": "Not found"}
    r = await client.put("/api/v1/participants", headers=tenant.headers)
    assert r.status_code == 405 and r.json()["error"] == "Method not allowed"


async def test_a_crash_is_a_generic_500_without_a_stack_trace(app, tenant):
    import httpx

    from viva.agent_profiles import service

    async def boom(*args, **kwargs):
        raise RuntimeError("secret internal detail")

    original = service.list_profiles
    service.list_profiles = boom
    try:
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as c:
            r = await c.get("/api/v1/agent-profiles", headers=tenant.headers)
    finally:
        service.list_profiles = original
    assert r.status_code == 500
    assert "secret internal detail" not in r.text and "Traceback" not in r.text
    assert "retry" in r.json()["error"]
