"""The session page and its actions, the review rules, the pipeline editor and profile editing:
what a recruiter or reviewer sees after each click, and the API's messages where a rule says no."""

from __future__ import annotations

import html
import re
import uuid
from typing import Any

import httpx
from fastapi import FastAPI

from tests.dashboard.conftest import MemberFactory
from tests.dashboard.test_pages import build_pipeline, created_id
from tests.dashboard.test_profiles import profile_form
from tests.fixtures.factories import Tenant, profile_body
from tests.room.helpers import play, scheduled
from viva.models import InterviewSession
from viva.sessions import live


async def schedule(owner: Any, ids: dict[str, str]) -> str:
    r = await owner.post(
        owner.url("sessions", "new"),
        {"candidate_id": ids["participant"], "evaluation_template_id": ids["template"], "stage": "screen"},
    )
    return created_id(r)


async def test_code_runs_show_in_their_panel(app: FastAPI, member: MemberFactory) -> None:
    owner = await member("owner")
    session_id = await schedule(owner, await build_pipeline(owner))
    page = await owner.client.get(owner.url("sessions", session_id))
    assert "No code was run in this interview." in page.text
    async with app.state.sessionmaker() as db:
        session = await db.get(InterviewSession, uuid.UUID(session_id))
        assert session is not None
        result = {"index": 0, "name": "reverses a list", "status": "passed", "duration_ms": 12}
        await live.add_turn(
            db,
            session,
            "system",
            "event",
            event="code_submit",
            data={
                "code": "def solve(xs):\n    return xs[::-1]\n",
                "language": "python",
                "status": "failed",
                "passed": 1,
                "total": 2,
                "results": [
                    result,
                    {"index": 1, "name": "hidden 1", "status": "timeout", "duration_ms": 2000},
                ],
            },
        )
        await db.commit()
    page = await owner.client.get(owner.url("sessions", session_id))
    assert "Submission</strong> · python" in page.text and "1/2 tests passed" in page.text
    assert "reverses a list: passed (12 ms)" in page.text and "hidden 1: timeout" in page.text
    assert "return xs[::-1]" in page.text  # the code itself, behind a disclosure


async def test_reschedule_resend_and_cancel(member: MemberFactory) -> None:
    owner = await member("owner")
    session_id = await schedule(owner, await build_pipeline(owner))
    r = await owner.post(
        owner.url("sessions", session_id, "reschedule"),
        {"scheduled_at": "2000-01-01T10:00", "timezone": "UTC"},
    )
    page = await owner.client.get(r.headers["location"])
    assert "scheduled_at is in the past" in page.text
    for zone in ("Europe", "x" * 300):  # not zone names; ZoneInfo would open them as files
        r = await owner.post(
            owner.url("sessions", session_id, "reschedule"),
            {"scheduled_at": "2099-03-04T15:30", "timezone": zone},
        )
        page = await owner.client.get(r.headers["location"])
        assert "Unknown IANA time zone" in page.text
    r = await owner.post(
        owner.url("sessions", session_id, "reschedule"),
        {"scheduled_at": "2099-03-04T15:30", "timezone": "America/New_York"},
    )
    page = await owner.client.get(r.headers["location"])
    assert "Rescheduled" in page.text and "4 Mar 2099, 20:30 UTC" in page.text
    r = await owner.post(owner.url("sessions", session_id, "resend"))
    page = await owner.client.get(r.headers["location"])
    assert "Invite sent again" in page.text
    assert page.text.count("Your interview with Acme") >= 2  # the email history
    await owner.post(owner.url("sessions", session_id, "cancel"))
    r = await owner.post(owner.url("sessions", session_id, "cancel"))
    page = await owner.client.get(r.headers["location"])
    assert "Only a scheduled session can be cancelled; this one is cancelled" in page.text
    assert "/join/" not in page.text  # no link for a cancelled interview


async def test_rejecting_needs_a_reason_and_only_pending_reviews(member: MemberFactory) -> None:
    owner = await member("owner")
    session_id = await schedule(owner, await build_pipeline(owner))
    reviewer = await member("reviewer")
    r = await reviewer.post(reviewer.url("sessions", session_id, "review"), {"decision": "reject"})
    page = await reviewer.client.get(r.headers["location"])
    assert "Give a reason when rejecting" in page.text
    r = await reviewer.post(
        reviewer.url("sessions", session_id, "review"), {"decision": "approve", "reason": "fine"}
    )
    page = await reviewer.client.get(r.headers["location"])
    assert "This session is not awaiting review (review_status: not_required)" in page.text


