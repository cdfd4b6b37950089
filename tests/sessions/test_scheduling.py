"""POST /sessions and the session lifecycle endpoints (SPEC §3.5)."""

from __future__ import annotations

import uuid
from datetime import timedelta

from sqlalchemy import func, select

from tests.sessions.helpers import pipeline, session_body
from viva.kit import clock
from viva.models import EmailMessage, Event, InterviewSession, Job, Workspace
from viva.sessions import service as sessions
from viva.templates import service as templates

S = "/api/v1/sessions"


async def count(app, model) -> int:
    async with app.state.sessionmaker() as db:
        return int(await db.scalar(select(func.count()).select_from(model)))


async def test_schedule_returns_the_session_with_a_join_url(app, client, tenant):
    p = await pipeline(client, tenant)
    r = await client.post(S, json=session_body(p, notes="strong referral"), headers=tenant.headers)
    assert r.status_code == 200, r.text
    s = r.json()["data"]
    assert s["status"] == "scheduled" and s["idempotent"] is False
    assert s["invite_status"] == "not_configured"  # no SMTP here: the invite waits in the outbox
    assert s["join_url"].startswith("http://testserver/join/") and len(s["join_url"]) > 40
    assert (s["candidate_id"], s["evaluation_template_id"], s["evaluation_stage_id"]) == (
        p["participant"],
        p["template"],
        p["stages"][0],
    )
    assert (s["stage"], s["stage_name"], s["attempt"], s["external_id"]) == (
        "screen",
        "Technical Screen",
        1,
        "ats-1",
    )
    assert s["timezone"] == "UTC" and s["language"] == "en" and s["notes"] == "strong referral"
    assert s["score"] is None and s["review_status"] == "not_required"
    assert s["transcript_url"].endswith(f"/api/v1/sessions/{s['id']}/transcript")
    r = await client.get(f"{S}/{s['id']}", headers=tenant.headers)
    assert r.json()["data"]["join_url"] == s["join_url"]
    # One transaction: the event, the invite and its job were written with the session.
    async with app.state.sessionmaker() as db:
        assert (
            await db.scalar(select(Event.type).where(Event.session_id == uuid.UUID(s["id"])))
            == "session.created"
        )
        assert await db.scalar(select(EmailMessage.kind)) == "invite"
        assert await db.scalar(select(func.count()).select_from(Job).where(Job.kind == "email.send")) == 1
    # The join token is stored hashed and encrypted, never in clear.
    token = s["join_url"].rsplit("/", 1)[1]
    async with app.state.sessionmaker() as db:
        row = await db.scalar(select(InterviewSession))
    assert token not in row.join_token_hash and token not in row.join_token_encrypted


async def test_stage_label_that_matches_nothing_lists_the_valid_ones(client, tenant):
    p = await pipeline(
        client,
        tenant,
        stages=[
            {"type": "technical", "stage_name": "Technical Screen"},
            {"type": "final", "stage_name": "Final Round"},
        ],
    )
    r = await client.post(S, json=session_body(p, stage="onsite"), headers=tenant.headers)
    assert r.status_code == 400
    [issue] = r.json()["issues"]
    assert issue["path"] == ["stage"]
    for label in ("technical", "Technical Screen", "final", "Final Round"):
        assert label in issue["message"]
    r = await client.post(
        S, json=session_body(p, stage="ignored", interview_id=p["stages"][1]), headers=tenant.headers
    )
    assert r.json()["data"]["stage_name"] == "Final Round"


