"""Transcripts of scripted candidates, played through the real interview core, for the scorers."""

from __future__ import annotations

from typing import Any

from tests.interview.helpers import config, data, simulate
from viva.interview import personas
from viva.interview.core import Ask, FollowUp, InterviewConfig, Move, PoseCodingTask, Respond, Turn, WrapUp
from viva.scoring.rubric import ScoringSpec, TranscriptTurnIn


def spec(**overrides: Any) -> ScoringSpec:
    """A ScoringSpec from the interview tests' sample profile, template and stage (see `data`)."""
    d = data(**overrides)
    return ScoringSpec.from_data(profile=d["profile"], template=d["template"], stage=d["stage"])


def to_turns(transcript: list[Turn]) -> list[TranscriptTurnIn]:
    """The core's turns as stored transcript turns, numbered from 1."""
    return [
        TranscriptTurnIn(seq=i, speaker=t.speaker, kind=t.kind, text=t.text, dimension=t.dimension)
        for i, t in enumerate(transcript, 1)
    ]


def play(persona: str, seed: int, cfg: InterviewConfig | None = None) -> list[TranscriptTurnIn]:
    """A whole interview of `persona`: the built-in interviewer asks, the persona answers."""
    cfg = cfg or config(**{"stage.duration_minutes": 20})
    last_question = ""

    def answer(move: Move, n: int) -> str:
        nonlocal last_question
        if isinstance(move, Ask):
            last_question = move.question
            return personas.answer(
                persona, move.question, dimension_hint=move.dimension, turn_index=n, seed=seed
            )
        if isinstance(move, FollowUp):
            return personas.answer(
                persona,
                move.prompt,
                dimension_hint=move.dimension,
                turn_index=n,
                seed=seed,
                kind="follow_up",
                context=last_question,
            )
        if isinstance(move, PoseCodingTask):
            return personas.answer(persona, move.task, turn_index=n, seed=seed, kind="coding_task")
        if isinstance(move, WrapUp):
            return personas.answer(persona, move.text, turn_index=n, seed=seed, kind="wrap_up")
        if isinstance(move, Respond):  # a reply to a non-answer: the same question is still open
            return personas.answer(persona, last_question, turn_index=n, seed=seed)
        raise AssertionError(move)

    transcript, _, _ = simulate(InterviewConfig(**{**cfg.__dict__, "seed": seed}), answer)
    return to_turns(transcript)
