"""Bodies of the candidate room's requests (docs/candidate-room.md)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from viva.kit.schemas import NoNul, StrictModel, bounded

Answer = Annotated[str, bounded(10_000), NoNul]
Target = Literal["chat", "editor"]


class StartBody(StrictModel):
    consent: bool = Field(
        description="The candidate agrees to an interview conducted, assessed and recorded by AI"
    )


class TurnBody(StrictModel):
    text: Answer | None = Field(
        default=None, description="The candidate's answer; omit to let the interviewer move"
    )
    client_turn_id: Annotated[str, bounded(64), NoNul] | None = Field(
        default=None, description="Makes a resent answer count once"
    )


class TabHidden(StrictModel):
    type: Literal["tab_hidden"]
    seconds: Annotated[float, Field(ge=0, le=86_400)]


class FocusLost(StrictModel):
    type: Literal["focus_lost"]
    seconds: Annotated[float, Field(ge=0, le=86_400)]


class Paste(StrictModel):
    type: Literal["paste"]
    target: Target
    chars: Annotated[int, Field(ge=0, le=10_000_000)]


class TypingBurst(StrictModel):
    type: Literal["typing_burst"]
    target: Target
    chars: Annotated[int, Field(ge=0, le=10_000_000)]
    ms: Annotated[int, Field(ge=0, le=86_400_000)]


class VoiceLatency(StrictModel):
    """From the end of the candidate's spoken answer to the first audio of the reply, as heard."""

    type: Literal["voice_latency"]
    answer_seq: Annotated[int, Field(ge=1, le=1_000_000)]
    ms: Annotated[int, Field(ge=0, le=600_000)]


Signal = Annotated[TabHidden | FocusLost | Paste | TypingBurst | VoiceLatency, Field(discriminator="type")]


class SignalsBody(StrictModel):
    events: Annotated[list[Signal], Field(max_length=200)] = []


class EndBody(StrictModel):
    pass


class CodeBody(StrictModel):
    language: Literal["python", "javascript", "typescript"] = Field(description="The editor's language")
    code: Annotated[str, NoNul, Field(max_length=64 * 1024)] = Field(description="The editor's contents")