async def test_checks_in_documented_order(client, tenant):
    h = tenant.headers
    p = await pipeline(
        client, tenant, stages=[{"type": "screen"}, {"type": "review", "stage_type": "manual_review"}]
    )
    missing = "00000000-0000-4000-8000-000000000000"
    r = await client.post(S, json=session_body(p, candidate_id=missing), headers=h)
    assert r.status_code == 404 and r.json()["param"] == "candidate_id"
    r = await client.post(S, json=session_body(p, evaluation_template_id=missing), headers=h)
    assert r.status_code == 404 and r.json()["param"] == "evaluation_template_id"
    other = (
        await client.post("/api/v1/evaluation-templates", json={"template_name": "Other"}, headers=h)
    ).json()["data"]["id"]
    r = await client.post(S, json=session_body(p, evaluation_template_id=other), headers=h)
    assert r.status_code == 400 and r.json()["issues"][0]["path"] == ["candidate_id"]
    r = await client.post(S, json=session_body(p, stage="review"), headers=h)
    assert r.status_code == 422 and r.json()["code"] == "stage_not_schedulable"
    await client.patch(
        f"/api/v1/evaluation-stages/{p['stages'][0]}", json={"agent_profile_id": None}, headers=h
    )
    r = await client.post(S, json=session_body(p), headers=h)
    assert r.status_code == 422 and "no agent profile" in r.json()["error"]
    await client.patch(f"/api/v1/evaluation-templates/{p['template']}", json={"status": "draft"}, headers=h)
    r = await client.post(S, json=session_body(p), headers=h)
    assert r.status_code == 422 and r.json()["code"] == "template_not_active"


async def test_validation(client, tenant):
    p = await pipeline(client, tenant)
    past = (clock.now() - timedelta(days=1)).isoformat()
    r = await client.post(
        S,
        json=session_body(
            p,
            timezone="Mars/Olympus",
            scheduled_at="2026-01-01T10:00:00",
            notes="x" * 1001,
            idempotency_key="tab\there",
            language="!",
        ),
        headers=tenant.headers,
    )
    assert r.status_code == 400
    paths = {tuple(i["path"]) for i in r.json()["issues"]}
    assert paths == {("timezone",), ("scheduled_at",), ("notes",), ("idempotency_key",), ("language",)}
    r = await client.post(S, json=session_body(p, scheduled_at=past), headers=tenant.headers)
    assert r.status_code == 400 and "past" in r.json()["issues"][0]["message"]
    r = await client.post(S, json=session_body(p, accountSlug="globex"), headers=tenant.headers)
    assert r.status_code == 403


async def test_credits_and_plans(app, client, tenant):
    p = await pipeline(client, tenant)
    async with app.state.sessionmaker() as db:
        ws = await db.get(Workspace, tenant.workspace_id)
        ws.plan, ws.credits = "credits", 1
        await db.commit()
    r = await client.post(S, json=session_body(p), headers=tenant.headers)
    assert r.status_code == 200
    sid = r.json()["data"]["id"]
    r = await client.post(S, json=session_body(p, force=True), headers=tenant.headers)
    assert r.status_code == 402 and r.json()["code"] == "no_credits"
    assert (await client.post(f"{S}/{sid}/cancel", headers=tenant.headers)).status_code == 200
    async with app.state.sessionmaker() as db:
        assert (await db.get(Workspace, tenant.workspace_id)).credits == 1  # refunded
        ws = await db.get(Workspace, tenant.workspace_id)
        ws.plan = "none"
        await db.commit()
    r = await client.post(S, json=session_body(p), headers=tenant.headers)
    assert r.status_code == 402 and r.json()["code"] == "no_active_plan"


async def test_duplicates_need_force(client, tenant):
    p = await pipeline(client, tenant)
    first = (await client.post(S, json=session_body(p), headers=tenant.headers)).json()["data"]
    r = await client.post(S, json=session_body(p), headers=tenant.headers)
    assert (
        r.status_code == 409
        and r.json()["code"] == "duplicate_session"
        and r.json()["session_id"] == first["id"]
    )
    r = await client.post(S, json=session_body(p, force=True), headers=tenant.headers)
    assert r.status_code == 200 and r.json()["data"]["attempt"] == 2


