"""Scheduling and the session lifecycle (SPEC §3.5): every rule, in the documented order."""

from __future__ import annotations

import contextlib
import hashlib
import json
import re
import uuid
import zoneinfo
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import text
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.ext.asyncio import AsyncSession

from viva.config import Settings
from viva.email import service as email
from viva.errors import Conflict, Issue, NotFound, Unprocessable, ValidationFailed
from viva.events import service as events
from viva.jobs.service import enqueue_once
from viva.kit import clock
from viva.kit.crypto import random_token, token_hash
from viva.kit.pagination import Page, PageRequest
from viva.kit.secretbox import SecretBox
from viva.kit.stats import percentile
from viva.kit.storage import UrlSigner
from viva.models import EvaluationStage, IdempotencyKey, InterviewSession
from viva.participants import service as participants
from viva.recordings import service as recordings
from viva.sessions import lifecycle, snapshot
from viva.sessions.repository import IdempotencyRepository, SessionRepository, session_by_id
from viva.sessions.schemas import SessionCreate, SessionRead
from viva.templates import service as templates
from viva.templates.schemas import AI_STAGE_TYPES
from viva.workspaces import service as workspaces

OPEN = lifecycle.OPEN
IDEMPOTENCY_TTL = timedelta(hours=24)
EXPIRY_AFTER_SCHEDULED = timedelta(days=7)
EXPIRY_UNSCHEDULED = timedelta(days=14)
REMINDERS = ((timedelta(hours=24), "in 24 hours"), (timedelta(hours=1), "in 1 hour"))


@dataclass(frozen=True)
class Deps:
    """What session rules need from the running app."""

    settings: Settings
    secrets: SecretBox

    @property
    def invite_pending(self) -> str:
        """The invite_status of an invite just queued: without SMTP it can only wait in the
        outbox, and saying "queued" would promise an email that never goes out."""
        return "queued" if self.settings.smtp_url else "not_configured"

    def join_url(self, token: str) -> str:
        return f"{self.settings.public_url.rstrip('/')}/join/{token}"

    @property
    def signer(self) -> UrlSigner:
        return recordings.signer(self.secrets)


# ------------------------------------------------------------------ reading


def to_read(session: InterviewSession, external_id: str | None, deps: Deps) -> SessionRead:
    base = deps.settings.public_url.rstrip("/")
    open_ = session.status in OPEN and not session.manual
    fields: dict[str, Any] = dict(
        id=session.id,
        status=session.status,
        candidate_id=session.participant_id,
        evaluation_template_id=session.evaluation_template_id,
        evaluation_stage_id=session.evaluation_stage_id,
        stage=session.stage,
        stage_name=session.stage_name,
        attempt=session.attempt,
        # The link only means something while the interview can still be taken.
        join_url=deps.join_url(deps.secrets.open(session.join_token_encrypted)) if open_ else None,
        invite_status=session.invite_status,
        scheduled_at=session.scheduled_at,
        timezone=session.timezone,
        language=session.language,
        notes=session.notes,
        expires_at=session.expires_at,
        started_at=session.started_at,
        ended_at=session.ended_at,
        duration_seconds=session.duration_seconds,
        end_reason=session.end_reason,
        external_id=external_id,
        score=session.score,
        scale=session.scale,
        score_percent=session.score_percent,
        passed=session.passed,
        recommendation=session.recommendation,
        evaluation_breakdown=session.evaluation_breakdown,
        summary=session.summary,
        improvement_feedback=session.improvement_feedback,
        authenticity_signals=session.authenticity_signals,
        review_status=session.review_status,
        review=session.review,
        transcript_url=f"{base}/api/v1/sessions/{session.id}/transcript",
        recording_url=(link := recordings.signed(session, deps.signer, base)) and link.url,
        voice_metrics=voice_summary(session.voice_metrics),
        scored_at=session.scored_at,
        created_at=session.created_at,
        updated_at=session.updated_at,
    )
    # The profile's output flags remove parts everywhere (SPEC §3.1): absent, not null.
    for key in hidden_parts(session):
        fields.pop(key, None)
    return SessionRead(**fields)