async def test_reorder_stages(member: MemberFactory) -> None:
    owner = await member("owner")
    ids = await build_pipeline(owner)
    page = await owner.client.get(owner.url("templates", ids["template"]))
    moves = re.findall(r"/stages/([0-9a-f-]{36})/move", page.text)
    last = moves[-1]  # the final stage's "up"
    await owner.post(owner.url("templates", ids["template"], "stages", last, "move"), {"direction": "up"})
    page = await owner.client.get(owner.url("templates", ids["template"]))
    assert page.text.index("2. Final") < page.text.index("3. Technical")


def ticked(page: str, name: str) -> bool:
    tag = re.search(rf'<input type="checkbox"[^>]*name="{re.escape(name)}"[^>]*>', page)
    assert tag, name
    return " checked" in tag.group(0)


async def test_edit_a_profile_and_untick_an_output_part(member: MemberFactory) -> None:
    owner = await member("owner")
    profile = created_id(await owner.post(owner.url("agent-profiles", "new"), profile_form()))
    form = await owner.client.get(owner.url("agent-profiles", profile, "edit"))
    assert 'value="Problem solving"' in form.text and ticked(form.text, "output.includeTranscript")
    items = profile_form([("Depth", "60"), ("Breadth", "40")], **{"interaction.tone": "friendly"})
    items += [("output.includeTranscript", "false")]
    r = await owner.post(owner.url("agent-profiles", profile, "edit"), items)
    assert r.status_code == 303, r.text
    page = await owner.client.get(owner.url("agent-profiles", profile))
    assert "Depth" in page.text and "Problem solving" not in page.text and "friendly" in page.text
    form = await owner.client.get(owner.url("agent-profiles", profile, "edit"))
    assert not ticked(form.text, "output.includeTranscript")
    assert ticked(form.text, "output.includeRecommendation")


async def test_edit_a_profile_and_clear_a_context_field(member: MemberFactory) -> None:
    """A text field emptied on the form is cleared, not kept (PATCH merges `context`)."""
    owner = await member("owner")
    filled = {"context.organizationContext": "Acme builds rockets", "additionalInstructions": "Be brief"}
    profile = created_id(await owner.post(owner.url("agent-profiles", "new"), profile_form(**filled)))
    items = profile_form(
        **{
            "context.organizationContext": "",
            "context.domainContext": "Payments",
            "additionalInstructions": "",
        }
    )
    r = await owner.post(owner.url("agent-profiles", profile, "edit"), items)
    assert r.status_code == 303, r.text
    form = await owner.client.get(owner.url("agent-profiles", profile, "edit"))
    assert "Payments" in form.text
    assert "Acme builds rockets" not in form.text and "Be brief" not in form.text


async def test_fork_from_the_public_library(
    client: httpx.AsyncClient, member: MemberFactory, other: Tenant
) -> None:
    r = await client.post(
        "/api/v1/agent-profiles",
        json=profile_body(name="Globex public screen", isPublic=True),
        headers=other.headers,
    )
    assert r.status_code == 201
    owner = await member("owner")
    page = await owner.client.get(owner.url("agent-profiles") + "?library=1")
    assert "Globex public screen" in page.text
    r = await owner.post(owner.url("agent-profiles", "fork"), {"sourceId": r.json()["data"]["id"]})
    assert r.status_code == 303 and r.headers["location"].endswith("/edit")
    page = await owner.client.get(owner.url("agent-profiles"))
    assert "Globex public screen" in page.text


async def test_the_dashboard_says_what_the_api_says(
    client: httpx.AsyncClient, member: MemberFactory, tenant: Tenant
) -> None:
    """Same input, same message: the form reuses the API's schema and error formatter."""
    bad = {"name": "Jo", "email": "jo@", "phone": "call me", "resume_url": "http://example.com/cv.pdf"}
    api = await client.post("/api/v1/participants", json=bad, headers=tenant.headers)
    assert api.status_code == 400
    owner = await member("owner")
    r = await owner.post(owner.url("participants", "new"), bad)
    assert r.status_code == 400
    for issue in api.json()["issues"]:
        field = "-".join(str(p) for p in issue["path"])
        found = re.search(rf'id="f-{field}-error">([^<]+)<', r.text)
        assert found, (field, issue)
        assert html.unescape(found.group(1)) == issue["message"]


