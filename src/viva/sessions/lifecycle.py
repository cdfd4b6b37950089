"""The only writer of a session's status and outcome (DESIGN.md "one owner per piece of state").

A session moves through SPEC §3.5's five statuses along the edges of `TRANSITIONS`; each edge
names the `end_reason`s it may carry. `review_status` moves along `REVIEW_TRANSITIONS`. Every
function here checks its move against those tables and refuses an illegal one with
`IllegalTransition` (409), so a caller cannot put a session into a state the SPEC has no word for.

What this module owns on `InterviewSession` ("status and outcome"):
- the status and its timing: `status`, `end_reason`, `started_at`, `ended_at`, `duration_seconds`;
- the scoring mirror of the current scorecard: `score`, `scale`, `score_percent`, `passed`,
  `recommendation`, `evaluation_breakdown`, `summary`, `improvement_feedback`, `scored_at`;
- the human decision: `review_status`, `review`.

Not owned here: what the room observes while the interview runs (authenticity signals, voice
metrics, last_seen_at, the turn lease, the snapshot: `sessions.live`), the invite and schedule
(`sessions.service`) and the recording (`recordings`).

The functions are pure (no I/O): services call them, then emit events and enqueue jobs.
Later capabilities (one-way assessments, practice attempts, holds) add their edges here.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from viva.errors import Conflict
from viva.kit import clock
from viva.models import InterviewSession

Status = Literal["scheduled", "in_progress", "completed", "failed", "cancelled"]
ReviewStatus = Literal["not_required", "pending", "approved", "rejected"]

OPEN: tuple[Status, ...] = ("scheduled", "in_progress")
TERMINAL: tuple[Status, ...] = ("completed", "failed", "cancelled")

# (from, to) -> the end_reasons that edge may carry (None: the session has not ended).
TRANSITIONS: dict[tuple[str, str], frozenset[str | None]] = {
    ("scheduled", "in_progress"): frozenset({None}),  # the candidate joined
    ("scheduled", "cancelled"): frozenset({"cancelled"}),  # POST /sessions/{id}/cancel
    ("scheduled", "failed"): frozenset({"expired"}),  # expires_at passed, nobody joined
    ("scheduled", "completed"): frozenset({"reviewed"}),  # a manual review stage was decided
    ("in_progress", "completed"): frozenset({"completed", "time_limit", "candidate_ended"}),
    ("in_progress", "failed"): frozenset({"abandoned", "provider_unavailable", "error"}),
}
# Edges only one kind of session takes: a review task has no interview; an interview ends by itself.
MANUAL_ONLY = frozenset({("scheduled", "completed")})
INTERVIEW_ONLY = frozenset(
    {("scheduled", "in_progress"), ("in_progress", "completed"), ("in_progress", "failed")}
)

REVIEW_TRANSITIONS: frozenset[tuple[ReviewStatus, ReviewStatus]] = frozenset(
    {
        ("not_required", "not_required"),  # scored under automation_rule none / auto_advance
        ("not_required", "pending"),  # scored under require_reviewer_approval
        ("pending", "approved"),
        ("pending", "rejected"),
    }
)

# SPEC §3.5 "a technical failure is not an attempt".
TECHNICAL_FAILURES = frozenset({"provider_unavailable", "error"})
FREE_ABANDONS_PER_STAGE = 1


class IllegalTransition(Conflict):
    """A status, review or outcome change the lifecycle tables do not allow (409)."""

    def __init__(self, message: str, *, code: str = "illegal_transition") -> None:
        super().__init__(message, code=code)


@dataclass(frozen=True)
class ScoreOutcome:
    """The current scorecard's figures as the session mirrors them (built by viva.scoring)."""

    score: float | None
    scale: str | None
    score_percent: float | None
    passed: bool | None
    recommendation: str | None
    evaluation_breakdown: list[dict[str, Any]]
    summary: str | None
    improvement_feedback: str | None


# ------------------------------------------------------------------ checks


def allowed(session: InterviewSession, to: str, end_reason: str | None = None) -> bool:
    """Whether `session` may move to status `to` with `end_reason`."""
    edge = (session.status, to)
    reasons = TRANSITIONS.get(edge)
    if reasons is None or end_reason not in reasons:
        return False
    if edge in MANUAL_ONLY and not session.manual:
        return False
    return not (edge in INTERVIEW_ONLY and session.manual)


