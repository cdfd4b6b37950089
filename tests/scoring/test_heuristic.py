"""The built-in heuristic grader ranks scripted candidates the way a reader would."""

from __future__ import annotations

import re

import pytest

from tests.interview.helpers import STRONG
from tests.scoring.helpers import play, spec
from viva.scoring import heuristic, quotes, rubric
from viva.scoring.rubric import CodeResultIn, DimensionSpec, ScoringSpec, TranscriptTurnIn

SEEDS = (0, 1, 2)


def sentences(text: str) -> int:
    return len([s for s in re.split(r"(?<=[.!?])\s+(?=[A-Z0-9])", text.strip()) if s])


@pytest.fixture(scope="module")
def cards() -> dict[tuple[str, int], rubric.Scorecard]:
    return {
        (persona, seed): heuristic.grade(spec(), play(persona, seed))
        for persona in ("strong", "average", "weak", "evasive", "injection")
        for seed in SEEDS
    }


@pytest.mark.parametrize("seed", SEEDS)
def test_strong_above_average_above_weak(cards: dict[tuple[str, int], rubric.Scorecard], seed: int) -> None:
    strong, average, weak = (cards[(p, seed)] for p in ("strong", "average", "weak"))
    assert strong.score > average.score > weak.score
    assert strong.score_percent >= 75 and rubric.band(strong.score, "0-10") == "strong"
    assert 30 <= average.score_percent < 65
    assert weak.score_percent <= rubric.CAP_PERCENT and weak.capped is not None and weak.passed is False
    # Per dimension too, not only overall.
    for s, a, w in zip(strong.dimensions, average.dimensions, weak.dimensions, strict=True):
        assert s.score is not None and a.score is not None and w.score is not None
        assert s.score > a.score > w.score, s.name


@pytest.mark.parametrize("seed", SEEDS)
def test_evasive_and_injection_score_low(cards: dict[tuple[str, int], rubric.Scorecard], seed: int) -> None:
    average = cards[("average", seed)]
    evasive = cards[("evasive", seed)]
    injection = cards[("injection", seed)]
    assert evasive.score < average.score and evasive.score_percent < 30
    assert injection.score < average.score and injection.score_percent < 40
    assert any(heuristic.FLAG_INSTRUCTION in d.flags for d in injection.dimensions)
    assert "tried to instruct" in injection.summary
    assert all(heuristic.FLAG_INSTRUCTION not in d.flags for d in average.dimensions)


def test_full_interviews_cover_everything_and_are_labelled(
    cards: dict[tuple[str, int], rubric.Scorecard],
) -> None:
    for (persona, seed), sc in cards.items():
        assert sc.coverage == 1.0 and all(d.covered for d in sc.dimensions), (persona, seed)
        assert sc.engine == heuristic.ENGINE and sc.engine.method == "heuristic"
        assert sc.engine.model == "heuristic-v1" and sc.engine.provider == "builtin"
        assert sc.summary.startswith("Heuristic assessment")
        for d in sc.dimensions:
            assert 2 <= sentences(d.reasoning) <= 4, d.reasoning
            assert d.reasoning.startswith("Heuristic score")


def test_citations_are_verbatim_candidate_words(cards: dict[tuple[str, int], rubric.Scorecard]) -> None:
    for persona in ("strong", "average", "weak", "evasive", "injection"):
        turns = {t.seq: t for t in play(persona, 0)}
        for d in cards[(persona, 0)].dimensions:
            assert 1 <= len(d.citations) <= 2
            for c in d.citations:
                assert turns[c.turn].speaker == "candidate" and c.quote in turns[c.turn].text
                assert len(c.quote) <= heuristic.QUOTE_MAX_CHARS
            assert quotes.FLAG_INVENTED not in d.flags


def test_improvement_feedback_is_candidate_safe(cards: dict[tuple[str, int], rubric.Scorecard]) -> None:
    for sc in cards.values():
        feedback = sc.improvement_feedback.lower()
        assert feedback and not re.search(r"\d|score|hire|pass|fail|reject|heuristic|instruct", feedback), (
            feedback
        )
    assert "example" in cards[("weak", 0)].improvement_feedback.lower()