async def test_a_scored_session_its_citations_and_rescore(
    client: httpx.AsyncClient, member: MemberFactory, tenant: Tenant, worker: Any
) -> None:
    s = await scheduled(
        client, tenant, stage={"type": "technical", "stage_name": "Technical Screen", "duration_minutes": 10}
    )
    r = await client.post(f"{s['path']}/start", json={"consent": True})
    assert r.status_code == 200, r.text
    await play(client, s["path"])
    await worker.drain()
    owner = await member("owner")
    page = await owner.client.get(owner.url("sessions", s["id"]))
    assert 'id="overall-score"' in page.text and "Recommendation:" in page.text
    cited = set(re.findall(r'href="#turn-(\d+)"', page.text))
    assert cited, "the scorecard cites the transcript"
    assert all(f'id="turn-{n}"' in page.text for n in cited)  # every citation lands on a turn
    assert "Earlier scorecards" not in page.text
    r = await owner.post(owner.url("sessions", s["id"], "rescore"))
    page = await owner.client.get(r.headers["location"])
    assert "Scored again" in page.text and "Earlier scorecards" in page.text and "v1 (" in page.text


async def test_approve_from_the_queue(
    client: httpx.AsyncClient, member: MemberFactory, tenant: Tenant, worker: Any
) -> None:
    s = await scheduled(
        client,
        tenant,
        stage={"type": "technical", "duration_minutes": 10, "automation_rule": "require_reviewer_approval"},
    )
    await client.post(f"{s['path']}/start", json={"consent": True})
    await play(client, s["path"])
    await worker.drain()
    reviewer = await member("reviewer")
    queue = await reviewer.client.get(reviewer.url("reviews"))
    assert s["id"] in queue.text
    r = await reviewer.post(
        reviewer.url("sessions", s["id"], "review"), {"decision": "approve", "_back": "queue"}
    )
    assert r.headers["location"].endswith("/reviews")
    queue = await reviewer.client.get(r.headers["location"])
    assert (
        "Approved; that was the last stage: recommended" in queue.text and "Nothing to review" in queue.text
    )


async def test_a_voice_interview_shows_its_recording_and_reply_times(
    app: FastAPI, client: httpx.AsyncClient, tenant: Tenant, member: MemberFactory, worker: Any, frozen: Any
) -> None:
    from tests.fixtures.audio import espeak_wav, transcode
    from tests.recordings.test_recordings import end_and_assemble, live_session, record

    owner = await member("owner")
    s = await live_session(client, tenant)
    page = await owner.client.get(owner.url("sessions", s["id"]))
    assert "Recording" not in page.text  # a text interview so far
    await record(client, s["path"], transcode(espeak_wav("One two three four five."), "webm"), "audio/webm")
    page = await owner.client.get(owner.url("sessions", s["id"]))
    assert "Being recorded." in page.text
    async with app.state.sessionmaker() as db:
        session = await db.get(InterviewSession, uuid.UUID(s["id"]))
        assert session is not None
        answer = await live.add_answer(
            db,
            session,
            "Spoken words.",
            None,
            {"input": "voice", "stt_engine": "faster-whisper", "stt_ms": 640, "silence_ms": 2000},
        )
        live.record_voice_reply(session, answer.seq, create=False, server_ms=900, tts_ms=210, heard_ms=3100)
        await db.commit()
    await end_and_assemble(client, s, worker, frozen)

    page = await owner.client.get(owner.url("sessions", s["id"]))
    audio = re.search(r'<audio class="recording" controls preload="metadata" src="([^"]+)"', page.text)
    assert audio, page.text
    src = html.unescape(audio.group(1))
    assert src.startswith(f"/media/recordings/{s['candidate_id']}/{s['id']}.ogg?expires=")
    r = await owner.client.get(src)
    assert r.status_code == 200 and r.content[:4] == b"OggS"
    text = re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", page.text)))
    assert "End of the candidate's speech to the reply's first sound: p50 3.1 s, p95 3.1 s, max 3.1 s" in text
    assert "includes the 2.0 s of silence" in text
    assert "Of which speech-to-text p50 0.6 s, first sentence's synthesis p50 0.2 s" in text
    assert "spoken, transcribed by faster-whisper" in text