def voice_summary(metrics: dict[str, Any] | None) -> dict[str, Any] | None:
    """How quickly the interviewer answered spoken answers with its voice (see sessions.live)."""
    replies = (metrics or {}).get("replies") or []
    if not replies:
        return None

    def spread(field: str) -> dict[str, int | None]:
        values = [int(r[field]) for r in replies if r.get(field) is not None]
        if not values:
            return {"p50": None, "p95": None, "max": None}
        return {"p50": int(percentile(values, 0.5)), "p95": int(percentile(values, 0.95)), "max": max(values)}

    return {
        "spoken_replies": len(replies),
        "reply_latency_ms": spread("heard_ms"),
        "server_latency_ms": spread("server_ms"),
        "stt_ms": spread("stt_ms"),
        "tts_first_sentence_ms": spread("tts_ms"),
        "silence_window_ms": spread("silence_ms")["p50"],
    }


def hidden_parts(session: InterviewSession) -> list[str]:
    """Session fields the profile's `output` flags hide (none before the interview starts)."""
    output = snapshot.output_flags(session)
    hidden = {
        # The recording is the transcript as sound: the same flag keeps it out.
        "transcript_url": output.include_transcript,
        "recording_url": output.include_transcript,
        "evaluation_breakdown": output.include_score_breakdown,
        "recommendation": output.include_recommendation,
        "improvement_feedback": output.include_improvement_feedback,
    }
    return [key for key, shown in hidden.items() if not shown]


async def get(
    db: AsyncSession, workspace_id: uuid.UUID, session_id: uuid.UUID
) -> tuple[InterviewSession, str | None]:
    """A session of this workspace with its participant's external_id, or 404."""
    found = await SessionRepository(db, workspace_id).get_with_external_id(session_id)
    if found is None:
        raise NotFound("Session")
    return found


async def list_sessions(
    db: AsyncSession, workspace_id: uuid.UUID, request: PageRequest, **filters: Any
) -> Page[tuple[InterviewSession, str | None]]:
    repo = SessionRepository(db, workspace_id)
    rows, total = await repo.page_with_external_ids(
        repo.filtered(**filters), request.offset, request.page_size, request.descending, request.sort_field
    )
    return Page(items=rows, total=total, request=request)


def _payload(session: InterviewSession, external_id: str | None, deps: Deps) -> dict[str, Any]:
    return {"session": to_read(session, external_id, deps).model_dump(mode="json", exclude_unset=True)}


async def _emit(
    db: AsyncSession,
    kind: str,
    session: InterviewSession,
    external_id: str | None,
    deps: Deps,
    extra: dict[str, Any] | None = None,
) -> None:
    await db.flush()
    await events.emit(
        db,
        session.workspace_id,
        kind,
        {**_payload(session, external_id, deps), **(extra or {})},
        participant_id=session.participant_id,
        session_id=session.id,
    )


# ------------------------------------------------------------------ scheduling


_WORD = re.compile(r"[a-z0-9]+")


def select_stage(stages: list[EvaluationStage], label: str) -> EvaluationStage | None:
    """SPEC §3.5 stage selection among a template's active stages, first rule that matches:
    type equals the label; stage_name equals it (case-insensitively); type or stage_name
    contains it as a word ("screen" finds "Technical Screen"); the only active stage."""
    wanted = label.strip().lower()
    rules = (
        lambda s: s.type.lower() == wanted,
        lambda s: s.stage_name.lower() == wanted,
        lambda s: (
            wanted in _WORD.findall(s.type.lower())
            or wanted in _WORD.findall(s.stage_name.lower())
            or (" " in wanted and (wanted in s.type.lower() or wanted in s.stage_name.lower()))
        ),
    )
    for rule in rules:
        for stage in stages:
            if rule(stage):
                return stage
    return stages[0] if len(stages) == 1 else None


def fingerprint(data: SessionCreate) -> str:
    """What makes two requests "the same" for idempotency: the body minus the key itself."""
    body = data.model_dump(mode="json", exclude={"idempotency_key", "accountSlug"})
    return hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()


