from __future__ import annotations

from tests.fixtures.factories import profile_body, template_body, vendor_rubric

API = "/api/v1/agent-profiles"


async def test_defaults_are_filled_and_echoed(client, tenant):
    body = profile_body()
    del body["interaction"]
    r = await client.post(API, json=body, headers=tenant.headers)
    assert r.status_code == 201
    p = r.json()["data"]
    assert p["interaction"] == {
        "tone": "professional",
        "style": "structured",
        "difficulty": "medium",
        "probingDepth": "medium",
    }
    assert p["output"] == {
        "includeTranscript": True,
        "includeScoreBreakdown": True,
        "includeRecommendation": True,
        "includeImprovementFeedback": True,
    }
    assert p["isPublic"] is False and p["forkedFromId"] is None
    assert p["created_at"].endswith("Z") and len(p["created_at"]) == 24
    r = await client.get(f"{API}/{p['id']}", headers=tenant.headers)
    assert r.json()["data"] == p


async def test_dimension_rules(client, tenant):
    dims = [{"name": "Coding", "weight": 50, "passThreshold": 11}, {"name": "coding", "weight": 50}]
    r = await client.post(API, json=profile_body(evaluationDimensions=dims), headers=tenant.headers)
    assert r.status_code == 400
    messages = {tuple(i["path"]): i["message"] for i in r.json()["issues"]}
    assert "Duplicate dimension name" in messages[("evaluationDimensions", 1, "name")]
    assert "above the scale's maximum" in messages[("evaluationDimensions", 0, "passThreshold")]
    r = await client.post(API, json=profile_body(evaluationDimensions=[]), headers=tenant.headers)
    assert r.status_code == 400 and r.json()["issues"][0]["path"] == ["evaluationDimensions"]
    many = [{"name": f"D{i}", "weight": 100 / 13} for i in range(13)]
    r = await client.post(API, json=profile_body(evaluationDimensions=many), headers=tenant.headers)
    assert r.status_code == 400
    # weights within ±0.01 of 100 are fine (thirds)
    thirds = [{"name": f"D{i}", "weight": 33.333} for i in range(3)]
    r = await client.post(API, json=profile_body(evaluationDimensions=thirds), headers=tenant.headers)
    assert r.status_code == 201, r.text


async def test_rule_based_scoring_needs_logic_naming_real_dimensions(client, tenant):
    scoring = {"scoringMethod": "rule_based"}
    r = await client.post(API, json=profile_body(scoring=scoring), headers=tenant.headers)
    assert r.status_code == 400
    assert r.json()["issues"][0]["path"] == ["scoring", "recommendationLogic"]
    scoring["recommendationLogic"] = {
        "rules": [{"when": {"dimension": "Typing", "op": ">=", "value": 8}, "recommendation": "hire"}],
        "default": "no_hire",
    }
    r = await client.post(API, json=profile_body(scoring=scoring), headers=tenant.headers)
    assert r.status_code == 400
    assert r.json()["issues"][0]["path"] == [
        "scoring",
        "recommendationLogic",
        "rules",
        0,
        "when",
        "dimension",
    ]
    scoring["recommendationLogic"]["rules"][0]["when"]["dimension"] = "coding"
    scoring["recommendationLogic"]["rules"].append(
        {"when": {"dimension": "overall", "op": "<", "value": 4}, "recommendation": "no_hire"}
    )
    r = await client.post(API, json=profile_body(scoring=scoring), headers=tenant.headers)
    assert r.status_code == 201, r.text
    assert r.json()["data"]["scoring"]["recommendationLogic"]["default"] == "no_hire"


