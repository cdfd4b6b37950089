from __future__ import annotations

from collections import Counter
from typing import Any

import pytest

from tests.interview.helpers import (
    ADEQUATE,
    INJECTION,
    STRONG,
    WEAK,
    Answer,
    config,
    simulate,
    time_per_dimension,
)
from viva.interview.core import (
    Ask,
    End,
    FollowUp,
    InterviewConfig,
    Move,
    PoseCodingTask,
    Respond,
    Turn,
    Wait,
    WrapUp,
    assess_answer,
    budgets,
    decide,
    planned_questions,
)


def const(text: str) -> Answer:
    return lambda move, n: text


def test_first_move_is_intro_with_persona_then_first_question() -> None:
    cfg = config()
    move = decide(cfg, [], 0.0)
    assert isinstance(move, Ask)
    assert cfg.persona in move.intro
    assert "Grace" in move.intro
    assert move.dimension == "Technical knowledge"
    assert move.question


def test_full_run_covers_every_dimension_in_proportion_to_weight() -> None:
    cfg = config()
    transcript, moves, end = simulate(cfg, const(ADEQUATE))
    spans = time_per_dimension(transcript, end)
    assert set(spans) == {d.name for d in cfg.dimensions}
    total = sum(spans.values())
    for d in cfg.dimensions:
        share = spans[d.name] / total
        assert abs(share - d.weight / 100) < 0.08, (d.name, share)
    assert isinstance(moves[-1], End) and moves[-1].reason == "completed"


@pytest.mark.parametrize("answer", [STRONG, ADEQUATE, WEAK, INJECTION])
def test_wrap_up_near_90_percent_and_end_by_hard_stop(answer: str) -> None:
    cfg = config()
    # At a human pace (about 2.5 min per exchange) the plan lasts the whole interview.
    transcript, moves, end = simulate(cfg, const(answer), answer_seconds=140.0)
    wrap = [t for t in transcript if t.kind == "wrap_up"]
    assert len(wrap) == 1
    assert 0.8 * cfg.duration_seconds <= wrap[0].at_seconds <= 0.9 * cfg.duration_seconds + 160
    assert end <= cfg.duration_seconds + 120
    assert sum(isinstance(m, WrapUp) for m in moves) == 1


def test_a_fast_candidate_gets_every_planned_question_then_an_early_wrap_up() -> None:
    cfg = config()
    transcript, moves, end = simulate(cfg, const(STRONG), answer_seconds=20.0)
    wrap = [t for t in transcript if t.kind == "wrap_up"]
    assert len(wrap) == 1 and wrap[0].at_seconds < 0.5 * cfg.duration_seconds
    asked = Counter(t.dimension for t in transcript if t.kind in ("question", "coding_task"))
    assert asked == Counter(planned_questions(cfg))
    assert isinstance(moves[-1], End) and moves[-1].reason == "completed"


def test_hard_stop_when_wrap_up_is_never_answered() -> None:
    cfg = config()
    wrap = Turn("interviewer", "We are close to the end.", 1620.0, None, "wrap_up")
    assert decide(cfg, [wrap], 1700.0) == Wait(until_seconds=1920.0)
    assert decide(cfg, [wrap], 1920.0) == End("time_limit")
    assert decide(cfg, [], 1920.0) == End("time_limit")
    answered = [wrap, Turn("candidate", "No questions, thanks.", 1650.0)]
    assert decide(cfg, answered, 1660.0) == End("completed")


def test_waits_while_the_candidate_has_the_floor() -> None:
    cfg = config()
    q = Turn("interviewer", "Question?", 0.0, "Technical knowledge", "question")
    assert decide(cfg, [q], 30.0) == Wait(until_seconds=0.9 * cfg.duration_seconds)
    assert isinstance(decide(cfg, [q], 0.9 * cfg.duration_seconds), WrapUp)


def count_follow_ups(depth: str, answer: str) -> int:
    cfg = config(**{"profile.interaction.probingDepth": depth})
    _, moves, _ = simulate(cfg, const(answer))
    return sum(isinstance(m, FollowUp) for m in moves)


def test_probing_depth_high_probes_more_than_low() -> None:
    vague = "I would look at the code and the logs and then try to fix whatever seems wrong in there."
    low, medium, high = (count_follow_ups(d, vague) for d in ("low", "medium", "high"))
    assert low == 0  # low probes only very thin answers
    assert 0 < medium < high
    assert count_follow_ups("low", WEAK) > 0
    assert count_follow_ups("high", STRONG) == 0


