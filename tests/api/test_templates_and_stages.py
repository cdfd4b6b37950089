from __future__ import annotations

import pytest

from tests.fixtures.factories import profile_body, template_body

T = "/api/v1/evaluation-templates"
S = "/api/v1/evaluation-stages"


@pytest.mark.parametrize(
    "use_case,outcome",
    [
        ("hiring", "hire_no_hire"),
        ("admissions", "admit_reject"),
        ("training", "ready_needs_training"),
        ("custom_api", "pass_fail"),
    ],
)
async def test_success_outcome_is_derived_from_use_case(client, tenant, use_case, outcome):
    r = await client.post(T, json={"template_name": "X", "use_case": use_case}, headers=tenant.headers)
    assert r.status_code == 201
    assert r.json()["data"]["success_outcome"] == outcome


async def test_template_defaults_and_explicit_outcome(client, tenant):
    r = await client.post(
        T, json={"template_name": "X", "success_outcome": "certified_not_certified"}, headers=tenant.headers
    )
    t = r.json()["data"]
    assert t["success_outcome"] == "certified_not_certified"
    assert (
        t["use_case"],
        t["default_duration_minutes"],
        t["default_difficulty"],
        t["session_mode"],
        t["visibility"],
        t["language"],
        t["status"],
    ) == ("hiring", 30, "intermediate", "live_ai_interview", "team", "en", "active")
    assert t["stages"] == [] and t["skills"] == []


async def test_template_field_rules(client, tenant):
    r = await client.post(
        T,
        json={
            "template_name": "X",
            "default_duration_minutes": 181,
            "language": "english!",
            "default_difficulty": "hard",
        },
        headers=tenant.headers,
    )
    assert r.status_code == 400
    paths = {tuple(i["path"]) for i in r.json()["issues"]}
    assert paths == {("default_duration_minutes",), ("language",), ("default_difficulty",)}


async def test_template_filters(client, tenant):
    h = tenant.headers
    await client.post(T, json={"template_name": "Backend", "use_case": "hiring"}, headers=h)
    await client.post(
        T, json={"template_name": "Nursing school", "use_case": "admissions", "status": "draft"}, headers=h
    )
    names = lambda r: [t["template_name"] for t in r.json()["data"]]  # noqa: E731
    assert names(await client.get(f"{T}?status=draft", headers=h)) == ["Nursing school"]
    assert names(await client.get(f"{T}?use_case=hiring", headers=h)) == ["Backend"]
    assert names(await client.get(f"{T}?q=nurs", headers=h)) == ["Nursing school"]


async def test_stage_defaults_come_from_the_template(client, tenant):
    h = tenant.headers
    tid = (
        await client.post(
            T, json=template_body(default_duration_minutes=50, default_difficulty="expert"), headers=h
        )
    ).json()["data"]["id"]
    r = await client.post(S, json={"evaluation_template_id": tid, "type": "screen"}, headers=h)
    s = r.json()["data"]
    assert (
        s["stage_name"],
        s["stage_type"],
        s["duration_minutes"],
        s["difficulty"],
        s["stage_order"],
        s["allow_retake"],
        s["max_attempts"],
        s["automation_rule"],
        s["status"],
        s["pass_threshold"],
    ) == ("screen", "ai_interview", 50, "expert", 0, False, 1, "none", "active", None)
    r = await client.post(
        S, json={"evaluation_template_id": tid, "type": "drill", "allow_retake": True}, headers=h
    )
    assert r.json()["data"]["max_attempts"] == 3
    r = await client.post(S, json={"evaluation_template_id": tid, "type": "x", "max_attempts": 2}, headers=h)
    assert r.status_code == 400 and r.json()["issues"][0]["path"] == ["max_attempts"]
    r = await client.post(
        S, json={"evaluation_template_id": tid, "type": "x", "pass_threshold": 101}, headers=h
    )
    assert r.status_code == 400 and r.json()["issues"][0]["path"] == ["pass_threshold"]