async def test_patch_merges_objects_replaces_lists_and_revalidates(client, tenant):
    r = await client.post(API, json=profile_body(), headers=tenant.headers)
    pid = r.json()["data"]["id"]
    r = await client.patch(f"{API}/{pid}", json={"interaction": {"tone": "friendly"}}, headers=tenant.headers)
    assert r.status_code == 200
    inter = r.json()["data"]["interaction"]
    assert inter["tone"] == "friendly" and inter["difficulty"] == "hard" and inter["probingDepth"] == "high"
    r = await client.patch(
        f"{API}/{pid}",
        json={"evaluationDimensions": [{"name": "Only", "weight": 100}]},
        headers=tenant.headers,
    )
    assert [d["name"] for d in r.json()["data"]["evaluationDimensions"]] == ["Only"]
    r = await client.patch(
        f"{API}/{pid}",
        json={"evaluationDimensions": [{"name": "Half", "weight": 50}]},
        headers=tenant.headers,
    )
    assert r.status_code == 400 and "sum to 50" in r.json()["issues"][0]["message"]
    # Objects merge at every depth: a new default keeps the rules beside it (issue 15).
    logic = {
        "rules": [{"when": {"dimension": "overall", "op": "<", "value": 4}, "recommendation": "no_hire"}],
        "default": "hire",
    }
    r = await client.patch(
        f"{API}/{pid}",
        json={"scoring": {"scoringMethod": "rule_based", "recommendationLogic": logic}},
        headers=tenant.headers,
    )
    assert r.status_code == 200, r.text
    r = await client.patch(
        f"{API}/{pid}",
        json={"scoring": {"recommendationLogic": {"default": "no_hire"}}},
        headers=tenant.headers,
    )
    assert r.status_code == 200, r.text
    assert r.json()["data"]["scoring"]["recommendationLogic"] == {**logic, "default": "no_hire"}
    assert r.json()["data"]["scoring"]["scoringMethod"] == "rule_based"
    r = await client.patch(
        f"{API}/{pid}", json={"context": {"domainContext": "Payments"}}, headers=tenant.headers
    )
    r = await client.patch(
        f"{API}/{pid}",
        json={"context": {"organizationContext": "Acme", "domainContext": None}},
        headers=tenant.headers,
    )
    assert r.json()["data"]["context"] == {
        "organizationContext": "Acme",
        "domainContext": None,
        "scenarioContext": None,
    }
    r = await client.patch(f"{API}/{pid}", json={"name": None}, headers=tenant.headers)
    assert r.status_code == 400 and r.json()["issues"][0]["path"] == ["name"]
    r = await client.get(f"{API}/{pid}", headers=tenant.headers)
    assert r.json()["data"]["name"] == "Backend Hiring Agent"  # failed patches changed nothing


async def test_public_library_and_fork(client, tenant, other):
    r = await client.post(API, json=profile_body(name="Shared", isPublic=True), headers=tenant.headers)
    public_id = r.json()["data"]["id"]
    r = await client.post(API, json=profile_body(name="Private"), headers=tenant.headers)
    private_id = r.json()["data"]["id"]

    r = await client.get(f"{API}?public=true", headers=other.headers)
    assert [p["name"] for p in r.json()["data"]] == ["Shared"]
    r = await client.get(API, headers=other.headers)
    assert r.json()["meta"]["total"] == 0
    # A profile listed in the library can be read from any workspace (SPEC §1), not changed:
    r = await client.get(f"{API}/{public_id}", headers=other.headers)
    assert r.status_code == 200, r.text
    assert r.json()["data"]["name"] == "Shared" and r.json()["data"]["isPublic"] is True
    assert (await client.get(f"{API}/{private_id}", headers=other.headers)).status_code == 404
    r = await client.patch(f"{API}/{public_id}", json={"name": "Hijacked"}, headers=other.headers)
    assert r.status_code == 404
    assert (await client.delete(f"{API}/{public_id}", headers=other.headers)).status_code == 404
    # nor used by another workspace's stage without forking it first.
    tid = (
        await client.post("/api/v1/evaluation-templates", json=template_body(), headers=other.headers)
    ).json()["data"]["id"]
    stage = {"evaluation_template_id": tid, "type": "screen", "agent_profile_id": public_id}
    r = await client.post("/api/v1/evaluation-stages", json=stage, headers=other.headers)
    assert r.status_code == 404, r.text
    r = await client.get(f"{API}/{public_id}", headers=tenant.headers)
    assert r.json()["data"]["name"] == "Shared"  # untouched by the attempts above

    r = await client.post(f"{API}?action=fork", json={"sourceId": public_id}, headers=other.headers)
    assert r.status_code == 201, r.text
    fork = r.json()["data"]
    assert fork["id"] != public_id and fork["forkedFromId"] == public_id
    assert fork["name"] == "Shared" and fork["isPublic"] is False
    r = await client.post(f"{API}?action=fork", json={"sourceId": private_id}, headers=other.headers)
    assert r.status_code == 404
    r = await client.post(f"{API}?action=fork", json={"name": "x"}, headers=other.headers)
    assert r.status_code == 400
    # The fork is independent of its source.
    await client.patch(f"{API}/{public_id}", json={"name": "Renamed"}, headers=tenant.headers)
    r = await client.get(f"{API}/{fork['id']}", headers=other.headers)
    assert r.json()["data"]["name"] == "Shared"
    # Taken out of the library, it is private again: a 404 like any other workspace's object.
    await client.patch(f"{API}/{public_id}", json={"isPublic": False}, headers=tenant.headers)
    assert (await client.get(f"{API}/{public_id}", headers=other.headers)).status_code == 404


