from __future__ import annotations

from sqlalchemy import select

from tests.fixtures.factories import template_body
from viva.models import Event

P = "/api/v1/participants"


async def make_template(client, tenant, name="Role"):
    r = await client.post(
        "/api/v1/evaluation-templates", json=template_body(template_name=name), headers=tenant.headers
    )
    return r.json()["data"]["id"]


async def test_fields_and_defaults(client, tenant):
    tid = await make_template(client, tenant)
    r = await client.post(
        P,
        json={
            "name": "Jane Smith",
            "email": "Jane@Example.com",
            "external_id": "greenhouse-8821",
            "evaluation_template_id": tid,
            "phone": "+1 (555) 010-2000",
            "tags": ["senior", "remote"],
            "profile": {"title": "Software Engineer", "experienceLevel": "senior"},
            "background": {"skills": ["Go"], "languages": ["en", "de"]},
            "resume_url": "https://example.com/jane.pdf",
            "metadata": {"source": "ats", "n": 1},
        },
        headers=tenant.headers,
    )
    assert r.status_code == 201, r.text
    p = r.json()["data"]
    assert p["email"] == "jane@example.com"
    assert p["profile"] == {
        "title": "Software Engineer",
        "organization": None,
        "experienceLevel": "senior",
        "location": None,
    }
    assert p["background"] == {"skills": ["Go"], "education": None, "languages": ["en", "de"]}
    assert p["resume_status"] == "pending" and p["resume_error"] is None
    assert p["metadata"] == {"source": "ats", "n": 1} and p["status"] == "active"


async def test_email_unique_per_template(client, tenant):
    t1, t2 = await make_template(client, tenant, "A"), await make_template(client, tenant, "B")
    h = tenant.headers
    assert (
        await client.post(P, json={"name": "J", "email": "j@x.io", "evaluation_template_id": t1}, headers=h)
    ).status_code == 201
    r = await client.post(P, json={"name": "J", "email": "J@X.IO", "evaluation_template_id": t1}, headers=h)
    assert r.status_code == 409 and r.json()["code"] == "duplicate_participant"
    r = await client.post(P, json={"name": "J", "email": "j@x.io", "evaluation_template_id": t2}, headers=h)
    assert r.status_code == 201
    # Without a template the email is unique among template-less participants too.
    assert (await client.post(P, json={"name": "J", "email": "j@x.io"}, headers=h)).status_code == 201
    assert (await client.post(P, json={"name": "J", "email": "j@x.io"}, headers=h)).status_code == 409
    # Moving one onto a template where the email exists is a conflict as well.
    pid = r.json()["data"]["id"]
    r = await client.patch(f"{P}/{pid}", json={"evaluation_template_id": t1}, headers=h)
    assert r.status_code == 409


async def test_field_rules(client, tenant):
    r = await client.post(
        P,
        json={
            "name": "",
            "email": "not-an-email",
            "resume_url": "http://example.com/cv.pdf",
            "metadata": {"blob": "x" * (16 * 1024)},
            "profile": {"title": "x", "favourite": "y"},
            "status": "deleted",
        },
        headers=tenant.headers,
    )
    assert r.status_code == 400
    issues = {tuple(i["path"]): i["message"] for i in r.json()["issues"]}
    assert set(issues) == {
        ("name",),
        ("email",),
        ("resume_url",),
        ("metadata",),
        ("profile", "favourite"),
        ("status",),
    }
    assert "https" in issues[("resume_url",)]
    assert "16 KiB" in issues[("metadata",)]


async def test_patch_merges_nested_objects_key_by_key(client, tenant):
    """Issue 15: changing one key of `profile`, `background` or `metadata` keeps the others."""
    h = tenant.headers
    r = await client.post(
        P,
        json={
            "name": "Jane Smith",
            "email": "jane@example.com",
            "profile": {
                "title": "Engineer",
                "organization": "Initech",
                "experienceLevel": "senior",
                "location": "Oslo",
            },
            "background": {"skills": ["Go", "SQL"], "education": "BSc", "languages": ["en"]},
            "metadata": {"source": "ats", "ats": {"stage": "screen", "owner": "kim"}},
        },
        headers=h,
    )
    pid = r.json()["data"]["id"]

    async def patch(body):
        r = await client.patch(f"{P}/{pid}", json=body, headers=h)
        assert r.status_code == 200, r.text
        return r.json()["data"]

    p = await patch({"profile": {"title": "Staff"}})
    assert p["profile"] == {
        "title": "Staff",
        "organization": "Initech",
        "experienceLevel": "senior",
        "location": "Oslo",
    }
    p = await patch({"background": {"education": "MSc"}})
    assert p["background"] == {"skills": ["Go", "SQL"], "education": "MSc", "languages": ["en"]}
    p = await patch({"background": {"skills": ["Rust"]}})  # a list is replaced, not merged
    assert p["background"] == {"skills": ["Rust"], "education": "MSc", "languages": ["en"]}
    p = await patch({"metadata": {"ats": {"stage": "onsite"}, "score": 3}})
    assert p["metadata"] == {"source": "ats", "ats": {"stage": "onsite", "owner": "kim"}, "score": 3}
    # null clears that one key.
    p = await patch({"profile": {"location": None}, "metadata": {"source": None, "ats": {"owner": None}}})
    assert p["profile"]["location"] is None and p["profile"]["title"] == "Staff"
    assert p["metadata"] == {"ats": {"stage": "onsite"}, "score": 3}
    # The merged result must obey the create rules: metadata stays within 16 KiB in all.
    half = "x" * (9 * 1024)
    await patch({"metadata": {"a": half}})
    r = await client.patch(f"{P}/{pid}", json={"metadata": {"b": half}}, headers=h)
    assert r.status_code == 400 and r.json()["issues"][0]["path"] == ["metadata"]
    got = (await client.get(f"{P}/{pid}", headers=h)).json()["data"]
    assert got["profile"]["organization"] == "Initech" and got["background"]["skills"] == ["Rust"]
    assert set(got["metadata"]) == {"ats", "score", "a"}