async def _replay(
    db: AsyncSession, workspace_id: uuid.UUID, record: IdempotencyKey, request_hash: str
) -> tuple[InterviewSession, str | None]:
    if record.request_hash != request_hash:
        raise Unprocessable(
            "This idempotency_key was used with a different request body; use a new key",
            code="idempotency_key_reused",
        )
    if record.session_id is None:
        raise Conflict(
            "A request with this idempotency_key is still in progress",
            code="idempotency_key_in_use",
            headers={"Retry-After": "1"},
        )
    return await get(db, workspace_id, record.session_id)


async def _claim_key(
    db: AsyncSession, workspace_id: uuid.UUID, key: str, request_hash: str
) -> IdempotencyKey | tuple[InterviewSession, str | None]:
    """Claim `key` for this request, or return the session an earlier request made.

    A concurrent request with the same key holds the key's row (uncommitted) until it
    commits; our insert waits for it (PostgreSQL: the unique index; SQLite: the single
    writer), then conflicts, and we replay what it produced."""
    repo = IdempotencyRepository(db, workspace_id)
    existing = await repo.by_key(key)
    if existing is not None and existing.expires_at <= clock.now():
        await repo.delete(existing)
        await db.flush()
        existing = None
    if existing is not None:
        return await _replay(db, workspace_id, existing, request_hash)
    record = IdempotencyKey(key=key, request_hash=request_hash, expires_at=clock.now() + IDEMPOTENCY_TTL)
    try:
        async with db.begin_nested():
            if db.get_bind().dialect.name == "postgresql":
                await db.execute(text("SET LOCAL lock_timeout = '10s'"))
            repo.add(record)
            await db.flush()
    except IntegrityError:
        existing = await repo.by_key(key)
        if existing is None:  # the other request failed and rolled back: the key is free
            raise Conflict(
                "A request with this idempotency_key was in progress; retry",
                code="idempotency_key_in_use",
                headers={"Retry-After": "1"},
            ) from None
        return await _replay(db, workspace_id, existing, request_hash)
    except OperationalError:  # lock_timeout: the first request is taking long
        raise Conflict(
            "A request with this idempotency_key is still in progress",
            code="idempotency_key_in_use",
            headers={"Retry-After": "1"},
        ) from None
    return record


def _local_time(at: datetime | None, zone: str) -> str | None:
    if at is None:
        return None
    local = at.astimezone(zoneinfo.ZoneInfo(zone))
    return local.strftime("%A %-d %B %Y, %H:%M") + f" ({zone})"


async def _email(db: AsyncSession, session: InterviewSession, kind: str, deps: Deps, **extra: Any) -> None:
    participant = await participants.get(db, session.workspace_id, session.participant_id)
    workspace = await workspaces.get_workspace_by_id(db, session.workspace_id)
    stage = await templates.get_stage(db, session.workspace_id, session.evaluation_stage_id)
    context = {
        "organization": workspace.name,
        "candidate_name": participant.name,
        "stage_name": session.stage_name,
        "duration_minutes": stage.duration_minutes,
        "scheduled_local": _local_time(session.scheduled_at, session.timezone),
        "join_url": deps.join_url(deps.secrets.open(session.join_token_encrypted)),
        **extra,
    }
    await email.queue(db, session.workspace_id, kind, participant.email, context, session_id=session.id)


async def _schedule_reminders(db: AsyncSession, session: InterviewSession) -> None:
    if session.scheduled_at is None:
        return
    utc = clock.isoformat(session.scheduled_at)
    for before, when in REMINDERS:
        at = session.scheduled_at - before
        if at > clock.now():
            # One reminder per session, time and kind, however often it is rescheduled.
            await enqueue_once(
                db,
                "sessions.remind",
                f"remind:{session.id}:{utc}:{when}",
                {"session_id": str(session.id), "scheduled_at": utc, "when": when},
                run_at=at,
                workspace_id=session.workspace_id,
            )