async def test_delete_refused_while_an_active_stage_uses_it(client, tenant):
    h = tenant.headers
    pid = (await client.post(API, json=profile_body(), headers=h)).json()["data"]["id"]
    tid = (await client.post("/api/v1/evaluation-templates", json=template_body(), headers=h)).json()["data"][
        "id"
    ]
    stage = (
        await client.post(
            "/api/v1/evaluation-stages",
            json={
                "evaluation_template_id": tid,
                "type": "screen",
                "stage_name": "Phone Screen",
                "agent_profile_id": pid,
            },
            headers=h,
        )
    ).json()["data"]
    r = await client.delete(f"{API}/{pid}", headers=h)
    assert r.status_code == 409
    body = r.json()
    assert body["code"] == "in_use"
    assert body["stages"] == [
        {"id": stage["id"], "stage_name": "Phone Screen", "evaluation_template_id": tid}
    ]
    await client.patch(f"/api/v1/evaluation-stages/{stage['id']}", json={"status": "archived"}, headers=h)
    r = await client.delete(f"{API}/{pid}", headers=h)
    assert r.status_code == 204 and r.content == b""
    assert (await client.get(f"{API}/{pid}", headers=h)).status_code == 404
    r = await client.get(f"/api/v1/evaluation-stages/{stage['id']}", headers=h)
    assert r.json()["data"]["agent_profile_id"] is None


async def test_list_paginates_and_sorts(client, tenant):
    for name in ("b", "a", "c"):
        await client.post(API, json=profile_body(name=name), headers=tenant.headers)
    r = await client.get(f"{API}?sort=name&pageSize=2", headers=tenant.headers)
    assert [p["name"] for p in r.json()["data"]] == ["a", "b"]
    assert r.json()["meta"] == {"page": 1, "pageSize": 2, "total": 3, "totalPages": 2}
    r = await client.get(f"{API}?sort=-name&pageSize=2&page=2", headers=tenant.headers)
    assert [p["name"] for p in r.json()["data"]] == ["a"]
    r = await client.get(f"{API}?sort=-created_at", headers=tenant.headers)
    assert [p["name"] for p in r.json()["data"]] == ["c", "a", "b"]
    r = await client.get(f"{API}?q=B", headers=tenant.headers)
    assert [p["name"] for p in r.json()["data"]] == ["b"]


def vendor_profile() -> dict:
    body = profile_body(rubric=vendor_rubric())
    del body["evaluationDimensions"]
    return body