async def test_retakes_follow_allow_retake_and_max_attempts(app, client, tenant):
    p = await pipeline(
        client,
        tenant,
        stages=[{"type": "screen", "allow_retake": True, "max_attempts": 2}, {"type": "final"}],
    )
    h = tenant.headers

    async def fail_latest():
        async with app.state.sessionmaker() as db:
            s = await db.scalar(select(InterviewSession).order_by(InterviewSession.created_at.desc()))
            s.status, s.end_reason = "failed", "expired"
            await db.commit()

    assert (await client.post(S, json=session_body(p), headers=h)).status_code == 200
    await fail_latest()
    r = await client.post(S, json=session_body(p), headers=h)
    assert r.status_code == 200 and r.json()["data"]["attempt"] == 2
    await fail_latest()
    r = await client.post(S, json=session_body(p), headers=h)
    assert (
        r.status_code == 409 and r.json()["code"] == "retake_not_allowed" and "2 allowed" in r.json()["error"]
    )
    assert (await client.post(S, json=session_body(p, stage="final"), headers=h)).status_code == 200
    await fail_latest()
    r = await client.post(S, json=session_body(p, stage="final"), headers=h)
    assert r.status_code == 409 and r.json()["error"] == "This stage does not allow retakes"


async def _end_latest(app, status: str, reason: str) -> None:
    async with app.state.sessionmaker() as db:
        s = await db.scalar(select(InterviewSession).order_by(InterviewSession.created_at.desc()))
        s.status, s.end_reason = status, reason
        await db.commit()


async def test_a_technical_failure_is_not_an_attempt(app, client, tenant):
    # No retakes on this stage: only sessions that count as attempts are refused.
    p = await pipeline(client, tenant)
    h = tenant.headers
    assert (await client.post(S, json=session_body(p), headers=h)).status_code == 200
    for reason in ("provider_unavailable", "error", "provider_unavailable"):
        await _end_latest(app, "failed", reason)
        r = await client.post(S, json=session_body(p), headers=h)
        assert r.status_code == 200, (reason, r.text)
        assert r.json()["data"]["attempt"] == 1  # still the first attempt
    await _end_latest(app, "completed", "completed")
    r = await client.post(S, json=session_body(p), headers=h)
    assert r.status_code == 409 and r.json()["code"] == "retake_not_allowed"


async def test_the_first_walk_out_of_a_stage_is_free_and_later_ones_count(app, client, tenant):
    p = await pipeline(client, tenant, stages=[{"type": "screen"}, {"type": "final"}])
    h = tenant.headers
    assert (await client.post(S, json=session_body(p), headers=h)).status_code == 200
    await _end_latest(app, "failed", "abandoned")
    r = await client.post(S, json=session_body(p), headers=h)
    assert r.status_code == 200 and r.json()["data"]["attempt"] == 1
    await _end_latest(app, "failed", "abandoned")
    r = await client.post(S, json=session_body(p), headers=h)
    assert r.status_code == 409 and r.json()["code"] == "retake_not_allowed"
    # One free walk-out per stage: the next stage has its own.
    assert (await client.post(S, json=session_body(p, stage="final"), headers=h)).status_code == 200
    await _end_latest(app, "failed", "abandoned")
    r = await client.post(S, json=session_body(p, stage="final"), headers=h)
    assert r.status_code == 200 and r.json()["data"]["attempt"] == 1


async def test_walk_outs_after_the_first_use_up_retakes(app, client, tenant):
    p = await pipeline(client, tenant, stages=[{"type": "screen", "allow_retake": True, "max_attempts": 2}])
    h = tenant.headers
    attempts = []
    for _ in range(3):
        r = await client.post(S, json=session_body(p), headers=h)
        assert r.status_code == 200, r.text
        attempts.append(r.json()["data"]["attempt"])
        await _end_latest(app, "failed", "abandoned")
    assert attempts == [1, 1, 2]
    r = await client.post(S, json=session_body(p), headers=h)
    assert r.status_code == 409 and "2 allowed" in r.json()["error"]