def _expiry(scheduled_at: datetime | None) -> datetime:
    return scheduled_at + EXPIRY_AFTER_SCHEDULED if scheduled_at else clock.now() + EXPIRY_UNSCHEDULED


def _check_future(at: datetime | None, path: str) -> None:
    if at is not None and at < clock.now() - timedelta(minutes=5):
        raise ValidationFailed.at([path], "scheduled_at is in the past")


def _new_session(
    repo: SessionRepository,
    stage: EvaluationStage,
    participant_id: uuid.UUID,
    *,
    attempt: int,
    deps: Deps,
    stage_label: str,
    manual: bool = False,
    **fields: Any,
) -> InterviewSession:
    """A new `scheduled` session of `stage` with a fresh join token (kept hashed and sealed)."""
    token = random_token(24)
    return repo.add(
        InterviewSession(
            participant_id=participant_id,
            evaluation_template_id=stage.evaluation_template_id,
            evaluation_stage_id=stage.id,
            stage=stage_label,
            stage_name=stage.stage_name,
            attempt=attempt,
            join_token_hash=token_hash(token),
            join_token_encrypted=deps.secrets.seal(token),
            manual=manual,
            recording=None,  # loaded as "none yet": a new session has no recording row to fetch
            **lifecycle.initial(manual=manual),
            **fields,
        )
    )


def _duplicate_session(open_id: uuid.UUID) -> Conflict:
    return Conflict(
        "This participant already has an open session for this stage; pass force: true to add another",
        code="duplicate_session",
        session_id=str(open_id),
    )


@contextlib.asynccontextmanager
async def _one_open_session(
    db: AsyncSession, repo: SessionRepository, participant_id: uuid.UUID, stage_id: uuid.UUID
) -> AsyncIterator[None]:
    """Around adding a new open session. The check in `schedule` reads before it writes, so two
    concurrent requests can both pass it; the database's one-open-session index
    (`uq_interview_sessions_one_open`) then refuses the second, which gets the same 409 as the
    check gives. The session is added and flushed in a savepoint (begin_nested flushes what is
    pending first, so the new row must be added inside it); the caller's transaction is then
    rolled back by the request, so the loser sends nothing."""
    try:
        async with db.begin_nested():
            yield
            await db.flush()
    except IntegrityError:
        winner = await repo.open_unforced_id(participant_id, stage_id)
        if winner is None:
            raise
        raise _duplicate_session(winner) from None


