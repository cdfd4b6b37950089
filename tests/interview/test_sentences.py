"""Cutting a streamed reply into sentences for the voice, each as soon as it is complete, and the
spoken stream's end whatever fails on the way."""

from __future__ import annotations

import asyncio
import time

from hypothesis import given
from hypothesis import strategies as st

from viva.interview.voice import Sentences, spoken

REPLY = (
    "Thanks, Ada. That's helpful! Could you walk me through the p99 of 3.5 ms, e.g. how you measured it? "
    "Dr. Lee asked the same. She said \u201cit depends.\u201d Fair\u2026 Take your time"
)
EXPECTED = [
    "Thanks, Ada.",
    "That's helpful!",
    "Could you walk me through the p99 of 3.5 ms, e.g. how you measured it?",
    "Dr. Lee asked the same.",
    "She said \u201cit depends.\u201d",
    "Fair\u2026",
    "Take your time",
]


def test_sentences_end_at_their_punctuation_not_at_abbreviations_or_decimals():
    cutter = Sentences()
    assert cutter.feed(REPLY) == EXPECTED[:-1]
    assert cutter.finish(REPLY) == (["Take your time"], True)


def test_each_sentence_comes_out_as_soon_as_it_is_complete():
    cutter = Sentences()
    assert cutter.feed("Thanks, Ada") == []
    assert cutter.feed(".") == []  # "Ada.com"? The full stop ends nothing until white space follows
    assert cutter.feed(" That") == ["Thanks, Ada."]
    assert cutter.feed("'s helpful! Could") == ["That's helpful!"]


@given(st.lists(st.integers(min_value=1, max_value=12), min_size=1, max_size=60))
def test_any_split_of_the_stream_gives_the_same_sentences(cuts):
    cutter, out, at = Sentences(), [], 0
    for size in cuts:
        out += cutter.feed(REPLY[at : at + size])
        at += size
    out += cutter.feed(REPLY[at:])
    rest, consistent = cutter.finish(REPLY)
    assert consistent and out + rest == EXPECTED


def test_a_replaced_reply_is_spoken_whole_instead():
    cutter = Sentences()
    cutter.feed("How old are you? And where")
    assert cutter.finish("Tell me about a project you led. What was hard?") == (
        ["Tell me about a project you led.", "What was hard?"],
        False,
    )


class _BrokenVoice:
    """A text-to-speech engine with a bug of its own (not a SpeechError)."""

    engine = "broken"

    async def synthesize(self, text: str, voice: str | None = None) -> None:
        raise RuntimeError("engine bug")

    async def warm(self) -> None:
        return None

    async def aclose(self) -> None:
        return None


async def _turn_events():
    for piece in ("Thanks. ", "Tell me ", "more."):
        yield "delta", {"text": piece}
    yield "turn", {"seq": 3, "speaker": "interviewer", "text": "Thanks. Tell me more."}
    yield "done", {"awaiting": "candidate"}


async def test_a_voice_that_breaks_still_ends_the_stream_with_done():
    async def failing_metrics(figures: dict[str, int]) -> None:
        raise RuntimeError("database gone")

    async def collect() -> list[tuple[str, dict]]:
        stream = spoken(_turn_events(), _BrokenVoice(), received=time.monotonic(), on_spoken=failing_metrics)
        return [e async for e in stream]

    events = await asyncio.wait_for(collect(), 10)  # a stream that never ends fails, not hangs
    names = [name for name, _ in events]
    assert names.count("audio_error") == 1 and "audio" not in names
    assert names[-1] == "done" and names.count("turn") == 1