async def test_idempotency(app, client, tenant):
    p = await pipeline(client, tenant)
    body = session_body(p, idempotency_key="greenhouse-8821-screen")
    first = await client.post(S, json=body, headers=tenant.headers)
    again = await client.post(S, json=body, headers=tenant.headers)
    assert again.status_code == 200 and again.headers["idempotent-replayed"] == "true"
    assert (
        again.json()["data"]["id"] == first.json()["data"]["id"]
        and again.json()["data"]["idempotent"] is True
    )
    assert "idempotent-replayed" not in first.headers
    r = await client.post(S, json={**body, "notes": "different"}, headers=tenant.headers)
    assert r.status_code == 422 and r.json()["code"] == "idempotency_key_reused"
    # The header works like the body field.
    header_only = session_body(p, force=True)
    a = await client.post(S, json=header_only, headers={**tenant.headers, "Idempotency-Key": "hdr-1"})
    b = await client.post(S, json=header_only, headers={**tenant.headers, "Idempotency-Key": "hdr-1"})
    assert a.json()["data"]["id"] == b.json()["data"]["id"] and b.json()["data"]["idempotent"] is True
    assert await count(app, InterviewSession) == 2
    # Failed outcomes are not stored: fix the problem, retry with the same key, it works.
    other = await pipeline(client, tenant, participant={"email": "other@example.com"})
    async with app.state.sessionmaker() as db:
        ws = await db.get(Workspace, tenant.workspace_id)
        ws.plan, ws.credits = "credits", 0
        await db.commit()
    retry_body = session_body(other, idempotency_key="after-402")
    assert (await client.post(S, json=retry_body, headers=tenant.headers)).status_code == 402
    async with app.state.sessionmaker() as db:
        (await db.get(Workspace, tenant.workspace_id)).plan = "unlimited"
        await db.commit()
    r = await client.post(S, json=retry_body, headers=tenant.headers)
    assert r.status_code == 200 and r.json()["data"]["idempotent"] is False


async def test_idempotency_keys_expire_after_24_hours(client, tenant):
    p = await pipeline(client, tenant)
    body = session_body(p, idempotency_key="k1", force=True)
    first = (await client.post(S, json=body, headers=tenant.headers)).json()["data"]
    clock.freeze(clock.now() + timedelta(hours=25))
    try:
        r = await client.post(S, json=body, headers=tenant.headers)
    finally:
        clock.freeze(None)
    assert (
        r.status_code == 200
        and r.json()["data"]["id"] != first["id"]
        and r.json()["data"]["idempotent"] is False
    )


async def test_idempotency_is_scoped_per_workspace(client, tenant, other):
    p = await pipeline(client, tenant)
    q = await pipeline(client, other)
    a = await client.post(S, json=session_body(p, idempotency_key="same"), headers=tenant.headers)
    b = await client.post(S, json=session_body(q, idempotency_key="same"), headers=other.headers)
    assert b.status_code == 200 and b.json()["data"]["idempotent"] is False
    assert a.json()["data"]["id"] != b.json()["data"]["id"]


async def test_timezone_must_be_an_iana_name(client, tenant):
    # Names that ZoneInfo would try to open as files: a directory, a name too long for the
    # file system, paths. Each is a 400 on `timezone`, and nothing is scheduled.
    p = await pipeline(client, tenant)
    for zone in ("Europe", "x" * 300, "../../../../etc/passwd", "/etc/localtime", "Europe/", ""):
        r = await client.post(S, json=session_body(p, timezone=zone), headers=tenant.headers)
        assert r.status_code == 400, (zone[:20], r.text)
        [issue] = r.json()["issues"]
        assert issue["path"] == ["timezone"] and "IANA time zone" in issue["message"], issue
        assert len(issue["message"]) < 200  # a 300-character name is not echoed whole
    r = await client.get(S, headers=tenant.headers)
    assert r.json()["meta"]["total"] == 0
    r = await client.post(
        S, json=session_body(p, timezone="America/Argentina/Buenos_Aires"), headers=tenant.headers
    )
    assert r.status_code == 200 and r.json()["data"]["timezone"] == "America/Argentina/Buenos_Aires"


