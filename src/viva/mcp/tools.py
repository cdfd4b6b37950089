"""The MCP tools of SPEC §8. Each is a thin call into the services its REST twin calls, with
the twin's scope, request model and response shape; no rule is implemented here."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, Field
from pydantic.json_schema import SkipJsonSchema
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.datastructures import State

from viva.agent_profiles import service as profiles
from viva.agent_profiles.schemas import AgentProfileCreate, AgentProfileRead
from viva.agent_profiles.schemas import UseCase as ProfileUseCase
from viva.auth.service import Principal
from viva.code_execution import service as code_execution
from viva.code_execution.schemas import CodeExecutionCreate, CodeExecutionRead
from viva.kit.http import listing
from viva.kit.pagination import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE, PageRequest
from viva.kit.schemas import DataResponse, ListResponse, NoNul, StrictModel
from viva.participants import service as participants
from viva.participants.schemas import ParticipantCreate, ParticipantRead
from viva.participants.schemas import Status as ParticipantStatus
from viva.pipeline import service as pipeline
from viva.scoring import service as scoring
from viva.sessions import service as sessions
from viva.sessions.schemas import ReviewBody, ReviewStatus, SessionCreate, SessionCreated, SessionRead, aware
from viva.sessions.schemas import Status as SessionStatus
from viva.templates import service as templates
from viva.templates.schemas import (
    StageCreate,
    StageRead,
    TemplateCreate,
    TemplateDetail,
    TemplateRead,
    UseCase,
)
from viva.templates.schemas import Status as TemplateStatus
from viva.workspaces import service as workspaces


@dataclass(frozen=True)
class Call:
    """What a tool runs with: the tool call's transaction, the caller, the app's session deps."""

    db: AsyncSession
    principal: Principal
    deps: sessions.Deps
    state: State  # the app's: settings and the code sandbox

    @property
    def workspace_id(self) -> uuid.UUID:
        return self.principal.workspace_id


class Raw(dict[str, Any]):
    """A result with no REST twin (a dry run's preview): already JSON, shown as it is."""


@dataclass(frozen=True)
class ToolSpec:
    name: str
    title: str
    description: str
    scopes: tuple[str, ...]  # checked in order, like the REST twin's dependencies
    args: type[BaseModel]
    run: Callable[[Call, Any], Awaitable[dict[str, Any]]]
    # The REST twin's response model: results are serialized through it exactly as FastAPI does.
    response: Any = None
    exclude_unset: bool = False
    read_only: bool = False
    destructive: bool = False
    idempotent: bool = False
    open_world: bool = False


# ------------------------------------------------------------------ arguments

# Query texts of the REST twins: bounded, without NUL.
Text200 = Annotated[str, Field(max_length=200), NoNul]
Text255 = Annotated[str, Field(max_length=255), NoNul]
Text100 = Annotated[str, Field(max_length=100), NoNul]
Text320 = Annotated[str, Field(max_length=320), NoNul]


class Paging(StrictModel):
    page: int = Field(default=1, ge=1, le=1_000_000, description="1-based page number")
    pageSize: int = Field(  # noqa: N815 - the public API's spelling
        default=DEFAULT_PAGE_SIZE, ge=1, le=MAX_PAGE_SIZE, description="Items per page (max 100)"
    )

    def paging(self) -> PageRequest:
        return PageRequest(page=self.page, page_size=self.pageSize)


class ListTemplates(Paging):
    status: TemplateStatus | None = None
    use_case: UseCase | None = None
    q: Text200 | None = Field(default=None, description="Name contains")


class TemplateRef(StrictModel):
    template_id: uuid.UUID = Field(description="An evaluation template id (from list_templates)")


class ListAgentProfiles(Paging):
    public: bool = Field(default=False, description="true: the public library of every workspace")
    useCase: ProfileUseCase | None = None  # noqa: N815 - the public API's spelling
    q: Text200 | None = Field(default=None, description="Name contains")


class ListParticipants(Paging):
    evaluation_template_id: uuid.UUID | None = None
    status: ParticipantStatus | None = None
    email: Text320 | None = None
    external_id: Text255 | None = None
    tag: Text100 | None = None
    q: Text200 | None = Field(default=None, description="Name or email contains")


class ListSessions(Paging):
    status: SessionStatus | None = None
    candidate_id: uuid.UUID | None = Field(default=None, description="A participant id")
    evaluation_template_id: uuid.UUID | None = None
    evaluation_stage_id: uuid.UUID | None = None
    stage: Text200 | None = Field(default=None, description="Stage label or name")
    external_id: Text255 | None = None
    review_status: ReviewStatus | None = None
    passed: bool | None = None
    updated_since: Annotated[datetime, AfterValidator(aware)] | None = Field(
        default=None, description="ISO 8601 with a timezone, for syncing"
    )


class SessionRef(StrictModel):
    session_id: uuid.UUID = Field(description="A session id (from schedule_session or list_sessions)")


class ReviewSession(ReviewBody):
    session_id: uuid.UUID = Field(description="A session with review_status 'pending'")


class ScheduleSession(SessionCreate):
    # The API key names the workspace, so the REST body's accountSlug has no part here.
    accountSlug: SkipJsonSchema[None] = Field(default=None, exclude=True)  # noqa: N815
    dry_run: bool = Field(
        default=False,
        description="true: run every check and preview the stage, credits and duplicate check; "
        "nothing is created, charged or sent",
    )

    def body(self) -> SessionCreate:
        """The REST body this call stands for (so idempotency keys match across both)."""
        return SessionCreate.model_validate(self.model_dump(exclude={"dry_run", "accountSlug"}))


# ------------------------------------------------------------------ handlers


async def _list_templates(c: Call, a: ListTemplates) -> dict[str, Any]:
    page = await templates.list_templates(c.db, c.workspace_id, a.paging(), a.status, a.use_case, a.q)
    return listing(page, templates.template_to_read)


async def _get_template(c: Call, a: TemplateRef) -> dict[str, Any]:
    template = await templates.get_template(c.db, c.workspace_id, a.template_id)
    return {"data": await templates.template_detail(c.db, template)}


async def _create_template(c: Call, a: TemplateCreate) -> dict[str, Any]:
    template = await templates.create_template(c.db, c.workspace_id, a)
    return {"data": await templates.template_detail(c.db, template)}


async def _create_stage(c: Call, a: StageCreate) -> dict[str, Any]:
    return {"data": templates.stage_to_read(await templates.create_stage(c.db, c.workspace_id, a))}


async def _list_agent_profiles(c: Call, a: ListAgentProfiles) -> dict[str, Any]:
    page = await profiles.list_profiles(
        c.db, c.workspace_id, a.paging(), public=a.public, use_case=a.useCase, q=a.q
    )
    return listing(page, profiles.to_read)


async def _create_agent_profile(c: Call, a: AgentProfileCreate) -> dict[str, Any]:
    return {"data": profiles.to_read(await profiles.create(c.db, c.workspace_id, a))}


async def _list_participants(c: Call, a: ListParticipants) -> dict[str, Any]:
    page = await participants.list_participants(
        c.db,
        c.workspace_id,
        a.paging(),
        template_id=a.evaluation_template_id,
        status=a.status,
        email=a.email,
        external_id=a.external_id,
        tag=a.tag,
        q=a.q,
    )
    return listing(page, participants.to_read)


async def _create_participant(c: Call, a: ParticipantCreate) -> dict[str, Any]:
    participant = await participants.create(
        c.db, c.workspace_id, a, allow_private=c.state.settings.allow_private_urls
    )
    return {"data": participants.to_read(participant)}


async def _schedule_session(c: Call, a: ScheduleSession) -> dict[str, Any]:
    session, external_id, replayed = await sessions.schedule(c.db, c.workspace_id, a.body(), c.deps)
    read = sessions.to_read(session, external_id, c.deps)
    if not a.dry_run:
        return {"data": SessionCreated(**read.model_dump(), idempotent=replayed)}
    if replayed:
        preview: dict[str, Any] = {"dry_run": True, "would_create": False, "idempotent": True}
        preview["session"] = read.model_dump(mode="json", exclude_unset=True)
        return Raw(data=preview)
    workspace = await workspaces.get_workspace_by_id(c.db, c.workspace_id)
    others = 0
    for status in sessions.OPEN:
        page = await sessions.list_sessions(
            c.db,
            c.workspace_id,
            PageRequest(page_size=1),
            candidate_id=session.participant_id,
            stage_id=session.evaluation_stage_id,
            status=status,
        )
        others += page.total
    would_be = read.model_dump(mode="json", exclude_unset=True)
    for key in ("id", "join_url", "transcript_url", "created_at", "updated_at"):
        would_be.pop(key, None)  # the session does not exist, so neither do these
    preview = {
        "dry_run": True,
        "would_create": True,
        "idempotent": False,
        "stage": {
            "evaluation_stage_id": str(session.evaluation_stage_id),
            "stage": session.stage,
            "stage_name": session.stage_name,
            "attempt": session.attempt,
        },
        "credits": {
            "plan": workspace.plan,
            "debited": session.credit_debited,
            # The balance here already has this session's credit taken off.
            "remaining_after": workspace.credits if workspace.plan == "credits" else None,
        },
        "duplicate_check": {
            "passed": True,
            "open_sessions_for_stage": others - 1,  # less the one this preview made
            "force": a.force,
        },
        "session": would_be,
    }
    # Everything schedule() wrote (session, event, email, key claim, credit) is undone.
    await c.db.rollback()
    return Raw(data=preview)


async def _list_sessions(c: Call, a: ListSessions) -> dict[str, Any]:
    page = await sessions.list_sessions(
        c.db,
        c.workspace_id,
        a.paging(),
        status=a.status,
        candidate_id=a.candidate_id,
        template_id=a.evaluation_template_id,
        stage_id=a.evaluation_stage_id,
        stage=a.stage,
        external_id=a.external_id,
        review_status=a.review_status,
        passed=a.passed,
        updated_since=a.updated_since,
    )
    return listing(page, lambda row: sessions.to_read(row[0], row[1], c.deps))


async def _get_session(c: Call, a: SessionRef) -> dict[str, Any]:
    session, external_id = await sessions.get(c.db, c.workspace_id, a.session_id)
    return {"data": sessions.to_read(session, external_id, c.deps)}


async def _get_scorecard(c: Call, a: SessionRef) -> dict[str, Any]:
    session, _ = await sessions.get(c.db, c.workspace_id, a.session_id)
    return {"data": await scoring.view(c.db, session)}


async def _cancel_session(c: Call, a: SessionRef) -> dict[str, Any]:
    session, external_id = await sessions.cancel(c.db, c.workspace_id, a.session_id, c.deps)
    return {"data": sessions.to_read(session, external_id, c.deps)}


async def _review_session(c: Call, a: ReviewSession) -> dict[str, Any]:
    session = await pipeline.review(
        c.db, c.workspace_id, a.session_id, a.decision, a.reason, c.principal.actor, c.deps
    )
    _, external_id = await sessions.get(c.db, c.workspace_id, session.id)
    return {"data": sessions.to_read(session, external_id, c.deps)}


async def _run_code(c: Call, a: CodeExecutionCreate) -> dict[str, Any]:
    data = await code_execution.execute(
        c.state.code_runner,
        a,
        max_memory_mb=c.state.settings.sandbox_max_memory_mb,
        unavailable=c.state.code_runner_error,
    )
    return {"data": data}


# ------------------------------------------------------------------ the catalogue

LIST_NOTE = "Results come in pages: `meta` has page, pageSize, total and totalPages."

TOOLS: tuple[ToolSpec, ...] = (
    ToolSpec(
        name="list_templates",
        title="List evaluation templates",
        description="List the workspace's evaluation templates (roles or programmes candidates are "
        "evaluated against), optionally filtered by status, use case or a name fragment. Read-only. "
        f"{LIST_NOTE} Next: get_template for one template's stage pipeline.",
        scopes=("evaluation_templates.read",),
        args=ListTemplates,
        run=_list_templates,
        response=ListResponse[TemplateRead],
        read_only=True,
    ),
    ToolSpec(
        name="get_template",
        title="Get an evaluation template",
        description="Get one evaluation template with its stages in pipeline order (each stage's id, "
        "type, stage_name, agent_profile_id and status). Read-only. Use a stage's `type` or "
        "`stage_name` as the `stage` of schedule_session.",
        scopes=("evaluation_templates.read",),
        args=TemplateRef,
        run=_get_template,
        response=DataResponse[TemplateDetail],
        read_only=True,
    ),
    ToolSpec(
        name="create_template",
        title="Create an evaluation template",
        description="Create an evaluation template: the role or programme (name, use case, skills, "
        "level, default duration and difficulty, language). Creates a new template each call. "
        "Next: create_stage to add its interview rounds, then create_participant for candidates.",
        scopes=("evaluation_templates.write",),
        args=TemplateCreate,
        run=_create_template,
        response=DataResponse[TemplateDetail],
    ),
    ToolSpec(
        name="create_stage",
        title="Add a stage to a template",
        description="Add one round (stage) to an evaluation template, e.g. type 'screen'. An AI stage "
        "needs an agent_profile_id (from list_agent_profiles or create_agent_profile) before sessions "
        "can be scheduled in it. Creates a new stage each call. Next: create_participant, then "
        "schedule_session with this stage's type as `stage`.",
        scopes=("evaluation_stages.write",),
        args=StageCreate,
        run=_create_stage,
        response=DataResponse[StageRead],
    ),
    ToolSpec(
        name="list_agent_profiles",
        title="List agent profiles",
        description="List the AI interviewers (agent profiles: persona, weighted rubric, tone, "
        "difficulty) of the workspace, or with public=true the public library. Read-only. "
        f"{LIST_NOTE} Use a profile's id as the agent_profile_id of create_stage.",
        scopes=("interviews.read",),
        args=ListAgentProfiles,
        run=_list_agent_profiles,
        response=ListResponse[AgentProfileRead],
        read_only=True,
    ),
    ToolSpec(
        name="create_agent_profile",
        title="Create an agent profile",
        description="Create an AI interviewer: name, persona, useCase, evaluationDimensions (weights "
        "must sum to 100) and interaction (tone, difficulty, probingDepth). Creates a new profile each "
        "call. Next: create_stage with its id as agent_profile_id.",
        scopes=("interviews.write",),
        args=AgentProfileCreate,
        run=_create_agent_profile,
        response=DataResponse[AgentProfileRead],
    ),
    ToolSpec(
        name="list_participants",
        title="List participants",
        description="List candidates (participants), filtered by template, status, email, "
        f"external_id, tag or a name/email fragment. Read-only. {LIST_NOTE} Use a participant's id as "
        "the candidate_id of schedule_session or list_sessions.",
        scopes=("candidates.read",),
        args=ListParticipants,
        run=_list_participants,
        response=ListResponse[ParticipantRead],
        read_only=True,
    ),
    ToolSpec(
        name="create_participant",
        title="Add a participant",
        description="Add a candidate to be evaluated against a template (name, email, "
        "evaluation_template_id; optional external_id, tags, profile, background, resume_url). The "
        "email is unique per template: a second one is a duplicate_participant conflict. A resume_url "
        "is fetched in the background. Next: schedule_session with the returned id as candidate_id.",
        scopes=("candidates.write",),
        args=ParticipantCreate,
        run=_create_participant,
        response=DataResponse[ParticipantRead],
        open_world=True,
    ),
    ToolSpec(
        name="schedule_session",
        title="Schedule an interview session",
        description="Schedule an AI interview for a participant in one stage of their template. The "
        "stage is found by label (type, then name, then a word of either, then the template's only "
        "stage); interview_id names a stage id directly. Side effects: creates the session, takes one "
        "credit on a credits plan, and emails the candidate their invite with the join link. Call "
        "first with dry_run=true to validate and preview the chosen stage, the credit and the "
        "duplicate check without creating anything. Pass an idempotency_key so a retry never "
        "schedules twice (a replay returns the same session with idempotent=true). Next: get_session "
        "to follow its status; get_scorecard once it is completed and scored.",
        scopes=("interviews.write",),
        args=ScheduleSession,
        run=_schedule_session,
        response=DataResponse[SessionCreated],
        exclude_unset=True,
        idempotent=True,
        open_world=True,
    ),
    ToolSpec(
        name="list_sessions",
        title="List sessions",
        description="List interview sessions, filtered by status, participant (candidate_id), "
        "template, stage, external_id, review_status, passed or updated_since. Read-only. "
        f"{LIST_NOTE}",
        scopes=("interviews.read",),
        args=ListSessions,
        run=_list_sessions,
        response=ListResponse[SessionRead],
        exclude_unset=True,
        read_only=True,
    ),
    ToolSpec(
        name="get_session",
        title="Get a session",
        description="Get one interview session: status (scheduled, in_progress, completed, failed, "
        "cancelled), join_url while open, invite_status, and once scored the score, passed, "
        "recommendation and summary. Read-only. Next: get_scorecard for the per-dimension breakdown; "
        "review_session when review_status is 'pending'.",
        scopes=("interviews.read",),
        args=SessionRef,
        run=_get_session,
        response=DataResponse[SessionRead],
        exclude_unset=True,
        read_only=True,
    ),
    ToolSpec(
        name="get_scorecard",
        title="Get a session's scorecard",
        description="Get the scorecard of a completed session: the score per evaluation dimension "
        "with evidence quoted from the transcript, the overall score, pass/fail and recommendation, "
        "which engine graded it, and earlier versions as history. Read-only. Until scoring has "
        "finished this is a not_scored error: check get_session's scored_at first.",
        scopes=("interviews.read",),
        args=SessionRef,
        run=_get_scorecard,
        response=DataResponse[dict[str, Any]],
        read_only=True,
    ),
    ToolSpec(
        name="cancel_session",
        title="Cancel a session",
        description="Cancel a scheduled session: its join link stops working, its credit is refunded "
        "and the candidate is emailed a cancellation. Only a session with status 'scheduled' can be "
        "cancelled; this cannot be undone (schedule a new session instead).",
        scopes=("interviews.write",),
        args=SessionRef,
        run=_cancel_session,
        response=DataResponse[SessionRead],
        exclude_unset=True,
        destructive=True,
        open_world=True,
    ),
    ToolSpec(
        name="review_session",
        title="Record a review decision",
        description="Approve or reject a session awaiting review (review_status 'pending'). approve "
        "advances the participant to the template's next stage (which may schedule it); reject needs "
        "a reason and ends their pipeline. The decision is final and recorded with this key as the "
        "reviewer.",
        # As POST /sessions/{id}/review for an API key: read the session, write the decision.
        scopes=("interviews.read", "interviews.write"),
        args=ReviewSession,
        run=_review_session,
        response=DataResponse[SessionRead],
        exclude_unset=True,
        destructive=True,
        open_world=True,
    ),
    ToolSpec(
        name="run_code",
        title="Run code against test cases",
        description="Run a python, javascript or typescript program in an isolated sandbox (no "
        "network, no host files) against up to 50 test cases, or once with `stdin`. With "
        "`entrypoint`, each test's `input` is a JSON array of the function's arguments and its "
        "`expected_output` the JSON value it must return; without, `input` is stdin and the trimmed "
        "stdout is compared. Returns each test's status (passed, failed, error, timeout, "
        "memory_limit), outputs (not for hidden tests) and timings. Stores nothing; the whole call "
        "is bounded at 15 s.",
        scopes=("interviews.write",),
        args=CodeExecutionCreate,
        run=_run_code,
        response=DataResponse[CodeExecutionRead],
        # Runs code only inside a throwaway sandbox: nothing of Viva's or the world changes.
        read_only=True,
    ),
)

BY_NAME: dict[str, ToolSpec] = {tool.name: tool for tool in TOOLS}