async def schedule(
    db: AsyncSession, workspace_id: uuid.UUID, data: SessionCreate, deps: Deps, header_key: str | None = None
) -> tuple[InterviewSession, str | None, bool]:
    """POST /sessions. Returns (session, external_id, replayed)."""
    if header_key and data.idempotency_key and header_key != data.idempotency_key:
        raise ValidationFailed.at(["idempotency_key"], "Differs from the Idempotency-Key header")
    key = data.idempotency_key or header_key
    if header_key and len(header_key) > 255:
        raise ValidationFailed.at(["Idempotency-Key"], "At most 255 characters")
    claim: IdempotencyKey | None = None
    if key:
        claimed = await _claim_key(db, workspace_id, key, fingerprint(data))
        if isinstance(claimed, tuple):
            return claimed[0], claimed[1], True
        claim = claimed
    _check_future(data.scheduled_at, "scheduled_at")

    try:
        participant = await participants.get(db, workspace_id, data.candidate_id)
    except NotFound:
        raise NotFound("Participant", param="candidate_id") from None
    template = await templates.get_template(
        db, workspace_id, data.evaluation_template_id, "evaluation_template_id"
    )
    if participant.evaluation_template_id != template.id:
        raise ValidationFailed.at(["candidate_id"], "This participant is not evaluated against that template")
    if template.status != "active":
        raise Unprocessable(
            f"The template is {template.status}; only active templates accept sessions",
            code="template_not_active",
        )
    active = [
        s for s in await templates.stages_of_template(db, workspace_id, template.id) if s.status == "active"
    ]
    if data.interview_id is not None:
        stage = next((s for s in active if s.id == data.interview_id), None)
        if stage is None:
            raise ValidationFailed.at(["interview_id"], "Not an active stage of this template")
    else:
        stage = select_stage(active, data.stage)
        if stage is None:
            labels = sorted({s.type for s in active} | {s.stage_name for s in active})
            raise ValidationFailed(
                [
                    Issue(
                        ["stage"],
                        (
                            f"No active stage matches '{data.stage}'. "
                            f"Valid: {', '.join(repr(x) for x in labels)}"
                            if labels
                            else "This template has no active stages"
                        ),
                    )
                ]
            )
    if stage.stage_type not in AI_STAGE_TYPES or stage.agent_profile_id is None:
        why = (
            "has no agent profile" if stage.stage_type in AI_STAGE_TYPES else f"is a {stage.stage_type} stage"
        )
        raise Unprocessable(
            f"Stage '{stage.stage_name}' {why}; it can't be scheduled as an AI interview",
            code="stage_not_schedulable",
        )

    debited = await workspaces.debit_credit(db, workspace_id)

    repo = SessionRepository(db, workspace_id)
    prior = [s for s in await repo.for_participant_stage(participant.id, stage.id) if s.status != "cancelled"]
    open_ = [s for s in prior if s.status in OPEN]
    if open_ and not data.force:
        raise _duplicate_session(open_[0].id)
    # Only sessions that count are attempts (SPEC §3.5): a technical failure, or the stage's first
    # walk-out, leaves the next session with the same attempt number.
    counts = lifecycle.counted_attempts(prior)
    attempts = sum(counts)
    if any(c and s.status not in OPEN for s, c in zip(prior, counts, strict=True)):
        if not stage.allow_retake:
            raise Conflict("This stage does not allow retakes", code="retake_not_allowed")
        if attempts >= stage.max_attempts:
            raise Conflict(f"No attempts left ({stage.max_attempts} allowed)", code="retake_not_allowed")

    async with _one_open_session(db, repo, participant.id, stage.id):
        session = _new_session(
            repo,
            stage,
            participant.id,
            attempt=attempts + 1,
            deps=deps,
            stage_label=data.stage,
            scheduled_at=data.scheduled_at,
            timezone=data.timezone,
            language=data.language or template.language,
            notes=data.notes,
            expires_at=_expiry(data.scheduled_at),
            credit_debited=debited,
            invite_status=deps.invite_pending,
            forced=data.force,
        )
    if claim is not None:
        claim.session_id = session.id
    await _emit(db, "session.created", session, participant.external_id, deps)
    await _email(db, session, "invite", deps)
    await _schedule_reminders(db, session)
    return session, participant.external_id, False


# ------------------------------------------------------------------ lifecycle


def _require_scheduled(session: InterviewSession, action: str) -> None:
    if session.status != "scheduled":
        raise Conflict(
            f"Only a scheduled session can be {action}; this one is {session.status}",
            code="session_not_scheduled",
        )


async def reschedule(
    db: AsyncSession, workspace_id: uuid.UUID, session_id: uuid.UUID, scheduled_at: datetime, deps: Deps
) -> None:
    """Move a scheduled session; the candidate gets the new time (same link)."""
    session, external_id = await get(db, workspace_id, session_id)
    _require_scheduled(session, "rescheduled")
    _check_future(scheduled_at, "scheduled_at")
    session.scheduled_at = scheduled_at
    session.expires_at = _expiry(scheduled_at)
    session.invite_status = deps.invite_pending
    await _emit(db, "session.rescheduled", session, external_id, deps)
    await _email(db, session, "reschedule", deps)
    await _schedule_reminders(db, session)


async def cancel(
    db: AsyncSession, workspace_id: uuid.UUID, session_id: uuid.UUID, deps: Deps
) -> tuple[InterviewSession, str | None]:
    """Cancel a scheduled session: its link stops working and its credit is refunded."""
    session, external_id = await get(db, workspace_id, session_id)
    _require_scheduled(session, "cancelled")
    lifecycle.end(session, "cancelled", "cancelled", code="session_not_scheduled")
    if session.credit_debited:
        await workspaces.refund_credit(db, workspace_id)
        session.credit_debited = False
    await _emit(db, "session.cancelled", session, external_id, deps)
    await _email(db, session, "cancellation", deps)
    return session, external_id


