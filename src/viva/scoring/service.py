"""Scoring a session (SPEC §5): run the grader, keep every scorecard as history, mirror the
current one on the session, emit `session.scored`, then let the pipeline act (SPEC §6.1)."""

from __future__ import annotations

import dataclasses
import uuid
from typing import Any

import structlog
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from viva.errors import Conflict, NotFound
from viva.kit import clock
from viva.llm.base import ChatModel, LLMError
from viva.models import InterviewSession, Scorecard, TranscriptTurn
from viva.pipeline import service as pipeline
from viva.scoring import heuristic, llm_grader
from viva.scoring.rubric import CodeResultIn, OutputFlags, ScoringSpec, TranscriptTurnIn
from viva.scoring.rubric import Scorecard as ScorecardResult
from viva.sessions import lifecycle, live, snapshot
from viva.sessions import service as sessions

log = structlog.get_logger(__name__)


def spec_of(session: InterviewSession) -> ScoringSpec:
    """The rubric the candidate was interviewed against (the snapshot taken when they joined),
    with its bar (`ScoringSpec.from_data`: the stage's, the rubric's, else 70% of the scale)."""
    snap = snapshot.of(session)
    if snap is None:
        raise Conflict("Only a completed interview can be scored", code="not_scorable")
    return ScoringSpec.from_data(profile=snap.profile, template=snap.template, stage=snap.stage)


def output_flags(session: InterviewSession) -> OutputFlags:
    """The profile's `output` flags for this session (all true when it was never interviewed)."""
    return snapshot.output_flags(session)


@dataclasses.dataclass(frozen=True)
class GradingInputs:
    """What the grader reads: the transcript, and the tests the candidate's code passed."""

    turns: list[TranscriptTurnIn]
    code_results: list[CodeResultIn]


def code_results_of(stored: list[TranscriptTurn]) -> list[CodeResultIn]:
    """Per coding task, the candidate's last submission, else their last run of the visible tests."""
    latest: dict[str, tuple[int, CodeResultIn]] = {}
    for t in stored:
        if t.event not in ("code_run", "code_submit") or not isinstance(t.data, dict):
            continue
        task = str(t.data.get("task_id") or "")
        rank = 1 if t.event == "code_submit" else 0
        if task in latest and latest[task][0] > rank:
            continue
        result = CodeResultIn(t.dimension, int(t.data.get("passed") or 0), int(t.data.get("total") or 0))
        latest[task] = (rank, result)
    return [result for _, result in latest.values()]


async def grade(
    session: InterviewSession, inputs: GradingInputs, chat_model: ChatModel | None
) -> ScorecardResult:
    spec = spec_of(session)
    turns, code = inputs.turns, inputs.code_results
    signals = session.authenticity_signals
    if chat_model is not None:
        snap = snapshot.of(session)
        name = snap.participant.name if snap else ""
        try:
            # Blind scoring: the name is redacted from the transcript; email is never sent.
            return await llm_grader.grade(
                chat_model,
                spec,
                turns,
                code_results=code,
                authenticity_signals=signals,
                redact=[p for p in name.split() if p],
            )
        except (LLMError, llm_grader.GraderOutputError) as error:
            log.warning(
                "LLM grader failed; heuristic scorecard instead", session_id=str(session.id), error=str(error)
            )
            card = heuristic.grade(spec, turns, code_results=code, authenticity_signals=signals)
            card.summary = f"{card.summary} (Scored by the built-in heuristic: the language model failed.)"
            return card
    return heuristic.grade(spec, turns, code_results=code, authenticity_signals=signals)


async def grading_inputs(db: AsyncSession, session: InterviewSession) -> GradingInputs:
    """The transcript and code results as the grader sees them; 409 unless the session is a
    completed interview."""
    if session.status != "completed" or session.manual or snapshot.of(session) is None:
        raise Conflict("Only a completed interview can be scored", code="not_scorable")
    stored = await live.transcript(db, session)
    return GradingInputs(
        [TranscriptTurnIn(t.seq, t.speaker, t.kind, t.text, t.dimension) for t in stored],
        code_results_of(stored),
    )


async def score(
    db: AsyncSession,
    session: InterviewSession,
    deps: sessions.Deps,
    chat_model: ChatModel | None,
    reason: str,
) -> Scorecard:
    """Grade and store in one transaction: for the built-in grader, which takes milliseconds.
    With a language model, read with `grading_inputs`, end the transaction, `grade`, then `store`."""
    card = await grade(session, await grading_inputs(db, session), chat_model)
    return await store(db, session, card, deps, reason)


