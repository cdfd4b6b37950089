"""Sessions: the filterable list, scheduling (the API's rules and errors), the session page
(join link, transcript, scorecard with citations linked to turns, signals, code runs, email
and event history), cancel / reschedule / resend / rescore, and the review queue."""

from __future__ import annotations

import uuid
import zoneinfo
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from viva.dashboard.people import template_options
from viva.dashboard.web import (
    FormErrors,
    Viewer,
    attempt,
    choices,
    form_items,
    needs,
    page_request,
    pager,
    parse,
    redirect,
    render,
    render_form,
    unflatten,
    uuid_or_none,
)
from viva.db import DB
from viva.email import service as email
from viva.errors import Conflict, Forbidden, NotFound, ValidationFailed
from viva.events import service as events
from viva.kit import timezones
from viva.kit.crypto import random_token
from viva.kit.pagination import PageRequest
from viva.participants import service as participants
from viva.pipeline import service as pipeline
from viva.scoring import service as scoring
from viva.sessions import live
from viva.sessions import service as sessions
from viva.sessions.schemas import Reschedule, ReviewBody, ReviewStatus, SessionCreate, Status
from viva.templates import service as templates

router = APIRouter(prefix="/{slug}")
Reader = needs("interviews.read")
Writer = needs("interviews.write")
STATUSES = choices(Status)
REVIEW_STATUSES = choices(ReviewStatus)
ZONES = sorted(timezones.names())
CODE_EVENTS = ("code_run", "code_submit")
# What each invite_status means for the person reading the session page.
INVITE_WORDS = {
    "queued": "Waiting to be sent.",
    "sent": "Delivered to the mail server.",
    "failed": "Could not be sent after several attempts; resend it or copy the join link.",
    "not_configured": "Not emailed: no SMTP server is configured (VIVA_SMTP_URL), so the invite "
    "waits in the email outbox. Copy the join link to the candidate.",
    "none": "No invite: a reviewer records this stage's outcome.",
}

# What each authenticity signal means, in words a hiring manager reads without a manual.
SIGNAL_WORDS = {
    "tab_switches": "Times the candidate switched to another tab or window.",
    "focus_lost_seconds": "Seconds the interview page was not in front.",
    "paste_events": "Pastes into the chat and the code editor.",
    "pasted_characters": "Characters pasted into the chat and the code editor.",
    "answer_latency_ms": "How long answers took to start (median and slowest tenth), in milliseconds.",
    "typing_bursts": "Times a large block of text appeared faster than anyone types.",
    "reconnects": "Times the candidate reloaded or reconnected.",
    "ai_text_likelihood": "How likely answers are machine-written, when an engine computes it.",
}


def deps(request: Request) -> sessions.Deps:
    return sessions.Deps(settings=request.app.state.settings, secrets=request.app.state.secrets)


async def _names(db: DB, viewer: Viewer, rows: list[Any]) -> dict[uuid.UUID, str]:
    found = await participants.get_many(db, viewer.workspace_id, [s.participant_id for s, _ in rows])
    return {pid: p.name for pid, p in found.items()}


@router.get("/sessions")
async def list_sessions(db: DB, request: Request, viewer: Viewer = Reader) -> Response:
    q = request.query_params
    f = {
        "status": q.get("status") if q.get("status") in STATUSES else "",
        "review_status": q.get("review_status") if q.get("review_status") in REVIEW_STATUSES else "",
        "template": str(uuid_or_none(q.get("template")) or ""),
        "candidate": str(uuid_or_none(q.get("candidate")) or ""),
        "stage": q.get("stage", "").strip()[:200],
    }
    page = await sessions.list_sessions(
        db,
        viewer.workspace_id,
        page_request(request),
        status=f["status"] or None,
        review_status=f["review_status"] or None,
        template_id=uuid_or_none(f["template"]),
        candidate_id=uuid_or_none(f["candidate"]),
        stage=f["stage"] or None,
    )
    return render(
        request,
        viewer,
        "sessions/list.html",
        {
            "title": "Sessions",
            "section": "sessions",
            "page": page,
            "pager": pager(request, page),
            "names": await _names(db, viewer, page.items),
            "f": f,
            "filtered": any(f.values()),
            "statuses": STATUSES,
            "review_statuses": REVIEW_STATUSES,
            "template_options": await template_options(db, viewer),
        },
    )


@router.get("/reviews")
async def review_queue(db: DB, request: Request, viewer: Viewer = Reader) -> Response:
    page = await sessions.list_sessions(
        db, viewer.workspace_id, page_request(request, sort="updated_at"), review_status="pending"
    )
    return render(
        request,
        viewer,
        "sessions/reviews.html",
        {
            "title": "Review queue",
            "section": "reviews",
            "page": page,
            "pager": pager(request, page),
            "names": await _names(db, viewer, page.items),
        },
    )