async def test_template_lists_its_stages_in_pipeline_order(client, tenant):
    h = tenant.headers
    tid = (await client.post(T, json=template_body(), headers=h)).json()["data"]["id"]
    for name, order in (("Final", 2), ("Phone Screen", 0), ("Technical", 1)):
        r = await client.post(
            S,
            json={
                "evaluation_template_id": tid,
                "type": name.lower(),
                "stage_name": name,
                "stage_order": order,
            },
            headers=h,
        )
        assert r.status_code == 201
    r = await client.get(f"{T}/{tid}", headers=h)
    assert [s["stage_name"] for s in r.json()["data"]["stages"]] == ["Phone Screen", "Technical", "Final"]
    r = await client.get(f"{S}?evaluation_template_id={tid}&sort=stage_order", headers=h)
    assert [s["stage_order"] for s in r.json()["data"]] == [0, 1, 2]


async def test_stage_references_must_be_in_the_workspace(client, tenant, other):
    h = tenant.headers
    tid = (await client.post(T, json=template_body(), headers=h)).json()["data"]["id"]
    foreign_profile = (
        await client.post("/api/v1/agent-profiles", json=profile_body(), headers=other.headers)
    ).json()["data"]["id"]
    r = await client.post(
        S, json={"evaluation_template_id": tid, "type": "x", "agent_profile_id": foreign_profile}, headers=h
    )
    assert r.status_code == 404 and r.json()["param"] == "agent_profile_id"
    sid = (await client.post(S, json={"evaluation_template_id": tid, "type": "x"}, headers=h)).json()["data"][
        "id"
    ]
    r = await client.patch(f"{S}/{sid}", json={"agent_profile_id": foreign_profile}, headers=h)
    assert r.status_code == 404
    tid2 = (await client.post(T, json=template_body(), headers=h)).json()["data"]["id"]
    r = await client.patch(f"{S}/{sid}", json={"evaluation_template_id": tid2}, headers=h)
    assert r.status_code == 400 and "cannot move" in r.json()["issues"][0]["message"]


async def test_stage_patch(client, tenant):
    h = tenant.headers
    tid = (await client.post(T, json=template_body(), headers=h)).json()["data"]["id"]
    sid = (
        await client.post(
            S, json={"evaluation_template_id": tid, "type": "x", "pass_threshold": 70}, headers=h
        )
    ).json()["data"]["id"]
    r = await client.patch(f"{S}/{sid}", json={"allow_retake": True}, headers=h)
    assert r.json()["data"]["max_attempts"] == 3
    r = await client.patch(
        f"{S}/{sid}", json={"pass_threshold": None, "automation_rule": "auto_advance"}, headers=h
    )
    s = r.json()["data"]
    assert s["pass_threshold"] is None and s["automation_rule"] == "auto_advance"
    r = await client.patch(f"{S}/{sid}", json={"duration_minutes": None}, headers=h)
    assert r.status_code == 400


async def test_template_delete_refused_with_participants_and_cascades_stages(client, tenant):
    h = tenant.headers
    tid = (await client.post(T, json=template_body(), headers=h)).json()["data"]["id"]
    sid = (await client.post(S, json={"evaluation_template_id": tid, "type": "x"}, headers=h)).json()["data"][
        "id"
    ]
    pid = (
        await client.post(
            "/api/v1/participants",
            json={"name": "A", "email": "a@example.com", "evaluation_template_id": tid},
            headers=h,
        )
    ).json()["data"]["id"]
    r = await client.delete(f"{T}/{tid}", headers=h)
    assert r.status_code == 409 and r.json()["code"] == "in_use" and r.json()["participants"] == 1
    r = await client.patch(f"{T}/{tid}", json={"status": "archived"}, headers=h)
    assert r.json()["data"]["status"] == "archived"
    await client.delete(f"/api/v1/participants/{pid}", headers=h)
    assert (await client.delete(f"{T}/{tid}", headers=h)).status_code == 204
    assert (await client.get(f"{S}/{sid}", headers=h)).status_code == 404
