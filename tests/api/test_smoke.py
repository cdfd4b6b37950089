from tests.fixtures.factories import profile_body, template_body


async def test_profile_template_stage_participant_roundtrip(client, tenant):
    h = tenant.headers
    r = await client.post("/api/v1/agent-profiles", json=profile_body(), headers=h)
    assert r.status_code == 201, r.text
    profile = r.json()["data"]
    assert profile["scoring"] == {
        "scale": "0-10",
        "scoringMethod": "weighted_average",
        "recommendationLogic": None,
        "overallPassThreshold": None,
    }
    r = await client.post("/api/v1/evaluation-templates", json=template_body(), headers=h)
    assert r.status_code == 201, r.text
    template = r.json()["data"]
    assert template["success_outcome"] == "hire_no_hire"
    r = await client.post(
        "/api/v1/evaluation-stages",
        json={
            "evaluation_template_id": template["id"],
            "type": "technical",
            "agent_profile_id": profile["id"],
        },
        headers=h,
    )
    assert r.status_code == 201, r.text
    stage = r.json()["data"]
    assert stage["stage_name"] == "technical" and stage["duration_minutes"] == 45
    r = await client.post(
        "/api/v1/participants",
        json={
            "name": "Jane",
            "email": "Jane@Example.com",
            "evaluation_template_id": template["id"],
            "tags": ["senior"],
        },
        headers=h,
    )
    assert r.status_code == 201, r.text
    r = await client.get("/api/v1/participants?tag=senior", headers=h)
    assert r.json()["meta"]["total"] == 1
    r = await client.get("/api/v1/participants?tag=junior", headers=h)
    assert r.json()["meta"]["total"] == 0
    r = await client.get(f"/api/v1/evaluation-templates/{template['id']}", headers=h)
    assert [s["id"] for s in r.json()["data"]["stages"]] == [stage["id"]]