# ------------------------------------------------------------------ scheduling


def _aware(local: str | None, zone: str | None) -> str | None:
    """A datetime-local input read in the chosen time zone; left as typed if the time is
    unusable (the API's schema then says what is wrong, as it would to an API caller)."""
    try:
        tz = zoneinfo.ZoneInfo(timezones.check(zone or "UTC"))
    except ValueError as exc:
        raise ValidationFailed.at(["timezone"], str(exc)) from None
    if not local:
        return None
    try:
        return datetime.fromisoformat(local).replace(tzinfo=tz).isoformat()
    except ValueError:
        return local


async def _schedule_form(
    db: DB, request: Request, viewer: Viewer, v: dict[str, Any], errors: FormErrors | None = None
) -> HTMLResponse:
    people = await participants.list_participants(
        db, viewer.workspace_id, PageRequest(page=1, page_size=100, sort="name"), status="active"
    )
    stage_labels: list[tuple[str, str]] = []
    template_id = uuid_or_none(v.get("evaluation_template_id"))
    if template_id:
        try:
            stages = await templates.stages_of_template(db, viewer.workspace_id, template_id)
            stage_labels = [(s.type, f"{s.stage_name} ({s.type})") for s in stages if s.status == "active"]
        except NotFound:
            stage_labels = []
    return render_form(
        request,
        viewer,
        "sessions/new.html",
        {"idempotency_key": random_token(16), **v},
        errors,
        {
            "title": "Schedule a session",
            "section": "sessions",
            "people": [(str(p.id), f"{p.name} <{p.email}>") for p in people.items],
            "template_options": await template_options(db, viewer),
            "stage_labels": stage_labels,
            "zones": ZONES,
        },
    )


@router.get("/sessions/new")
async def new_session(db: DB, request: Request, viewer: Viewer = Writer) -> Response:
    q = request.query_params
    v: dict[str, Any] = {"timezone": "UTC"}
    candidate = uuid_or_none(q.get("candidate") or q.get("candidate_id"))
    if candidate:
        person = await participants.get(db, viewer.workspace_id, candidate)
        v |= {
            "candidate_id": str(person.id),
            "evaluation_template_id": str(person.evaluation_template_id or ""),
        }
    # The form asks again (htmx) when the participant or template changes, to offer that
    # template's stages; a template chosen by hand wins over the participant's own.
    if q.get("_changed") == "evaluation_template_id" and uuid_or_none(q.get("evaluation_template_id")):
        v["evaluation_template_id"] = q["evaluation_template_id"]
    return await _schedule_form(db, request, viewer, v)


@router.post("/sessions/new")
async def create_session(db: DB, request: Request, viewer: Viewer = Writer) -> Response:
    items = await form_items(request)
    d = deps(request)

    async def schedule() -> Any:
        payload = unflatten(items)
        payload["scheduled_at"] = _aware(payload.get("scheduled_at"), payload.get("timezone"))
        if payload["scheduled_at"] is None:
            del payload["scheduled_at"]
        session, _, _ = await sessions.schedule(db, viewer.workspace_id, parse(SessionCreate, payload), d)
        return session

    session, errors = await attempt(db, schedule)
    if errors:
        return await _schedule_form(db, request, viewer, dict(items), errors)
    sent = "the invite is on its way" if session.invite_status == "queued" else INVITE_WORDS["not_configured"]
    return redirect(viewer.url("sessions", session.id), f"Session scheduled; {sent}")


# ------------------------------------------------------------------ one session


