"""The no-code flow over HTTP (every backend): forms post what a browser posts, pages show the
result, and the API's rules and messages come back next to the fields."""

from __future__ import annotations

import html
import re
from typing import Any

from tests.dashboard.conftest import Member, MemberFactory
from tests.dashboard.test_profiles import profile_form


def created_id(r: Any) -> str:
    assert r.status_code == 303, r.text
    found = re.search(r"/([0-9a-f-]{36})(?:/edit)?(?:\?|$)", r.headers["location"])
    assert found, r.headers["location"]
    return found.group(1)


async def build_pipeline(owner: Member) -> dict[str, str]:
    profile = created_id(await owner.post(owner.url("agent-profiles", "new"), profile_form()))
    template = created_id(
        await owner.post(
            owner.url("templates", "new"),
            {"template_name": "Backend Engineer", "use_case": "hiring", "skills": "Go, SQL"},
        )
    )
    for order, (label, name, rule) in enumerate(
        [
            ("screen", "Screen", "require_reviewer_approval"),
            ("technical", "Technical", "auto_advance"),
            ("final", "Final", "none"),
        ]
    ):
        r = await owner.post(
            owner.url("templates", template, "stages", "new"),
            {
                "type": label,
                "stage_name": name,
                "agent_profile_id": profile,
                "automation_rule": rule,
                "stage_order": str(order),
                "duration_minutes": "10",
                "pass_threshold": "50",
            },
        )
        assert r.status_code == 303, r.text
    person = created_id(
        await owner.post(
            owner.url("participants", "new"),
            {
                "name": "Jane Smith",
                "email": "jane@example.com",
                "evaluation_template_id": template,
                "tags": "a, b",
            },
        )
    )
    return {"profile": profile, "template": template, "participant": person}


async def test_owner_builds_a_pipeline_and_schedules(member: MemberFactory) -> None:
    owner = await member("owner")
    ids = await build_pipeline(owner)
    page = await owner.client.get(owner.url("templates", ids["template"]))
    assert page.status_code == 200
    assert page.text.index("1. Screen") < page.text.index("2. Technical") < page.text.index("3. Final")
    assert "require reviewer approval" in page.text

    r = await owner.post(
        owner.url("sessions", "new"),
        {
            "candidate_id": ids["participant"],
            "evaluation_template_id": ids["template"],
            "stage": "screen",
            "timezone": "Europe/Berlin",
            "scheduled_at": "2099-01-02T10:00",
        },
    )
    session = created_id(r)
    page = await owner.client.get(r.headers["location"])
    assert page.status_code == 200, page.text
    assert "Session scheduled" in page.text and "/join/" in page.text
    # No SMTP in tests: the page says the invite waits in the outbox instead of "queued".
    invite = page.text.split("<dt>Invite</dt>")[1].split("</dd>")[0]
    assert "not configured</span>" in invite and "no SMTP server is configured" in invite
    assert "2 Jan 2099, 09:00 UTC" in page.text  # 10:00 in Berlin

    # The same rules as the API: a second open session for the stage is a 409 shown on the form.
    r = await owner.post(
        owner.url("sessions", "new"),
        {"candidate_id": ids["participant"], "evaluation_template_id": ids["template"], "stage": "screen"},
    )
    assert r.status_code == 409
    assert "already has an open session for this stage" in r.text
    r = await owner.post(
        owner.url("sessions", "new"),
        {"candidate_id": ids["participant"], "evaluation_template_id": ids["template"], "stage": "nope"},
    )
    assert r.status_code == 400 and "No active stage matches" in r.text and 'id="f-stage-error"' in r.text
    r = await owner.post(
        owner.url("sessions", "new"),
        {
            "candidate_id": ids["participant"],
            "evaluation_template_id": ids["template"],
            "stage": "screen",
            "timezone": "Europe",  # a directory of the zone database, not a zone
            "scheduled_at": "2099-01-02T10:00",
            "force": "true",
        },
    )
    assert r.status_code == 400 and "Unknown IANA time zone" in r.text

    # Every page of the flow renders.
    for path in [
        owner.url(),
        owner.url("agent-profiles"),
        owner.url("agent-profiles", ids["profile"]),
        owner.url("agent-profiles", ids["profile"], "edit"),
        owner.url("agent-profiles") + "?library=1",
        owner.url("templates"),
        owner.url("templates", ids["template"], "edit"),
        owner.url("participants"),
        owner.url("participants") + "?q=jane",
        owner.url("participants", ids["participant"]),
        owner.url("participants", ids["participant"], "edit"),
        owner.url("participants", ids["participant"], "erase"),
        owner.url("participants", "import"),
        owner.url("sessions"),
        owner.url("sessions") + "?status=scheduled",
        owner.url("reviews"),
        owner.url("sessions", session),
    ]:
        r = await owner.client.get(path)
        assert r.status_code == 200, (path, r.text[:500])

    r = await owner.post(owner.url("sessions", session, "cancel"))
    page = await owner.client.get(r.headers["location"])
    assert "Session cancelled" in page.text


async def test_participant_errors_show_next_to_fields(member: MemberFactory) -> None:
    owner = await member("owner")
    r = await owner.post(owner.url("participants", "new"), {"name": "", "email": "not-an-email"})
    assert r.status_code == 400
    assert 'id="f-name-error">Required<' in r.text
    assert 'id="f-email-error">' in r.text


async def test_csv_import_previews_then_creates(member: MemberFactory) -> None:
    owner = await member("owner")
    csv = "name,email,tags\nAda,ada@example.com,x;y\nBob,not-an-email,\nCy,cy@example.com,\n"
    r = await owner.client.post(
        owner.url("participants", "bulk"),
        data={"csrf_token": owner.csrf, "_step": "preview"},
        files={"file": ("people.csv", csv.encode(), "text/csv")},
    )
    assert r.status_code == 200, r.text
    assert "2 of 3 rows can be imported" in r.text and "email:" in r.text
    rows = re.search(r'name="rows" value="([^"]+)"', r.text)
    assert rows
    r = await owner.post(
        owner.url("participants", "bulk"), {"_step": "create", "rows": html.unescape(rows.group(1))}
    )
    assert r.status_code == 200
    assert "<strong>2</strong> created, <strong>1</strong> skipped" in r.text
    page = await owner.client.get(owner.url("participants"))
    assert "ada@example.com" in page.text and "cy@example.com" in page.text


async def test_editing_a_participant_clears_a_field_left_blank(member: MemberFactory) -> None:
    """PATCH merges `profile` key by key, so the form sends a blank field as null to clear it."""
    owner = await member("owner")
    pid = created_id(
        await owner.post(
            owner.url("participants", "new"),
            {
                "name": "Jane",
                "email": "jane@example.com",
                "profile.title": "Engineer",
                "profile.location": "Oslo",
                "background.education": "BSc",
            },
        )
    )
    form = {
        "name": "Jane",
        "email": "jane@example.com",
        "evaluation_template_id": "",
        "external_id": "",
        "phone": "",
        "tags": "",
        "profile.title": "Staff",
        "profile.organization": "",
        "profile.experienceLevel": "",
        "profile.location": "",
        "background.skills": "",
        "background.languages": "",
        "background.education": "",
        "resume_url": "",
    }
    r = await owner.post(owner.url("participants", pid, "edit"), form)
    assert r.status_code == 303, r.text
    page = await owner.client.get(owner.url("participants", pid, "edit"))
    assert 'value="Staff"' in page.text
    assert "Oslo" not in page.text and "BSc" not in page.text