def test_follow_ups_per_answer_limited_by_depth() -> None:
    for depth, limit in (("low", 1), ("medium", 1), ("high", 2)):
        cfg = config(**{"profile.interaction.probingDepth": depth})
        transcript, _, _ = simulate(cfg, const(WEAK))
        run = longest = 0
        for t in transcript:
            if t.speaker != "interviewer":
                continue
            run = run + 1 if t.kind == "follow_up" else 0
            longest = max(longest, run)
        assert longest == limit, depth


def asked_levels(answer: str, difficulty: str = "adaptive", stage: str = "intermediate") -> list[str]:
    cfg = config(**{"profile.interaction.difficulty": difficulty, "stage.difficulty": stage})
    _, moves, _ = simulate(cfg, const(answer))
    return [m.difficulty for m in moves if isinstance(m, Ask)]


def test_adaptive_difficulty_goes_up_after_strong_and_down_after_weak() -> None:
    up = asked_levels(STRONG)
    assert up[0] == "medium" and up[1] == "hard" and up[-1] == "hard"
    down = asked_levels(WEAK)
    assert down[0] == "medium" and down[-1] == "easy"
    assert set(asked_levels(ADEQUATE)) == {"medium"}
    assert asked_levels(ADEQUATE, stage="expert")[0] == "hard"
    assert asked_levels(ADEQUATE, stage="beginner")[0] == "easy"


def test_adaptive_mixed_answers_follow_the_last_answers() -> None:
    script = [STRONG, STRONG, WEAK, WEAK, WEAK]
    cfg = config(**{"profile.interaction.difficulty": "adaptive", "profile.interaction.probingDepth": "low"})
    _, moves, _ = simulate(cfg, lambda m, n: script[n] if n < len(script) else ADEQUATE)
    levels = [m.difficulty for m in moves if isinstance(m, Ask)]
    # strong, strong → hard; weak answer and weak follow-up answer → two steps down
    assert levels[:4] == ["medium", "hard", "hard", "easy"]


@pytest.mark.parametrize("level", ["easy", "medium", "hard"])
def test_fixed_difficulty_is_kept(level: str) -> None:
    assert set(asked_levels(STRONG, difficulty=level)) == {level}
    assert set(asked_levels(WEAK, difficulty=level)) == {level}


def test_injection_is_a_weak_answer_and_changes_nothing() -> None:
    a = assess_answer(INJECTION)
    assert a.off_topic and a.strength == "weak" and not a.has_numbers
    cfg = config(**{"profile.interaction.difficulty": "adaptive"})
    first = decide(cfg, [], 0.0)
    assert isinstance(first, Ask)
    base = [Turn("interviewer", first.question, 0.0, first.dimension, "question")]
    after_injection = decide(cfg, [*base, Turn("candidate", INJECTION, 30.0)], 60.0)
    after_weak = decide(cfg, [*base, Turn("candidate", WEAK, 30.0)], 60.0)
    assert not isinstance(after_injection, End | WrapUp)
    assert type(after_injection) is type(after_weak)
    assert isinstance(after_injection, FollowUp) and isinstance(after_weak, FollowUp)
    assert after_injection.dimension == after_weak.dimension

    # A whole interview of injections plays out exactly like a whole interview of weak answers.
    def plan(moves: list[Move]) -> list[tuple[str, str | None, str | None]]:
        return [
            (type(m).__name__, getattr(m, "dimension", None), getattr(m, "difficulty", None)) for m in moves
        ]

    _, inj_moves, inj_end = simulate(cfg, const(INJECTION))
    _, weak_moves, weak_end = simulate(cfg, const(WEAK))
    assert plan(inj_moves) == plan(weak_moves)
    assert inj_end == weak_end
    assert inj_moves[-1] == End("completed")


def test_budgets_follow_weights() -> None:
    cfg = config()
    b = budgets(cfg)
    assert b["Technical knowledge"] == pytest.approx(1800 * 0.40 * 0.85)
    assert b["Teamwork"] == pytest.approx(1800 * 0.10 * 0.85)


def test_short_interview_still_covers_every_dimension() -> None:
    dims = [
        {"name": f"Area {i}", "description": "general", "weight": w} for i, w in enumerate([70, 10, 10, 10])
    ]
    cfg = config(**{"profile.evaluationDimensions": dims, "stage.duration_minutes": 5})
    transcript, _, end = simulate(cfg, const(ADEQUATE), answer_seconds=30)
    covered = {t.dimension for t in transcript if t.kind == "question"}
    assert covered == {d["name"] for d in dims}
    assert end <= cfg.duration_seconds + 120