async def test_without_smtp_the_invite_status_is_not_configured_not_queued(app, client, tenant, worker):
    # "queued" would promise an email that never leaves: nothing sends without SMTP.
    p = await pipeline(client, tenant)
    h = tenant.headers
    r = await client.post(S, json=session_body(p, scheduled_at="2099-03-01T09:00:00Z"), headers=h)
    sid = r.json()["data"]["id"]
    assert r.json()["data"]["invite_status"] == "not_configured"
    await worker.drain()
    r = await client.get(f"{S}/{sid}", headers=h)
    assert r.json()["data"]["invite_status"] == "not_configured"
    [mail] = (await client.get("/api/v1/outbox", headers=h)).json()["data"]
    assert (mail["kind"], mail["status"]) == ("invite", "outbox")
    r = await client.post(f"{S}/{sid}/resend-invite", headers=h)
    assert r.json()["data"]["invite_status"] == "not_configured"
    await client.patch(f"{S}/{sid}", json={"scheduled_at": "2099-03-02T09:00:00Z"}, headers=h)
    await worker.drain()
    r = await client.get(f"{S}/{sid}", headers=h)
    assert r.json()["data"]["invite_status"] == "not_configured"
    listed = (await client.get(S, headers=h)).json()["data"]
    assert [x["invite_status"] for x in listed] == ["not_configured"]


async def test_a_reviewer_only_session_has_invite_status_none(app, client, tenant, worker):
    # The pipeline opens a final_review stage as a session with no interview and no email.
    p = await pipeline(
        client,
        tenant,
        stages=[
            {"type": "technical", "stage_name": "Technical Screen"},
            {"type": "final", "stage_name": "Final review", "stage_type": "final_review", "stage_order": 1},
        ],
    )
    async with app.state.sessionmaker() as db:
        stage = await templates.get_stage(db, tenant.workspace_id, uuid.UUID(p["stages"][1]))
        deps = sessions.Deps(settings=app.state.settings, secrets=app.state.secrets)
        await sessions.open_manual_review(db, tenant.workspace_id, uuid.UUID(p["participant"]), stage, deps)
        await db.commit()
    await worker.drain()
    [review] = (await client.get(S, headers=tenant.headers)).json()["data"]
    assert review["stage_name"] == "Final review" and review["join_url"] is None
    assert review["invite_status"] == "none"
    assert (await client.get("/api/v1/outbox", headers=tenant.headers)).json()["data"] == []


async def test_reschedule_cancel_resend(app, client, tenant):
    p = await pipeline(client, tenant)
    h = tenant.headers
    s = (
        await client.post(
            S, json=session_body(p, scheduled_at="2099-03-01T09:00:00Z", timezone="Europe/Berlin"), headers=h
        )
    ).json()["data"]
    assert s["scheduled_at"] == "2099-03-01T09:00:00.000Z"
    assert s["expires_at"] == "2099-03-08T09:00:00.000Z"
    r = await client.patch(f"{S}/{s['id']}", json={"scheduled_at": "2099-03-02T10:30:00+02:00"}, headers=h)
    assert r.status_code == 200 and r.json() == {"success": True}
    r = await client.get(f"{S}/{s['id']}", headers=h)
    assert r.json()["data"]["scheduled_at"] == "2099-03-02T08:30:00.000Z"
    assert (await client.post(f"{S}/{s['id']}/resend-invite", headers=h)).status_code == 200
    r = await client.post(f"{S}/{s['id']}/cancel", headers=h)
    c = r.json()["data"]
    assert c["status"] == "cancelled" and c["end_reason"] == "cancelled" and c["join_url"] is None
    for method, path, body in (
        ("PATCH", "", {"scheduled_at": "2099-04-01T09:00:00Z"}),
        ("POST", "/cancel", None),
        ("POST", "/resend-invite", None),
    ):
        r = await client.request(method, f"{S}/{s['id']}{path}", json=body, headers=h)
        assert r.status_code == 409 and r.json()["code"] == "session_not_scheduled", path
    async with app.state.sessionmaker() as db:
        kinds = [
            k
            for k in (await db.execute(select(EmailMessage.kind).order_by(EmailMessage.created_at))).scalars()
        ]
        types = [
            t
            for t in (
                await db.execute(
                    select(Event.type)
                    .where(Event.session_id == uuid.UUID(s["id"]))
                    .order_by(Event.occurred_at)
                )
            ).scalars()
        ]
    assert kinds == ["invite", "reschedule", "invite", "cancellation"]
    assert types == ["session.created", "session.rescheduled", "session.cancelled"]
    # A stage with sessions can't be deleted (archive instead).
    r = await client.delete(f"/api/v1/evaluation-stages/{p['stages'][0]}", headers=h)
    assert r.status_code == 409 and r.json()["code"] == "in_use"