async def test_unknown_template_is_404_naming_the_field(client, tenant):
    r = await client.post(
        P,
        json={
            "name": "J",
            "email": "j@x.io",
            "evaluation_template_id": "00000000-0000-4000-8000-000000000000",
        },
        headers=tenant.headers,
    )
    assert r.status_code == 404 and r.json()["param"] == "evaluation_template_id"


async def test_pipeline_id_names_the_evaluation_template(client, tenant, other):
    # The vendor's pipeline_id is Viva's evaluation template (its stages are the pipeline).
    tid, t2 = await make_template(client, tenant, "A"), await make_template(client, tenant, "B")
    elsewhere = await make_template(client, other, "Other's")
    h = tenant.headers
    r = await client.post(P, json={"name": "J", "email": "j@x.io", "pipeline_id": tid}, headers=h)
    assert r.status_code == 201, r.text
    pid = r.json()["data"]["id"]
    got = (await client.get(f"{P}/{pid}", headers=h)).json()["data"]
    assert got["evaluation_template_id"] == tid and got["pipeline_id"] == tid
    listed = (await client.get(P, params={"evaluation_template_id": tid}, headers=h)).json()["data"]
    assert [p["id"] for p in listed] == [pid]

    both = {"name": "K", "email": "k@x.io", "pipeline_id": tid, "evaluation_template_id": tid}
    assert (await client.post(P, json=both, headers=h)).status_code == 201
    r = await client.post(P, json={**both, "email": "l@x.io", "evaluation_template_id": t2}, headers=h)
    assert r.status_code == 400 and r.json()["issues"][0]["path"] == ["pipeline_id"]
    for unknown in ("00000000-0000-4000-8000-000000000000", elsewhere):
        r = await client.post(P, json={"name": "M", "email": "m@x.io", "pipeline_id": unknown}, headers=h)
        assert r.status_code == 404 and r.json()["param"] == "pipeline_id", r.text
    r = await client.post(P, json={"name": "M", "email": "m@x.io", "pipeline_id": "nope"}, headers=h)
    assert r.status_code == 400 and r.json()["issues"][0]["path"] == ["pipeline_id"]

    r = await client.patch(f"{P}/{pid}", json={"pipeline_id": t2}, headers=h)
    assert r.status_code == 200, r.text
    assert r.json()["data"]["evaluation_template_id"] == t2 == r.json()["data"]["pipeline_id"]
    r = await client.patch(f"{P}/{pid}", json={"pipeline_id": elsewhere}, headers=h)
    assert r.status_code == 404 and r.json()["param"] == "pipeline_id"
    r = await client.patch(f"{P}/{pid}", json={"pipeline_id": tid, "evaluation_template_id": t2}, headers=h)
    assert r.status_code == 400 and r.json()["issues"][0]["path"] == ["pipeline_id"]
    r = await client.patch(f"{P}/{pid}", json={"pipeline_id": None}, headers=h)
    assert r.status_code == 200 and r.json()["data"]["evaluation_template_id"] is None

    r = await client.post(
        f"{P}/bulk",
        json={
            "participants": [
                {"name": "N", "email": "n@x.io", "pipeline_id": tid},
                {"name": "O", "email": "o@x.io", "pipeline_id": elsewhere},
            ]
        },
        headers=h,
    )
    data = r.json()["data"]
    assert [p["pipeline_id"] for p in data["created"]] == [tid]
    assert [(s["index"], s["reason"]) for s in data["skipped"]] == [
        (1, "pipeline_id: Evaluation template not found")
    ]


async def test_bulk_accepts_account_slug_of_its_own_workspace_only(client, tenant, other):
    h = tenant.headers
    rows = [{"name": "A", "email": "a@x.io"}]
    r = await client.post(f"{P}/bulk", json={"accountSlug": tenant.slug, "participants": rows}, headers=h)
    assert r.status_code == 200, r.text
    assert [p["email"] for p in r.json()["data"]["created"]] == ["a@x.io"]
    # Another workspace's slug (or one that does not exist) is refused, not written anywhere.
    for slug in (other.slug, "no-such-workspace"):
        body = {"accountSlug": slug, "participants": [{"name": "B", "email": "b@x.io"}]}
        r = await client.post(f"{P}/bulk", json=body, headers=h)
        assert r.status_code == 403 and r.json()["code"] == "wrong_account", r.text
        assert slug in r.json()["error"]
    assert (await client.get(P, headers=h)).json()["meta"]["total"] == 1
    assert (await client.get(P, headers=other.headers)).json()["meta"]["total"] == 0


