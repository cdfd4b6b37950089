"""The live interview: a pure decision core (`core`) and the built-in question bank (`questions`)."""

from viva.interview.core import (
    Ask,
    Dimension,
    End,
    FollowUp,
    InterviewConfig,
    Move,
    PoseCodingTask,
    Turn,
    Wait,
    WrapUp,
    assess_answer,
    budgets,
    decide,
    system_prompt,
)

__all__ = [
    "Ask",
    "Dimension",
    "End",
    "FollowUp",
    "InterviewConfig",
    "Move",
    "PoseCodingTask",
    "Turn",
    "Wait",
    "WrapUp",
    "assess_answer",
    "budgets",
    "decide",
    "system_prompt",
]