async def test_the_vendor_rubric_is_accepted_and_normalised(client, tenant):
    r = await client.post(API, json=vendor_profile(), headers=tenant.headers)
    assert r.status_code == 201, r.text
    p = r.json()["data"]
    assert p["weightsNormalized"] is True
    assert [
        (d["id"], d["name"], d["label"], d["weight"], d["passThreshold"]) for d in p["evaluationDimensions"]
    ] == [
        ("problem_decomposition", "Problem decomposition", "Problem decomposition", 30.0, 6.5),
        ("code_quality", "Code quality & correctness", "Code quality & correctness", 30.0, 7.0),
        ("tradeoff_thinking", "Trade-off thinking", "Trade-off thinking", 25.0, 6.0),
        ("communication", "Communication under pressure", "Communication under pressure", 15.0, 6.0),
    ]
    assert p["evaluationDimensions"][0]["description"].startswith("Can the candidate break ambiguity")
    assert p["scoring"]["overallPassThreshold"] == 7.0
    got = (await client.get(f"{API}/{p['id']}", headers=tenant.headers)).json()["data"]
    assert got["evaluationDimensions"] == p["evaluationDimensions"] and got["weightsNormalized"] is False


async def test_fractional_weights_not_summing_to_one_are_normalised(client, tenant):
    dims = [{"id": "a", "label": "Alpha", "weight": 0.3}, {"name": "Beta Two!", "weight": 0.3}]
    r = await client.post(API, json=profile_body(evaluationDimensions=dims), headers=tenant.headers)
    assert r.status_code == 201, r.text
    p = r.json()["data"]
    assert p["weightsNormalized"] is True
    assert [(d["id"], d["name"], d["weight"]) for d in p["evaluationDimensions"]] == [
        ("a", "Alpha", 50.0),
        ("beta_two", "Beta Two!", 50.0),  # the id derived from the name
    ]


async def test_percent_weights_must_still_sum_to_100(client, tenant):
    dims = [{"name": "A", "weight": 40}, {"name": "B", "weight": 30}]
    r = await client.post(API, json=profile_body(evaluationDimensions=dims), headers=tenant.headers)
    assert r.status_code == 400 and "sum to 70" in r.json()["issues"][0]["message"]
    r = await client.post(API, json=profile_body(), headers=tenant.headers)
    assert r.status_code == 201 and r.json()["data"]["weightsNormalized"] is False


async def test_vendor_rubric_rules(client, tenant):
    both = profile_body(rubric=vendor_rubric())
    r = await client.post(API, json=both, headers=tenant.headers)
    assert r.status_code == 400 and r.json()["issues"][0]["path"] == ["rubric"]
    too_high = vendor_profile()
    too_high["rubric"]["overallPassThreshold"] = 11
    r = await client.post(API, json=too_high, headers=tenant.headers)
    assert r.status_code == 400
    assert r.json()["issues"][0]["path"] == ["scoring", "overallPassThreshold"]
    nameless = profile_body(evaluationDimensions=[{"id": "x", "weight": 1}])
    r = await client.post(API, json=nameless, headers=tenant.headers)
    assert r.status_code == 400 and "needs a name" in r.text
    same_id = [{"name": "A-b", "weight": 50}, {"name": "A b", "weight": 50}]
    r = await client.post(API, json=profile_body(evaluationDimensions=same_id), headers=tenant.headers)
    assert r.status_code == 400 and r.json()["issues"][0]["path"] == ["evaluationDimensions", 1, "id"]


async def test_a_patch_can_replace_the_dimensions_with_a_vendor_rubric(client, tenant):
    p = (await client.post(API, json=profile_body(), headers=tenant.headers)).json()["data"]
    r = await client.patch(f"{API}/{p['id']}", json={"rubric": vendor_rubric()}, headers=tenant.headers)
    assert r.status_code == 200, r.text
    got = r.json()["data"]
    assert got["weightsNormalized"] is True and got["scoring"]["overallPassThreshold"] == 7.0
    assert [d["id"] for d in got["evaluationDimensions"]][0] == "problem_decomposition"
    assert got["scoring"]["scale"] == p["scoring"]["scale"]  # the rest of scoring stays
    r = await client.patch(f"{API}/{p['id']}", json={"name": "Renamed"}, headers=tenant.headers)
    assert r.status_code == 200 and r.json()["data"]["weightsNormalized"] is False
    assert r.json()["data"]["evaluationDimensions"] == got["evaluationDimensions"]