def test_coding_task_only_for_technical_stage_with_code_dimension() -> None:
    dims = [
        {"name": "Coding", "description": "Writes correct, clean programs", "weight": 60},
        {"name": "Communication", "description": "Explains clearly", "weight": 40},
    ]
    technical = config(**{"profile.evaluationDimensions": dims, "stage.stage_name": "Technical interview"})
    _, moves, _ = simulate(technical, const(ADEQUATE))
    tasks = [m for m in moves if isinstance(m, PoseCodingTask)]
    assert len(tasks) == 1 and tasks[0].dimension == "Coding" and tasks[0].task

    screen = config(**{"profile.evaluationDimensions": dims, "stage.stage_name": "Screen"})
    _, moves, _ = simulate(screen, const(ADEQUATE))
    assert not any(isinstance(m, PoseCodingTask) for m in moves)

    # Code-oriented skills on a technical stage give the technical dimension a task.
    skills = config(**{"stage.stage_name": "Technical", "template.skills": ["Python programming", "SQL"]})
    _, moves, _ = simulate(skills, const(ADEQUATE))
    assert [m.dimension for m in moves if isinstance(m, PoseCodingTask)] == ["Technical knowledge"]

    # A technical stage whose rubric and skills say nothing about code poses no task.
    nocode = config(**{"stage.stage_name": "Technical", "template.skills": ["Negotiation"]})
    _, moves, _ = simulate(nocode, const(ADEQUATE))
    assert not any(isinstance(m, PoseCodingTask) for m in moves)


def test_deterministic_and_seeded() -> None:
    a = simulate(config(), const(ADEQUATE))[1]
    b = simulate(config(), const(ADEQUATE))[1]
    assert a == b
    seeds = {
        tuple(
            m.question
            for m in simulate(InterviewConfig.from_data(**_seeded(s)), const(ADEQUATE))[1]
            if isinstance(m, Ask)
        )
        for s in range(6)
    }
    assert len(seeds) > 1


def _seeded(seed: int) -> dict[str, Any]:
    from tests.interview.helpers import data

    return {**data(), "seed": seed}


def test_no_repeated_questions_in_a_run() -> None:
    _, moves, _ = simulate(config(), const(ADEQUATE))
    qs = [m.question for m in moves if isinstance(m, Ask)]
    assert len(qs) == len(set(qs))


def test_resume_excerpt_is_used() -> None:
    _, moves, _ = simulate(config(), const(ADEQUATE))
    assert any(
        "on your resume" in m.question and "payments API" in m.question for m in moves if isinstance(m, Ask)
    )


def test_from_data_defaults() -> None:
    cfg = InterviewConfig.from_data(
        profile={"persona": "Hi", "evaluationDimensions": [{"name": "A", "weight": 100}]}
    )
    assert cfg.interaction.tone == "professional" and cfg.interaction.probing_depth == "medium"
    assert cfg.stage.duration_minutes == 30 and cfg.template.language == "en"
    with pytest.raises(ValueError):
        InterviewConfig.from_data(profile={"persona": "Hi", "evaluationDimensions": []})


@pytest.mark.parametrize(
    ("text", "strength"),
    [(STRONG, "strong"), (ADEQUATE, "adequate"), (WEAK, "weak"), ("", "weak"), (INJECTION, "weak")],
)
def test_assess_answer(text: str, strength: str) -> None:
    assert assess_answer(text).strength == strength


# --- the interviewer listens (issue 16) -------------------------------------------------------


@pytest.mark.parametrize("text", ["I don't know", "Can we skip this one?"])
def test_a_candidate_who_always_passes_gets_every_dimension_and_no_probe(text: str) -> None:
    cfg = config()
    transcript, moves, _ = simulate(cfg, const(text))
    assert not any(isinstance(m, FollowUp) for m in moves)
    asked = {t.dimension for t in transcript if t.kind in ("question", "coding_task")}
    assert asked == {d.name for d in cfg.dimensions}
    assert isinstance(moves[-1], End) and moves[-1].reason == "completed"


def test_a_candidate_who_only_asks_for_repeats_still_finishes() -> None:
    transcript, moves, _ = simulate(config(), const("Sorry, could you repeat the question?"))
    assert isinstance(moves[-1], End)
    replies = [t for t in transcript if t.kind == "reply"]
    assert replies and all(t.text.startswith("Of course, let me repeat it.") for t in replies)


def test_a_question_is_answered_from_the_best_matching_context_sentence() -> None:
    cfg = config(
        **{
            "profile.context": {
                "organizationContext": "We are a bank in Porto. "
                "Our data team runs the fraud models day to day."
            }
        }
    )
    said = decide(
        cfg,
        [
            Turn(
                "interviewer", "Tell me about a system you designed.", 0.0, cfg.dimensions[0].name, "question"
            ),
            Turn("candidate", "What does the data team do day to day?", 20.0),
        ],
        30.0,
    )
    assert isinstance(said, Respond) and said.then is None
    assert said.text == (
        "Good question. Our data team runs the fraud models day to day. "
        "Now, back to my question: Tell me about a system you designed."
    )