async def resend_invite(
    db: AsyncSession, workspace_id: uuid.UUID, session_id: uuid.UUID, deps: Deps
) -> tuple[InterviewSession, str | None]:
    session, external_id = await get(db, workspace_id, session_id)
    _require_scheduled(session, "re-invited")
    session.invite_status = deps.invite_pending
    await _email(db, session, "invite", deps)
    await db.flush()
    return session, external_id


async def set_invite_status(
    db: AsyncSession, workspace_id: uuid.UUID, session_id: uuid.UUID, status: str
) -> None:
    """Called by the email job with what really happened to the invite."""
    found = await SessionRepository(db, workspace_id).get(session_id)
    if found is not None:
        found.invite_status = status


async def expire(db: AsyncSession, session: InterviewSession, deps: Deps) -> None:
    """A scheduled session nobody joined before expires_at becomes failed/expired."""
    if not lifecycle.allowed(session, "failed", "expired"):
        return
    lifecycle.end(session, "failed", "expired")
    participant = await participants.get(db, session.workspace_id, session.participant_id)
    await _emit(db, "session.failed", session, participant.external_id, deps)


async def remind(
    db: AsyncSession, session: InterviewSession, scheduled_at: str, when: str, deps: Deps
) -> None:
    """Send a reminder unless the session moved or is no longer scheduled."""
    if session.status != "scheduled" or session.scheduled_at is None:
        return
    if session.scheduled_at != datetime.fromisoformat(scheduled_at.replace("Z", "+00:00")):
        return  # rescheduled since; the new time has its own reminders
    await _email(db, session, "reminder", deps, when=when)


async def count_for_stage(db: AsyncSession, workspace_id: uuid.UUID, stage_id: uuid.UUID) -> int:
    return await SessionRepository(db, workspace_id).count_for_stage(stage_id)


async def join_url_by_session_id(
    db: AsyncSession, session_id: uuid.UUID, secrets: SecretBox, public_url: str
) -> str | None:
    """The join link of any workspace's session, for operator tools (`viva simulate`); None if unknown."""
    session = await session_by_id(db, session_id)
    if session is None:
        return None
    return f"{public_url.rstrip('/')}/join/{secrets.open(session.join_token_encrypted)}"


async def open_manual_review(
    db: AsyncSession, workspace_id: uuid.UUID, participant_id: uuid.UUID, stage: EvaluationStage, deps: Deps
) -> InterviewSession:
    """A manual_review/final_review stage reached by the pipeline: a session with no interview
    (no link, no email, no credit) waiting for a reviewer (`review_status: pending`)."""
    participant = await participants.get(db, workspace_id, participant_id)
    prior = await SessionRepository(db, workspace_id).for_participant_stage(participant_id, stage.id)
    # The join token is never sent (no link for a review), but every session has one.
    session = _new_session(
        SessionRepository(db, workspace_id),
        stage,
        participant_id,
        attempt=len(prior) + 1,
        deps=deps,
        stage_label=stage.type,
        expires_at=clock.now() + EXPIRY_UNSCHEDULED,
        credit_debited=False,
        invite_status="none",
        manual=True,
    )
    await _emit(db, "session.created", session, participant.external_id, deps)
    await _emit(db, "session.review_required", session, participant.external_id, deps)
    return session


async def emit_event(
    db: AsyncSession, kind: str, session: InterviewSession, deps: Deps, extra: dict[str, Any] | None = None
) -> None:
    """Emit a session event (`session.scored`, `session.reviewed`, ...) with the session payload
    and `extra` parts (e.g. the scorecard) beside it."""
    participant = await participants.get(db, session.workspace_id, session.participant_id)
    await _emit(db, kind, session, participant.external_id, deps, extra)


async def for_job(db: AsyncSession, session_id: uuid.UUID) -> InterviewSession | None:
    """A session by id in any workspace, for jobs (which find the workspace from the row)."""
    return await session_by_id(db, session_id)