async def test_never_joined_sessions_expire(app, client, tenant, worker):
    p = await pipeline(client, tenant)
    s = (await client.post(S, json=session_body(p), headers=tenant.headers)).json()["data"]
    await worker.drain()
    clock.freeze(clock.now() + timedelta(days=15))
    try:
        await worker.schedule_periodic()
        await worker.drain()
    finally:
        clock.freeze(None)
    r = await client.get(f"{S}/{s['id']}", headers=tenant.headers)
    assert r.json()["data"]["status"] == "failed" and r.json()["data"]["end_reason"] == "expired"
    r = await client.get(f"/api/v1/events?type=session.failed&session_id={s['id']}", headers=tenant.headers)
    assert r.json()["meta"]["total"] == 1


async def test_list_filters(app, client, tenant):
    h = tenant.headers
    p = await pipeline(
        client, tenant, stages=[{"type": "screen"}, {"type": "final", "stage_name": "Final Round"}]
    )
    a = (await client.post(S, json=session_body(p), headers=h)).json()["data"]
    b = (await client.post(S, json=session_body(p, stage="final"), headers=h)).json()["data"]
    await client.post(f"{S}/{b['id']}/cancel", headers=h)
    since = clock.now()

    async def ids(query: str) -> list[str]:
        r = await client.get(f"{S}?{query}", headers=h)
        assert r.status_code == 200, r.text
        return sorted(x["id"] for x in r.json()["data"])

    assert await ids("status=scheduled") == [a["id"]]
    assert await ids(f"candidate_id={p['participant']}") == sorted([a["id"], b["id"]])
    assert await ids(f"evaluation_stage_id={p['stages'][1]}") == [b["id"]]
    assert await ids("stage=final") == [b["id"]]
    assert await ids("stage=final round") == [b["id"]]
    assert await ids("external_id=ats-1") == sorted([a["id"], b["id"]])
    assert await ids("external_id=nope") == []
    assert await ids("review_status=not_required") == sorted([a["id"], b["id"]])
    assert await ids("passed=true") == []
    clock.freeze(since + timedelta(seconds=2))
    try:
        await client.patch(f"{S}/{a['id']}", json={"scheduled_at": "2099-05-01T10:00:00Z"}, headers=h)
    finally:
        clock.freeze(None)
    assert await ids(f"updated_since={clock.isoformat(since + timedelta(seconds=1))}") == [a["id"]]
    r = await client.get(f"{S}?updated_since=2026-01-01T00:00:00", headers=h)
    assert r.status_code == 400


async def test_transcript_is_empty_until_the_interview(client, tenant):
    p = await pipeline(client, tenant)
    s = (await client.post(S, json=session_body(p), headers=tenant.headers)).json()["data"]
    r = await client.get(f"{S}/{s['id']}/transcript", headers=tenant.headers)
    assert r.json()["data"] == {"session_id": s["id"], "status": "scheduled", "engine": None, "turns": []}


async def test_erasing_the_participant_erases_their_sessions_and_emails(app, client, tenant):
    p = await pipeline(client, tenant)
    s = (await client.post(S, json=session_body(p), headers=tenant.headers)).json()["data"]
    assert (
        await client.delete(f"/api/v1/participants/{p['participant']}", headers=tenant.headers)
    ).status_code == 204
    assert (await client.get(f"{S}/{s['id']}", headers=tenant.headers)).status_code == 404
    assert await count(app, EmailMessage) == 0
    async with app.state.sessionmaker() as db:
        for event in (await db.execute(select(Event))).scalars():
            assert "jane@example.com" not in str(event.data) and "Jane" not in str(event.data)
