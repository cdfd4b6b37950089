"""The session lifecycle's tables (sessions/lifecycle.py) and the rule that nothing else writes
a session's status or outcome."""

from __future__ import annotations

import ast
import itertools
from datetime import timedelta
from pathlib import Path

import pytest

from viva.kit import clock
from viva.models import InterviewSession
from viva.sessions import lifecycle

STATUSES = ("scheduled", "in_progress", "completed", "failed", "cancelled")
REASONS = sorted({r for reasons in lifecycle.TRANSITIONS.values() for r in reasons if r} | {"nonsense"})
REVIEW = ("not_required", "pending", "approved", "rejected")


def session(
    status: str = "scheduled", *, manual: bool = False, review: str = "not_required"
) -> InterviewSession:
    return InterviewSession(status=status, manual=manual, review_status=review, started_at=None)


def legal(frm: str, to: str, reason: str | None, manual: bool) -> bool:
    reasons = lifecycle.TRANSITIONS.get((frm, to))
    if reasons is None or reason not in reasons:
        return False
    if manual:
        return (frm, to) not in lifecycle.INTERVIEW_ONLY
    return (frm, to) not in lifecycle.MANUAL_ONLY


def test_the_table_covers_the_spec_lifecycle() -> None:
    edges = set(lifecycle.TRANSITIONS)
    assert edges == {
        ("scheduled", "in_progress"),
        ("scheduled", "cancelled"),
        ("scheduled", "failed"),
        ("scheduled", "completed"),
        ("in_progress", "completed"),
        ("in_progress", "failed"),
    }
    # Terminal sessions never change status again (SPEC §3.5).
    assert not any(frm in lifecycle.TERMINAL for frm, _ in edges)


@pytest.mark.parametrize("manual", [False, True])
def test_every_legal_move_is_applied_and_every_illegal_one_raises(manual: bool) -> None:
    for frm, to, reason in itertools.product(STATUSES, STATUSES, [None, *REASONS]):
        s = session(frm, manual=manual)
        s.started_at = clock.now() - timedelta(minutes=3) if frm == "in_progress" else None
        ok = legal(frm, to, reason, manual)
        assert lifecycle.allowed(s, to, reason) is ok, (frm, to, reason, manual)
        if to == "in_progress" and reason is None:
            if ok:
                lifecycle.start(s, clock.now())
                assert s.status == "in_progress" and s.started_at is not None
            else:
                with pytest.raises(lifecycle.IllegalTransition) as raised:
                    lifecycle.start(s, clock.now())
                assert raised.value.status == 409 and s.status == frm
            continue
        if ok:
            assert reason is not None
            lifecycle.end(s, to, reason)  # type: ignore[arg-type]
            assert (s.status, s.end_reason) == (to, reason) and s.ended_at is not None
            if frm == "in_progress":
                assert s.duration_seconds is not None and 170 <= s.duration_seconds <= 190
        elif reason is not None and to != "in_progress":
            with pytest.raises(lifecycle.IllegalTransition) as raised:
                lifecycle.end(s, to, reason)  # type: ignore[arg-type]
            assert raised.value.status == 409 and raised.value.code == "illegal_transition"
            assert s.status == frm and s.end_reason is None and s.ended_at is None


def test_review_moves_follow_their_table() -> None:
    for frm, to in itertools.product(REVIEW, REVIEW):
        s = session("completed", review=frm)
        ok = (frm, to) in lifecycle.REVIEW_TRANSITIONS
        if to in ("approved", "rejected"):
            if ok:
                lifecycle.record_review(s, to == "approved", {"decision": to})
                assert s.review_status == to and s.review == {"decision": to}
            else:
                with pytest.raises(lifecycle.IllegalTransition):
                    lifecycle.record_review(s, to == "approved", {"decision": to})
                assert s.review_status == frm and s.review is None
        else:
            if ok:
                lifecycle.require_review(s, to == "pending")
                assert s.review_status == to
            else:
                with pytest.raises(lifecycle.IllegalTransition):
                    lifecycle.require_review(s, to == "pending")
                assert s.review_status == frm


def test_a_manual_review_decision_is_the_stage_outcome() -> None:
    s = session("scheduled", manual=True, review="pending")
    lifecycle.record_review(s, False, {"decision": "reject"})
    assert (s.status, s.end_reason, s.passed, s.review_status) == ("completed", "reviewed", False, "rejected")