def check(
    session: InterviewSession, to: str, end_reason: str | None = None, *, code: str | None = None
) -> None:
    """Raise `IllegalTransition` (with `code` when the caller has a more specific one) unless allowed."""
    if not allowed(session, to, end_reason):
        why = f" ({end_reason})" if end_reason else ""
        raise IllegalTransition(
            f"This session is {session.status}; it can't become {to}{why}",
            code=code or "illegal_transition",
        )


def _check_review(session: InterviewSession, to: str) -> None:
    if (session.review_status, to) not in REVIEW_TRANSITIONS:
        raise IllegalTransition(
            f"This session's review is {session.review_status}; it can't become {to}",
            code="review_not_pending",
        )


# ------------------------------------------------------------------ status


def initial(*, manual: bool = False) -> dict[str, Any]:
    """The lifecycle fields of a new session: `scheduled`, and a review task awaits its reviewer."""
    return {"status": "scheduled", "review_status": "pending" if manual else "not_required"}


def start(session: InterviewSession, now: datetime) -> None:
    """`scheduled → in_progress`: the candidate joined."""
    check(session, "in_progress", code="interview_closed")
    session.status = "in_progress"
    session.started_at = now


def end(session: InterviewSession, to: Status, end_reason: str, *, code: str | None = None) -> None:
    """Move to a terminal status with its `end_reason`, stamping `ended_at` (and the duration
    of an interview that started)."""
    check(session, to, end_reason, code=code)
    now = clock.now()
    session.status = to
    session.end_reason = end_reason
    session.ended_at = now
    if session.started_at is not None:
        session.duration_seconds = max(0, round((now - session.started_at).total_seconds()))


# ------------------------------------------------------------------ outcome


def record_score(session: InterviewSession, outcome: ScoreOutcome) -> bool:
    """Mirror the current scorecard on a completed interview. True for its first scoring."""
    if session.status != "completed" or session.manual:
        raise IllegalTransition("Only a completed interview can be scored", code="not_scorable")
    first = session.scored_at is None
    session.score = outcome.score
    session.scale = outcome.scale
    session.score_percent = outcome.score_percent
    session.passed = outcome.passed
    session.recommendation = outcome.recommendation
    session.evaluation_breakdown = outcome.evaluation_breakdown
    session.summary = outcome.summary
    session.improvement_feedback = outcome.improvement_feedback
    session.scored_at = clock.now()
    return first


def require_review(session: InterviewSession, required: bool) -> None:
    """After the first scoring: the stage's automation rule wants a reviewer (`pending`) or not."""
    to: ReviewStatus = "pending" if required else "not_required"
    _check_review(session, to)
    session.review_status = to


def record_review(session: InterviewSession, approved: bool, decision: dict[str, Any]) -> None:
    """A reviewer's decision on a session awaiting review. On a manual review stage the decision
    is the stage's outcome (`completed`/`reviewed`, `passed` = approved)."""
    to: ReviewStatus = "approved" if approved else "rejected"
    _check_review(session, to)
    if session.manual:
        end(session, "completed", "reviewed")
        session.passed = approved
    session.review = decision
    session.review_status = to


def note_on_review(session: InterviewSession, extra: dict[str, Any]) -> None:
    """Add what followed a decision (where the pipeline went) to the recorded review."""
    if session.review_status not in ("approved", "rejected"):
        raise IllegalTransition("This session has no review decision yet", code="review_not_pending")
    session.review = {**(session.review or {}), **extra}


# ------------------------------------------------------------------ attempts


def counted_attempts(sessions: Iterable[InterviewSession]) -> list[bool]:
    """For each of one participant's sessions of one stage (oldest first, cancelled ones left
    out), whether it counts as an attempt (SPEC §3.5): a technical failure never does; the first
    abandoned interview of the stage does not, later ones do."""
    counted: list[bool] = []
    abandons = 0
    for s in sessions:
        if s.status == "failed" and s.end_reason in TECHNICAL_FAILURES:
            counted.append(False)
        elif s.status == "failed" and s.end_reason == "abandoned":
            abandons += 1
            counted.append(abandons > FREE_ABANDONS_PER_STAGE)
        else:
            counted.append(True)
    return counted