async def test_filters(client, tenant):
    tid = await make_template(client, tenant)
    h = tenant.headers
    rows = [
        {
            "name": "Ann Lee",
            "email": "ann@x.io",
            "tags": ["senior"],
            "external_id": "e1",
            "evaluation_template_id": tid,
        },
        {"name": "Bob Ray", "email": "bob@y.io", "tags": ["junior", "remote"], "status": "archived"},
        {"name": "Cat 100%", "email": "cat@x.io", "tags": ["remote"]},
    ]
    for row in rows:
        assert (await client.post(P, json=row, headers=h)).status_code == 201

    async def names(query):
        r = await client.get(f"{P}?{query}", headers=h)
        assert r.status_code == 200, r.text
        return sorted(p["name"] for p in r.json()["data"])

    assert await names(f"evaluation_template_id={tid}") == ["Ann Lee"]
    assert await names("status=archived") == ["Bob Ray"]
    assert await names("email=ANN@x.io") == ["Ann Lee"]
    assert await names("external_id=e1") == ["Ann Lee"]
    assert await names("tag=remote") == ["Bob Ray", "Cat 100%"]
    assert await names("tag=remo") == []
    assert await names("q=x.io") == ["Ann Lee", "Cat 100%"]
    assert await names("q=100%25") == ["Cat 100%"]  # % is literal, not a wildcard
    assert await names("q=%25") == ["Cat 100%"]


async def test_bulk_import_creates_valid_rows_and_reports_skips(client, tenant):
    tid = await make_template(client, tenant)
    h = tenant.headers
    await client.post(P, json={"name": "Old", "email": "old@x.io", "evaluation_template_id": tid}, headers=h)
    rows = [
        {"name": "A", "email": "a@x.io", "evaluation_template_id": tid},
        {"name": "B", "email": "bad-email", "evaluation_template_id": tid},
        {"name": "Old again", "email": "OLD@x.io", "evaluation_template_id": tid},
        {"name": "A twin", "email": "a@x.io", "evaluation_template_id": tid},
        {"name": "C", "email": "c@x.io", "evaluation_template_id": "00000000-0000-4000-8000-000000000000"},
        {"name": "D", "email": "d@x.io", "surname": "typo"},
        "not an object",
        {"name": "E", "email": "e@x.io"},
    ]
    r = await client.post(f"{P}/bulk", json={"participants": rows}, headers=h)
    assert r.status_code == 200, r.text
    data = r.json()["data"]
    assert [p["email"] for p in data["created"]] == ["a@x.io", "e@x.io"]
    skipped = {s["index"]: s for s in data["skipped"]}
    assert sorted(skipped) == [1, 2, 3, 4, 5, 6]
    assert skipped[1]["email"] == "bad-email" and skipped[1]["reason"].startswith("email:")
    assert "duplicate_participant" in skipped[2]["reason"]
    assert "duplicate_participant" in skipped[3]["reason"]
    assert "template not found" in skipped[4]["reason"]
    assert "surname" in skipped[5]["reason"]
    assert skipped[6]["email"] is None
    r = await client.get(f"{P}?pageSize=100", headers=h)
    assert r.json()["meta"]["total"] == 3


async def test_bulk_import_limits(client, tenant):
    rows = [{"name": f"P{i}", "email": f"p{i}@x.io"} for i in range(501)]
    r = await client.post(f"{P}/bulk", json={"participants": rows}, headers=tenant.headers)
    assert r.status_code == 400 and r.json()["issues"][0]["path"] == ["participants"]
    r = await client.post(f"{P}/bulk", json={"participants": rows[:500]}, headers=tenant.headers)
    assert r.status_code == 200 and len(r.json()["data"]["created"]) == 500


async def test_erasure_removes_the_person_and_scrubs_events(app, client, tenant):
    h = tenant.headers
    r = await client.post(
        P, json={"name": "Erin Erase", "email": "erin@x.io", "external_id": "ats-9"}, headers=h
    )
    pid = r.json()["data"]["id"]
    await client.patch(f"{P}/{pid}", json={"phone": "+44 1234 567"}, headers=h)
    r = await client.delete(f"{P}/{pid}", headers=h)
    assert r.status_code == 204
    assert (await client.get(f"{P}/{pid}", headers=h)).status_code == 404
    async with app.state.sessionmaker() as db:
        events = (await db.execute(select(Event).order_by(Event.occurred_at))).scalars().all()
    assert [e.type for e in events] == ["participant.created", "participant.updated", "participant.deleted"]
    for e in events:
        text = str(e.data)
        assert "Erin" not in text and "erin@x.io" not in text and "1234" not in text
        assert e.data["participant"]["id"] == pid and e.data["participant"]["external_id"] == "ats-9"