@router.get("/sessions/{session_id}")
async def show_session(db: DB, request: Request, session_id: uuid.UUID, viewer: Viewer = Reader) -> Response:
    d = deps(request)
    row, external_id = await sessions.get(db, viewer.workspace_id, session_id)
    s = sessions.to_read(row, external_id, d)
    person = await participants.get(db, viewer.workspace_id, row.participant_id)
    hidden = sessions.hidden_parts(row)
    turns = [live.turn_read(t) for t in await live.transcript(db, row)]
    try:
        card: dict[str, Any] | None = await scoring.view(db, row)
    except NotFound:
        card = None
    mails = (
        await email.outbox(db, viewer.workspace_id, PageRequest(page=1, page_size=50), session_id)
        if viewer.admin
        else None
    )
    history = (
        await events.list_events(
            db,
            viewer.workspace_id,
            PageRequest(page=1, page_size=100, sort="occurred_at"),
            session_id=session_id,
        )
        if viewer.can("events.read")
        else None
    )
    return render(
        request,
        viewer,
        "sessions/show.html",
        {
            "title": f"{person.name} · {s.stage_name}",
            "section": "sessions",
            "s": s,
            "person": person,
            "transcript_hidden": "transcript_url" in hidden,
            "turns": [t for t in turns if t["speaker"] != "system" or t.get("event") not in CODE_EVENTS],
            "code_runs": [t for t in turns if t["speaker"] == "system" and t.get("event") in CODE_EVENTS],
            "card": card,
            "signals": s.authenticity_signals or {},
            "recording_status": row.recording.status if row.recording else None,
            # Same origin as this page (the CSP's media-src), whatever VIVA_PUBLIC_URL says.
            "recording_src": _path_of(s.recording_url) if s.recording_url else None,
            "recording_hidden": "recording_url" in hidden,
            "recording_seconds": row.recording.seconds if row.recording else None,
            "signal_words": SIGNAL_WORDS,
            "invite_words": INVITE_WORDS,
            "mails": mails,
            "history": history,
            "zones": ZONES,
        },
    )


def _path_of(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.path}?{parts.query}"


async def _action(db: DB, viewer: Viewer, session_id: uuid.UUID, run: Any, done: str) -> Response:
    await sessions.get(db, viewer.workspace_id, session_id)  # 404 page when it isn't ours
    _, errors = await attempt(db, run)
    return redirect(viewer.url("sessions", session_id), errors.text if errors else done)


@router.post("/sessions/{session_id}/cancel")
async def cancel(db: DB, request: Request, session_id: uuid.UUID, viewer: Viewer = Writer) -> Response:
    async def run() -> Any:
        return await sessions.cancel(db, viewer.workspace_id, session_id, deps(request))

    return await _action(db, viewer, session_id, run, "Session cancelled; the credit was refunded")


@router.post("/sessions/{session_id}/resend")
async def resend(db: DB, request: Request, session_id: uuid.UUID, viewer: Viewer = Writer) -> Response:
    async def run() -> Any:
        return await sessions.resend_invite(db, viewer.workspace_id, session_id, deps(request))

    return await _action(db, viewer, session_id, run, "Invite sent again")


@router.post("/sessions/{session_id}/reschedule")
async def reschedule(db: DB, request: Request, session_id: uuid.UUID, viewer: Viewer = Writer) -> Response:
    form = dict(await form_items(request))

    async def run() -> Any:
        body = parse(Reschedule, {"scheduled_at": _aware(form.get("scheduled_at"), form.get("timezone"))})
        await sessions.reschedule(db, viewer.workspace_id, session_id, body.scheduled_at, deps(request))

    return await _action(db, viewer, session_id, run, "Rescheduled; the candidate gets the new time")


@router.post("/sessions/{session_id}/rescore")
async def rescore(db: DB, request: Request, session_id: uuid.UUID, viewer: Viewer = Writer) -> Response:
    chat_model = request.app.state.interviewer.chat_model
    try:
        await scoring.rescore(db, viewer.workspace_id, session_id, deps(request), chat_model)
    except Conflict as error:
        return redirect(viewer.url("sessions", session_id), error.message)
    return redirect(
        viewer.url("sessions", session_id), "Scored again; the earlier scorecard is kept as history"
    )


@router.post("/sessions/{session_id}/review")
async def review(db: DB, request: Request, session_id: uuid.UUID, viewer: Viewer = Reader) -> Response:
    if not viewer.may_review:
        raise Forbidden(f"Your role ({viewer.role}) can't record review decisions")
    form = dict(await form_items(request))

    async def run() -> Any:
        body = parse(ReviewBody, unflatten(form.items()))
        return await pipeline.review(
            db,
            viewer.workspace_id,
            session_id,
            body.decision,
            body.reason,
            viewer.principal.actor,
            deps(request),
        )

    await sessions.get(db, viewer.workspace_id, session_id)
    result, errors = await attempt(db, run)
    back = form.get("_back") if form.get("_back") == "queue" else None
    target = viewer.url("reviews") if back and not errors else viewer.url("sessions", session_id)
    if errors:
        return redirect(target, errors.text)
    outcome = (result.review or {}).get("advanced")
    words = {
        "scheduled": "the next stage is scheduled",
        "review": "the next stage awaits a reviewer",
        "recommended": "that was the last stage: recommended",
        "blocked": "the next stage could not be scheduled: " + str((result.review or {}).get("reason")),
    }
    said = "Approved" if result.review_status == "approved" else "Rejected"
    return redirect(target, f"{said}; {words[outcome]}" if outcome in words else said)
