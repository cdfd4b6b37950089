"""The interview snapshot is parsed in one place, with its defaults there."""

from __future__ import annotations

from viva.models import InterviewSession
from viva.sessions import snapshot


def test_a_snapshot_stored_without_optional_parts_reads_with_their_defaults() -> None:
    stored = {
        "profile": {"name": "P", "output": {"includeRecommendation": False}},
        "stage": {"duration_minutes": 20},
    }
    snap = snapshot.of(InterviewSession(interview_snapshot=stored))
    assert snap is not None
    assert (snap.organization, snap.seed, snap.resume_excerpts, snap.participant.name) == ("", 0, [], "")
    assert snap.duration_minutes == 20
    assert snap.output.include_recommendation is False and snap.output.include_transcript is True
    assert snapshot.InterviewSnapshot.model_validate(snap.to_data()) == snap


def test_no_snapshot_before_the_interview_and_every_part_shown() -> None:
    for stored in (None, {}):
        session = InterviewSession(interview_snapshot=stored)
        assert snapshot.of(session) is None
        flags = snapshot.output_flags(session)
        assert flags.include_transcript and flags.include_recommendation and flags.include_score_breakdown
