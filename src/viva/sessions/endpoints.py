from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Query, Request, Response

from viva.auth.dependencies import require
from viva.auth.service import Principal, check_account_slug
from viva.db import DB
from viva.email import service as email
from viva.errors import Forbidden, ValidationFailed
from viva.kit.http import CREATED_AS_200, listing
from viva.kit.pagination import PageRequest, page_params
from viva.kit.schemas import DataResponse, ListResponse, QueryDateTime, query_text
from viva.models import InterviewSession
from viva.pipeline import service as pipeline
from viva.recordings import service as recordings
from viva.scoring import service as scoring
from viva.sessions import live, service
from viva.sessions.schemas import (
    OutboxMessage,
    Reschedule,
    ReviewBody,
    ReviewStatus,
    SessionCreate,
    SessionCreated,
    SessionRead,
    Status,
    Success,
    TranscriptRead,
    TranscriptTurnRead,
)

ENGINE_KEYS = ("engine", "label", "provider", "model", "prompt_version", "fallback")

router = APIRouter(prefix="/sessions", tags=["Sessions"])
Reader = Annotated[Principal, Depends(require("interviews.read"))]
Writer = Annotated[Principal, Depends(require("interviews.write"))]


def deps(request: Request) -> service.Deps:
    return service.Deps(settings=request.app.state.settings, secrets=request.app.state.secrets)


Deps = Annotated[service.Deps, Depends(deps)]


@router.post(
    "",
    response_model=DataResponse[SessionCreated],
    response_model_exclude_unset=True,
    responses={
        **CREATED_AS_200,
        402: {"description": "No active plan, or no session credits left"},
        422: {"description": "Template not active, stage not schedulable, or idempotency_key reused"},
    },
    summary="Schedule a session; the invite email goes out after commit",
)
async def create_session(
    db: DB,
    principal: Writer,
    body: SessionCreate,
    response: Response,
    d: Deps,
    idempotency_key: Annotated[str | None, Header(alias="Idempotency-Key")] = None,
) -> dict[str, Any]:
    check_account_slug(principal, body.accountSlug)
    session, external_id, replayed = await service.schedule(
        db, principal.workspace_id, body, d, idempotency_key
    )
    if replayed:
        response.headers["Idempotent-Replayed"] = "true"
    read = service.to_read(session, external_id, d)
    return {"data": SessionCreated(**read.model_dump(), idempotent=replayed)}


@router.get(
    "", response_model=ListResponse[SessionRead], response_model_exclude_unset=True, summary="List sessions"
)
async def list_sessions(
    db: DB,
    principal: Reader,
    d: Deps,
    paging: Annotated[PageRequest, Depends(page_params("created_at", "updated_at", "scheduled_at"))],
    status: Annotated[Status | None, Query()] = None,
    candidate_id: Annotated[uuid.UUID | None, Query()] = None,
    evaluation_template_id: Annotated[uuid.UUID | None, Query()] = None,
    evaluation_stage_id: Annotated[uuid.UUID | None, Query()] = None,
    stage: Annotated[str | None, query_text(200, "Stage label or name")] = None,
    external_id: Annotated[str | None, query_text(255)] = None,
    review_status: Annotated[ReviewStatus | None, Query()] = None,
    passed: Annotated[bool | None, Query()] = None,
    updated_since: Annotated[QueryDateTime | None, Query(description="ISO 8601, for ATS sync")] = None,
) -> dict[str, Any]:
    if updated_since is not None and updated_since.tzinfo is None:
        raise ValidationFailed.at(["updated_since"], "Include a timezone, e.g. 2026-06-02T07:48:31Z")
    page = await service.list_sessions(
        db,
        principal.workspace_id,
        paging,
        status=status,
        candidate_id=candidate_id,
        template_id=evaluation_template_id,
        stage_id=evaluation_stage_id,
        stage=stage,
        external_id=external_id,
        review_status=review_status,
        passed=passed,
        updated_since=updated_since,
    )
    return listing(page, lambda row: service.to_read(row[0], row[1], d))


@router.get(
    "/{session_id}",
    response_model=DataResponse[SessionRead],
    response_model_exclude_unset=True,
    summary="Get a session",
)
async def get_session(db: DB, principal: Reader, d: Deps, session_id: uuid.UUID) -> dict[str, Any]:
    session, external_id = await service.get(db, principal.workspace_id, session_id)
    return {"data": service.to_read(session, external_id, d)}


@router.patch("/{session_id}", response_model=Success, summary="Reschedule a scheduled session")
async def reschedule_session(
    db: DB, principal: Writer, d: Deps, session_id: uuid.UUID, body: Reschedule
) -> dict[str, Any]:
    await service.reschedule(db, principal.workspace_id, session_id, body.scheduled_at, d)
    return {"success": True}


@router.post(
    "/{session_id}/cancel",
    response_model=DataResponse[SessionRead],
    response_model_exclude_unset=True,
    summary="Cancel a scheduled session (credit refunded)",
)
async def cancel_session(db: DB, principal: Writer, d: Deps, session_id: uuid.UUID) -> dict[str, Any]:
    session, external_id = await service.cancel(db, principal.workspace_id, session_id, d)
    return {"data": service.to_read(session, external_id, d)}