def test_two_answer_interview_is_capped() -> None:
    turns = [
        TranscriptTurnIn(
            1, "interviewer", "question", "Tell me about Python and databases.", "Technical knowledge"
        ),
        TranscriptTurnIn(2, "candidate", "answer", STRONG),
        TranscriptTurnIn(3, "interviewer", "question", "How do you break down problems?", "Problem solving"),
        TranscriptTurnIn(4, "candidate", "answer", STRONG),
    ]
    sc = heuristic.grade(spec(), turns)
    assert sc.capped is not None and sc.score <= rubric.cap_score("0-10") and sc.passed is False
    assert sc.recommendation == "no_hire"
    assert sc.coverage == 0.7 and [d.covered for d in sc.dimensions] == [True, True, False, False]
    uncovered = sc.dimensions[2]
    assert uncovered.score is None and "did not cover" in uncovered.reasoning and uncovered.citations == []
    assert "Communication" in sc.summary and "Teamwork" in sc.summary  # worth probing next


def test_uncovered_dimension_is_null_and_weights_renormalise() -> None:
    base = spec()
    extended = ScoringSpec(
        dimensions=(*base.dimensions, DimensionSpec("Leadership", "Leads a team through change", 25)),
        role=base.role,
    )
    turns = play("strong", 0)
    full = heuristic.grade(base, turns)
    partial = heuristic.grade(extended, turns)
    assert partial.dimensions[-1].score is None and partial.dimensions[-1].covered is False
    assert partial.coverage == round(100 / 125, 3)
    assert partial.score == full.score  # renormalised over the same covered dimensions


def test_grading_is_deterministic() -> None:
    turns = play("average", 5)
    assert heuristic.grade(spec(), turns) == heuristic.grade(spec(), turns)


CODING_ANSWER = (
    "First, I would check the edge cases: an empty list and duplicates. Then I would use a dictionary so "
    "each item is visited once, because that keeps it at O(n). Finally, I would test it with 3 examples."
)


def coding_turns() -> list[TranscriptTurnIn]:
    turns = [
        TranscriptTurnIn(1, "interviewer", "coding_task", "Write a function that groups anagrams.", "Coding"),
        TranscriptTurnIn(2, "candidate", "answer", CODING_ANSWER),
        TranscriptTurnIn(3, "system", "event", "code_run"),
    ]
    for i in range(3):
        turns += [
            TranscriptTurnIn(4 + 2 * i, "interviewer", "question", "Tell me about a project.", "Coding"),
            TranscriptTurnIn(5 + 2 * i, "candidate", "answer", STRONG),
        ]
    return turns


def test_code_results_count_for_the_coding_dimension() -> None:
    s = ScoringSpec(dimensions=(DimensionSpec("Coding", "Writes correct code", 100),))
    turns = coding_turns()
    none = heuristic.grade(s, turns)
    all_pass = heuristic.grade(s, turns, code_results=[CodeResultIn(None, 5, 5)])
    all_fail = heuristic.grade(s, turns, code_results=[CodeResultIn("Coding", 0, 5)])
    assert all_fail.score < none.score < all_pass.score
    assert "passed 5 of 5 tests" in all_pass.dimensions[0].reasoning
    assert "no code run was recorded" in none.dimensions[0].reasoning.lower()


def test_scale_follows_the_profile() -> None:
    turns = play("strong", 1)
    ten = heuristic.grade(spec(), turns)
    five = heuristic.grade(spec(**{"profile.scoring": {"scale": "0-5"}}), turns)
    hundred = heuristic.grade(spec(**{"profile.scoring": {"scale": "0-100"}}), turns)
    assert five.scale == "0-5" and hundred.scale == "0-100"
    assert (
        abs(five.score_percent - ten.score_percent) <= 2
        and abs(hundred.score_percent - ten.score_percent) <= 2
    )
    assert all(d.score is not None and d.score <= 5 for d in five.dimensions)


def test_thresholds_and_recommendation_come_from_the_rubric() -> None:
    s = spec(**{"stage": {"pass_threshold": 70}, "template.success_outcome": "pass_fail"})
    assert s.stage_pass_threshold == 70
    strong = heuristic.grade(s, play("strong", 0))
    average = heuristic.grade(s, play("average", 0))
    assert (strong.passed, strong.recommendation) == (True, "pass")
    assert (average.passed, average.recommendation) == (False, "fail")


def test_authenticity_signals_are_carried_over() -> None:
    signals = {"tab_switches": 3, "paste_events": {"chat": 1, "editor": 0}}
    sc = heuristic.grade(spec(), play("strong", 0), authenticity_signals=signals)
    assert sc.authenticity_signals == signals
