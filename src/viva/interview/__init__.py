"""The live interview: what the candidate did (`understanding`), a pure decision core (`core`) and the
built-in question bank (`questions`)."""

from viva.interview.core import (
    Ask,
    Dimension,
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
    system_prompt,
)
from viva.interview.understanding import Understanding, understand

__all__ = [
    "Ask",
    "Dimension",
    "End",
    "FollowUp",
    "InterviewConfig",
    "Move",
    "PoseCodingTask",
    "Respond",
    "Turn",
    "Understanding",
    "Wait",
    "WrapUp",
    "assess_answer",
    "budgets",
    "decide",
    "system_prompt",
    "understand",
]