@router.post(
    "/{session_id}/resend-invite",
    response_model=DataResponse[SessionRead],
    response_model_exclude_unset=True,
    summary="Send the invite email again",
)
async def resend_invite(db: DB, principal: Writer, d: Deps, session_id: uuid.UUID) -> dict[str, Any]:
    session, external_id = await service.resend_invite(db, principal.workspace_id, session_id, d)
    return {"data": service.to_read(session, external_id, d)}


def _refuse_hidden(session: InterviewSession, field: str, what: str) -> None:
    if field in service.hidden_parts(session):
        raise Forbidden(
            f"The agent profile's output settings exclude the {what} (output.includeTranscript is false)",
            code="output_disabled",
        )


@router.get(
    "/{session_id}/transcript",
    response_model=DataResponse[TranscriptRead],
    summary="The transcript so far (empty until the interview starts)",
)
async def get_transcript(db: DB, principal: Reader, session_id: uuid.UUID) -> dict[str, Any]:
    session, _ = await service.get(db, principal.workspace_id, session_id)
    _refuse_hidden(session, "transcript_url", "transcript")
    turns = await live.transcript(db, session)
    spoken = [t for t in turns if t.speaker == "interviewer"]
    engine = {k: v for k, v in spoken[-1].data.items() if k in ENGINE_KEYS} if spoken else None
    return {
        "data": TranscriptRead(
            session_id=session.id,
            status=session.status,
            engine=engine,
            turns=[TranscriptTurnRead.model_validate(live.turn_read(t)) for t in turns],
        )
    }


def _reviewer(principal: Reader) -> Principal:
    # Reviewers (a dashboard role with read scopes) record decisions; keys need interviews.write.
    if principal.role != "reviewer" and "interviews.write" not in principal.scopes:
        raise Forbidden(
            "This key lacks the 'interviews.write' scope required here",
            code="missing_scope",
            scope="interviews.write",
        )
    return principal


Reviewer = Annotated[Principal, Depends(_reviewer)]


@router.get(
    "/{session_id}/scorecard",
    response_model=DataResponse[dict[str, Any]],
    responses={404: {"description": "Unknown session, or `not_scored` until the scorecard is ready"}},
    summary="The current scorecard, with earlier versions as history",
)
async def get_scorecard(db: DB, principal: Reader, session_id: uuid.UUID) -> dict[str, Any]:
    session, _ = await service.get(db, principal.workspace_id, session_id)
    return {"data": await scoring.view(db, session)}


@router.get(
    "/{session_id}/recording",
    response_model=DataResponse[dict[str, Any]],
    responses={
        404: {
            "description": "Unknown session, or no recording: `no_recording` (answered in text), "
            "`recording_not_ready` (being assembled, shortly after the end), `recording_failed`, "
            "`recording_expired` (removed by the retention setting)"
        },
        403: {"description": "`output_disabled`: the profile's output.includeTranscript is false"},
    },
    summary="The interview's audio: a signed link valid one hour",
)
async def get_recording(db: DB, principal: Reader, d: Deps, session_id: uuid.UUID) -> dict[str, Any]:
    session, _ = await service.get(db, principal.workspace_id, session_id)
    _refuse_hidden(session, "recording_url", "recording")
    return {"data": recordings.describe(session, d.signer, d.settings.public_url)}


@router.post(
    "/{session_id}/rescore",
    response_model=DataResponse[dict[str, Any]],
    summary="Score again with the current engine; the earlier scorecard is kept as history",
)
async def rescore(
    db: DB, principal: Writer, d: Deps, request: Request, session_id: uuid.UUID
) -> dict[str, Any]:
    chat_model = request.app.state.interviewer.chat_model
    session = await scoring.rescore(db, principal.workspace_id, session_id, d, chat_model)
    return {"data": await scoring.view(db, session)}


@router.post(
    "/{session_id}/review",
    response_model=DataResponse[SessionRead],
    response_model_exclude_unset=True,
    summary="Approve (advance) or reject a session awaiting review",
)
async def review_session(
    db: DB, principal: Reviewer, d: Deps, session_id: uuid.UUID, body: ReviewBody
) -> dict[str, Any]:
    session = await pipeline.review(
        db, principal.workspace_id, session_id, body.decision, body.reason, principal.actor, d
    )
    _, external_id = await service.get(db, principal.workspace_id, session.id)
    return {"data": service.to_read(session, external_id, d)}


outbox_router = APIRouter(prefix="/outbox", tags=["Email outbox"])


def outbox_read(m: Any) -> OutboxMessage:
    return OutboxMessage(
        id=m.id,
        session_id=m.session_id,
        kind=m.kind,
        to=m.to_address,
        subject=m.subject,
        text=m.text_body,
        html=m.html_body,
        status=m.status,
        error=m.error,
        sent_at=m.sent_at,
        created_at=m.created_at,
    )


@outbox_router.get(
    "",
    response_model=ListResponse[OutboxMessage],
    summary="Every email this workspace sent or holds (the local outbox without SMTP)",
)
async def list_outbox(
    db: DB,
    principal: Reader,
    paging: Annotated[PageRequest, Depends(page_params("created_at"))],
    session_id: Annotated[uuid.UUID | None, Query()] = None,
) -> dict[str, Any]:
    if principal.role is not None and principal.role not in ("owner", "admin"):
        raise Forbidden("Only owners and admins can read the outbox", code="forbidden_role")
    return listing(await email.outbox(db, principal.workspace_id, paging, session_id), outbox_read)