def test_only_a_completed_interview_takes_a_score() -> None:
    outcome = lifecycle.ScoreOutcome(7.5, "10", 75.0, True, "hire", [], "ok", "more tests")
    for status in STATUSES:
        s = session(status)
        if status == "completed":
            assert lifecycle.record_score(s, outcome) is True
            assert (s.score, s.passed, s.recommendation) == (7.5, True, "hire") and s.scored_at is not None
            assert lifecycle.record_score(s, outcome) is False  # a rescore
        else:
            with pytest.raises(lifecycle.IllegalTransition):
                lifecycle.record_score(s, outcome)
            assert s.score is None
    with pytest.raises(lifecycle.IllegalTransition):
        lifecycle.record_score(session("completed", manual=True), outcome)


def test_technical_failures_and_the_first_walk_out_are_not_attempts() -> None:
    def ended(reason: str, status: str = "failed") -> InterviewSession:
        s = session(status)
        s.end_reason = reason
        return s

    history = [
        ended("provider_unavailable"),
        ended("error"),
        ended("abandoned"),
        ended("abandoned"),
        ended("time_limit", "completed"),
        ended("expired"),
        session("scheduled"),
    ]
    assert lifecycle.counted_attempts(history) == [False, False, False, True, True, True, True]


# ------------------------------------------------------------------ one writer

SRC = Path(__file__).resolve().parents[2] / "src" / "viva"
OWNER = SRC / "sessions" / "lifecycle.py"
# Names only InterviewSession has: any assignment to them is a write of the session.
ONLY_SESSIONS = {
    "end_reason",
    "review_status",
    "started_at",
    "ended_at",
    "duration_seconds",
    "score_percent",
    "recommendation",
    "evaluation_breakdown",
    "improvement_feedback",
    "scored_at",
}
# Names other objects have too (a delivery's status, a grader's card.summary): a write when the
# object is named like a session.
SHARED = {"status", "passed", "score", "scale", "summary", "review"}
OWNED = ONLY_SESSIONS | SHARED


def _names_a_session(node: ast.expr) -> bool:
    text = ast.unparse(node).lower()
    return "session" in text or text in ("s", "row", "found")


def _writes(tree: ast.AST) -> list[tuple[int, str]]:
    found: list[tuple[int, str]] = []

    def target(t: ast.expr) -> None:
        if isinstance(t, ast.Tuple | ast.List):
            for e in t.elts:
                target(e)
        elif isinstance(t, ast.Attribute) and (
            t.attr in ONLY_SESSIONS or (t.attr in SHARED and _names_a_session(t.value))
        ):
            found.append((t.lineno, ast.unparse(t)))

    for node in ast.walk(tree):
        if isinstance(node, ast.Assign):
            for t in node.targets:
                target(t)
        elif isinstance(node, ast.AugAssign | ast.AnnAssign):
            target(node.target)
        elif isinstance(node, ast.Call):
            called = ast.unparse(node.func)
            # InterviewSession(status=...), update(InterviewSession).values(...), setattr(s, "status", ...)
            if called == "InterviewSession" or (
                called.endswith(".values") and "InterviewSession" in ast.unparse(node.func)
            ):
                found += [(node.lineno, f"{called}({k.arg}=)") for k in node.keywords if k.arg in OWNED]
            if (
                called == "setattr"
                and len(node.args) > 1
                and isinstance(node.args[1], ast.Constant)
                and node.args[1].value in OWNED
            ):
                found.append((node.lineno, f"setattr(..., {node.args[1].value!r})"))
    return found


def test_only_the_lifecycle_writes_a_sessions_status_and_outcome() -> None:
    offenders = [
        f"{path.relative_to(SRC)}:{line}: {what}"
        for path in sorted(SRC.rglob("*.py"))
        if path != OWNER and "sandbox/harness" not in path.as_posix()
        for line, what in _writes(ast.parse(path.read_text(), str(path)))
    ]
    assert offenders == [], "write these through viva.sessions.lifecycle:\n" + "\n".join(offenders)


def test_the_guard_sees_each_kind_of_write() -> None:
    sample = """
session.status = "failed"
s.end_reason, s.ended_at = "x", now
self.session.passed = True
session.score += 1
InterviewSession(status="scheduled")
update(InterviewSession).values(review_status="pending")
setattr(session, "summary", "")
delivery.status = "failed"
card.summary = "fine"
"""
    assert [w for _, w in _writes(ast.parse(sample))] == [
        "session.status",
        "s.end_reason",
        "s.ended_at",
        "self.session.passed",
        "session.score",
        "InterviewSession(status=)",
        "update(InterviewSession).values(review_status=)",
        "setattr(..., 'summary')",
    ]