async def store(
    db: AsyncSession, session: InterviewSession, card: ScorecardResult, deps: sessions.Deps, reason: str
) -> Scorecard:
    """Keep `card` as the session's current scorecard (earlier ones stay as history), mirror it on
    the session and emit `session.scored`. The first scoring applies the stage's automation; a
    rescore only replaces the scorecard and does not re-run the pipeline."""
    previous = await db.scalar(
        select(Scorecard.version)
        .where(Scorecard.session_id == session.id, Scorecard.workspace_id == session.workspace_id)
        .order_by(Scorecard.version.desc())
        .limit(1)
    )
    await db.execute(
        update(Scorecard)
        .where(Scorecard.session_id == session.id, Scorecard.workspace_id == session.workspace_id)
        .values(current=False)
    )
    row = Scorecard(
        session_id=session.id,
        version=(previous or 0) + 1,
        current=True,
        reason=reason,
        engine=card.engine.model_dump(mode="json"),
        data=card.model_dump(mode="json"),
    )
    row.workspace_id = session.workspace_id
    db.add(row)
    first = lifecycle.record_score(
        session,
        lifecycle.ScoreOutcome(
            score=card.score,
            scale=card.scale,
            score_percent=card.score_percent,
            passed=card.passed,
            recommendation=card.recommendation,
            evaluation_breakdown=[d.model_dump(mode="json") for d in card.dimensions],
            summary=card.summary,
            improvement_feedback=card.improvement_feedback,
        ),
    )
    await db.flush()
    await sessions.emit_event(
        db, "session.scored", session, deps, extra={"scorecard": card.render(output_flags(session))}
    )
    if first:
        await pipeline.after_scoring(db, session, deps)
    return row


async def rescore(
    db: AsyncSession,
    workspace_id: uuid.UUID,
    session_id: uuid.UUID,
    deps: sessions.Deps,
    chat_model: ChatModel | None,
) -> InterviewSession:
    """Score a scored session again with the current engine (POST /sessions/{id}/rescore and the
    dashboard); the earlier scorecard stays as history and the pipeline is not re-run.

    The one service that ends its caller's transaction: grading with a language model takes
    seconds, and on SQLite an open transaction holds the only write lock. The checks run in the
    caller's transaction, the storing in a new one, which the caller's boundary commits."""
    session, _ = await sessions.get(db, workspace_id, session_id)
    if session.scored_at is None:
        raise Conflict("The first scoring has not finished yet", code="not_scored")
    inputs = await grading_inputs(db, session)
    await db.commit()
    card = await grade(session, inputs, chat_model)
    session, _ = await sessions.get(db, workspace_id, session_id)
    await store(db, session, card, deps, "rescore")
    return session


async def current(db: AsyncSession, session: InterviewSession) -> tuple[Scorecard, list[Scorecard]]:
    """The current scorecard and the earlier ones (newest first); 404 `not_scored` until ready."""
    rows = list(
        (
            await db.scalars(
                select(Scorecard)
                .where(Scorecard.session_id == session.id, Scorecard.workspace_id == session.workspace_id)
                .order_by(Scorecard.version.desc())
            )
        ).all()
    )
    now = next((r for r in rows if r.current), None)
    if now is None:
        raise NotFound("Scorecard", code="not_scored")
    return now, [r for r in rows if r is not now]


def render(row: Scorecard, flags: OutputFlags) -> dict[str, Any]:
    """A stored scorecard as the API shows it, with the profile's output flags applied."""
    body = ScorecardResult.model_validate(row.data).render(flags)
    return {
        "version": row.version,
        "reason": row.reason,
        "created_at": clock.isoformat(row.created_at),
        **body,
    }


async def view(db: AsyncSession, session: InterviewSession) -> dict[str, Any]:
    """`GET /sessions/{id}/scorecard`: the current scorecard and a summary of earlier versions,
    each with the engine that produced it; the profile's output flags apply to both."""
    row, earlier = await current(db, session)
    flags = output_flags(session)
    kept = ("score", "score_percent", "passed") + (
        ("recommendation",) if flags.include_recommendation else ()
    )
    history = [
        {
            "version": r.version,
            "reason": r.reason,
            "created_at": clock.isoformat(r.created_at),
            "engine": r.engine,
        }
        | {k: r.data.get(k) for k in kept}
        for r in earlier
    ]
    return {"session_id": str(session.id), **render(row, flags), "history": history}
