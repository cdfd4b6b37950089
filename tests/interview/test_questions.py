from __future__ import annotations

import itertools

import pytest

from tests.interview.helpers import ADEQUATE, STRONG, WEAK, config, const, simulate
from viva.interview import questions as qb
from viva.interview.core import Ask, Dimension, FollowUp, InterviewConfig

DIMENSIONS = [
    ("Coding", "Writes correct programs and algorithms"),
    ("System design", "Architecture and scalability"),
    ("Communication", "Explains clearly to stakeholders"),
    ("Teamwork", "Collaborates, leads and resolves conflict"),
    ("Problem solving", "Analytical reasoning"),
    ("Motivation", "Goals, values and learning"),
    ("Domain knowledge", "Healthcare regulations and medical billing"),
    ("Culture add", "Family-friendly attitude and age diversity"),
    ("Resilience", ""),
]
RISKY_SKILLS = ["Python", "health insurance claims", "race conditions", "gender-neutral copywriting", "SQL"]
RISKY_RESUME = [
    "Married with two children; built a Python billing system for 3 hospitals.",
    "Led a team of 6 building a Python data pipeline on PostgreSQL.",
    "Volunteer at my church youth group.",
    "Designed a communication plan for 40 stakeholders.",
]


def all_questions(cfg: InterviewConfig) -> list[str]:
    out = []
    for dim in cfg.dimensions:
        for level in qb.DIFFICULTIES:
            for index in range(6):
                for seed in range(3):
                    out.append(qb.question_for(cfg, dim, level, index, seed=seed))
    return out


@pytest.mark.parametrize(
    ("skills", "resume", "title"),
    list(itertools.product([["Python", "Go"], RISKY_SKILLS, []], [[], RISKY_RESUME], ["Engineer", "Nurse"])),
)
def test_no_protected_characteristic_in_any_question(
    skills: list[str], resume: list[str], title: str
) -> None:
    dims = [{"name": n, "description": d, "weight": 100 / len(DIMENSIONS)} for n, d in DIMENSIONS]
    cfg = config(
        resume_excerpts=resume,
        **{
            "profile.evaluationDimensions": dims,
            "template.skills": skills,
            "participant.background.skills": skills,
            "participant.profile.title": title,
            "template.objective": "Hire someone for our family of products",
        },
    )
    for question in all_questions(cfg):
        assert not qb.mentions_protected(question), question
    for answer in (STRONG, ADEQUATE, WEAK):
        _, moves, _ = simulate(cfg, const(answer))
        for m in moves:
            text = m.question if isinstance(m, Ask) else m.prompt if isinstance(m, FollowUp) else ""
            assert not qb.mentions_protected(text), text


def test_the_bank_itself_is_clean() -> None:
    for category in qb._BANK.values():
        for level in qb.DIFFICULTIES:
            for template in category[level]:
                assert not qb.mentions_protected(template), template
    for pool in qb._FOLLOW_UPS.values():
        for prompt in pool:
            assert not qb.mentions_protected(prompt)
    assert not qb.mentions_protected(qb.SAFE_FALLBACK)


@pytest.mark.parametrize(
    "text", ["How old are you?", "Are you MARRIED?", "Do you have kids", "your religion"]
)
def test_protected_check_catches(text: str) -> None:
    assert qb.mentions_protected(text)


@pytest.mark.parametrize("text", ["How do you manage a message queue?", "Tell me about your stage"])
def test_protected_check_uses_word_boundaries(text: str) -> None:
    assert not qb.mentions_protected(text)


def test_three_difficulty_levels_give_different_questions() -> None:
    cfg = config()
    dim = cfg.dimensions[0]
    levels = {qb.question_for(cfg, dim, lvl, 0) for lvl in qb.DIFFICULTIES}
    assert len(levels) == 3


def test_questions_are_role_specific() -> None:
    cfg = config(**{"template.skills": ["Kubernetes"], "participant.background.skills": []})
    dim = Dimension("Technical knowledge", "Depth in the platform", 100)
    qs = [qb.question_for(cfg, dim, lvl, i) for lvl in qb.DIFFICULTIES for i in range(3)]
    assert any("Kubernetes" in q for q in qs)


def test_resume_question_cites_the_resume() -> None:
    cfg = config(resume_excerpts=["Led a team of 6 building a Python data pipeline on PostgreSQL."])
    dim = cfg.dimensions[0]
    q = qb.question_for(cfg, dim, "medium", 1)
    assert q.startswith('You listed "Led a team of 6 building a Python data pipeline')
    # Excerpts with protected details are never quoted.
    cfg = config(resume_excerpts=["Married, built Python services on PostgreSQL."])
    assert "resume" not in qb.question_for(cfg, dim, "medium", 1)


def test_deterministic_given_seed() -> None:
    cfg = config()
    dim = cfg.dimensions[1]
    assert qb.question_for(cfg, dim, "hard", 0, seed=7) == qb.question_for(cfg, dim, "hard", 0, seed=7)
    assert len({qb.question_for(cfg, dim, "hard", 0, seed=s) for s in range(10)}) > 1


def test_intro_and_wrap_up_follow_tone() -> None:
    friendly = config(**{"profile.interaction.tone": "friendly"})
    strict = config(**{"profile.interaction.tone": "strict"})
    assert qb.intro_text(friendly) != qb.intro_text(strict)
    assert qb.wrap_up_text(friendly) != qb.wrap_up_text(strict)
    assert friendly.persona in qb.intro_text(friendly)
