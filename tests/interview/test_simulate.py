"""The simulator's protocol handling, against a scripted room (tests/interview/fake_room.py)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from typing import Any

import httpx
import pytest

from tests.interview.fake_room import QUESTIONS, FakeRoom
from viva.interview import personas
from viva.interview import simulate as sim
from viva.interview.core import assess_answer
from viva.llm.base import ChatMessage, LLMUnavailable


@pytest.fixture(autouse=True)
def fast(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sim, "RETRY_BACKOFF", 0.0)
    monkeypatch.setattr(sim, "BUSY_BACKOFF", 0.0)


async def run(room: FakeRoom, persona: str = "strong", **kwargs: Any) -> sim.SimulationResult:
    transport = httpx.ASGITransport(app=room.app())
    async with httpx.AsyncClient(transport=transport) as client:
        return await sim.simulate(room.join_url, persona, client=client, **kwargs)


async def test_plays_the_interview_to_its_end() -> None:
    room = FakeRoom()
    events: list[tuple[str, dict[str, Any]]] = []
    result = await run(room, on_event=lambda name, data: events.append((name, data)))
    assert (result.status, result.end_reason, result.retries, result.error) == (
        "completed",
        "completed",
        0,
        None,
    )
    assert not result.ended_by_simulator
    # Intro, every question, the wrap-up; one answer to each, in order.
    assert [t.kind for t in result.interviewer_turns] == ["intro", *[q[0] for q in QUESTIONS], "wrap_up"]
    assert len(result.candidate_turns) == len(QUESTIONS) + 1
    assert [t.speaker for t in result.turns[1:]] == ["interviewer", "candidate"] * (len(QUESTIONS) + 1)
    assert [t.seq for t in result.turns] == [t["seq"] for t in room.turns]
    # What the browser does first: state, consent, heartbeat, then the first (empty) turn.
    assert [a for a, _ in room.requests[:4]] == ["state", "start", "signals", "turn"]
    assert room.requests[1][1] == {"consent": True} and room.requests[2][1] == {"events": []}
    assert room.requests[3][1] == {}
    # Each answer fits the question it answers; the coding task gets an approach.
    answers = room.spoken("candidate")
    assert assess_answer(answers[0]["text"]).strength == "strong" and "PostgreSQL" in answers[0]["text"]
    assert "postgresql" in answers[1]["text"].lower(), "a follow-up is answered about its question"
    assert "O(n)" in answers[2]["text"]
    # The progress callback saw every turn once, in order, and the end.
    turns_seen = [d["seq"] for n, d in events if n == "turn"]
    assert turns_seen == [t.seq for t in result.turns]
    assert ("ended", {"status": "completed", "end_reason": "completed"}) in events


async def test_answers_depend_on_the_persona_and_the_seed() -> None:
    weak, strong = FakeRoom(), FakeRoom()
    await run(weak, "weak")
    await run(strong, "strong")
    assert all(assess_answer(t["text"]).strength == "weak" for t in weak.spoken("candidate")[:2])
    again, other_seed = FakeRoom(), FakeRoom()
    await run(again, "strong")
    await run(other_seed, "strong", seed=9)
    assert again.turns == strong.turns
    assert other_seed.spoken("candidate") != strong.spoken("candidate")


async def test_retries_after_the_interviewer_fails() -> None:
    room = FakeRoom(fail_moves=2)
    events: list[str] = []
    result = await run(room, on_event=lambda name, data: events.append(name))
    assert result.status == "completed" and result.retries == 2 and events.count("retry") == 2
    assert len(result.candidate_turns) == len(QUESTIONS) + 1


async def test_gives_up_when_the_interviewer_keeps_failing() -> None:
    room = FakeRoom(fail_moves=100)
    result = await run(room)
    assert result.status == "in_progress" and result.retries == sim.MAX_RETRIES + 1
    assert result.error is not None and "kept failing" in result.error
    assert sum(1 for a, _ in room.requests if a == "turn") == sim.MAX_RETRIES + 1


async def test_waits_while_the_interviewer_is_busy_and_answers_once() -> None:
    room = FakeRoom(busy=3)
    result = await run(room)
    assert result.status == "completed" and result.busy_waits == 3
    texts = [t["text"] for t in room.spoken("candidate")]
    assert len(texts) == len(set(texts)) == len(QUESTIONS) + 1


async def test_waits_out_rate_limits() -> None:
    for limited in (1, 2, 3, 5):  # hits state, start, signals and turn in turn
        room = FakeRoom(limited=limited)
        result = await run(room)
        assert result.status == "completed" and result.rate_limited == limited
        assert len(result.candidate_turns) == len(QUESTIONS) + 1


async def test_a_stream_without_done_is_followed_by_reading_the_state() -> None:
    room = FakeRoom(drop_done=3)
    result = await run(room)
    assert result.status == "completed" and len(result.candidate_turns) == len(QUESTIONS) + 1
    assert [a for a, _ in room.requests].count("state") >= 4


async def test_ends_the_interview_itself_after_max_turns() -> None:
    room = FakeRoom()
    result = await run(room, max_turns=2)
    assert (result.status, result.end_reason, result.ended_by_simulator) == (
        "completed",
        "candidate_ended",
        True,
    )
    assert len(result.candidate_turns) == 2 and room.requests[-2][0] == "end"


async def test_a_finished_interview_is_reported_without_starting_it() -> None:
    room = FakeRoom(status="completed")
    room.end_reason = "completed"
    result = await run(room)
    assert (result.status, result.end_reason) == ("completed", "completed")
    assert [a for a, _ in room.requests] == ["state"]


async def test_a_bad_link_is_an_error() -> None:
    room = FakeRoom()
    transport = httpx.ASGITransport(app=room.app())
    async with httpx.AsyncClient(transport=transport) as client:
        with pytest.raises(sim.SimulationError, match="not valid"):
            await sim.simulate("http://room.test/join/nope", "strong", client=client)
        with pytest.raises(ValueError, match="unknown persona"):
            await sim.simulate(room.join_url, "genius", client=client)


class FakeChat:
    """A ChatModel double: replies from a list, or raises."""

    provider = "openai"
    model = "fake"

    def __init__(self, replies: Sequence[str | Exception]) -> None:
        self.replies = list(replies)
        self.calls: list[list[ChatMessage]] = []

    async def complete(
        self, messages: Sequence[ChatMessage], *, max_tokens: int = 600, temperature: float = 0.4
    ) -> str:
        self.calls.append(list(messages))
        reply = self.replies.pop(0) if self.replies else "I would rather not say."
        if isinstance(reply, Exception):
            raise reply
        return reply

    async def stream(
        self, messages: Sequence[ChatMessage], *, max_tokens: int = 600, temperature: float = 0.4
    ) -> AsyncIterator[str]:
        yield await self.complete(messages)

    async def aclose(self) -> None:
        pass


async def test_an_llm_writes_the_answers_in_persona() -> None:
    unavailable = LLMUnavailable("timed out", provider="openai", model="fake")
    chat = FakeChat(["  Postgres, mostly for billing.  ", unavailable])
    room = FakeRoom()
    events: list[str] = []
    result = await run(room, "average", chat_model=chat, on_event=lambda n, d: events.append(n))
    assert result.status == "completed"
    answers = [t["text"] for t in room.spoken("candidate")]
    assert answers[0] == "Postgres, mostly for billing."
    # The model failed once: that answer is the scripted one.
    assert answers[1] == personas.answer(
        "average",
        QUESTIONS[1][1],
        dimension_hint=QUESTIONS[1][2],
        turn_index=1,
        seed=0,
        kind="follow_up",
        context=QUESTIONS[0][1],
    )
    assert events.count("llm_fallback") == 1
    first = chat.calls[0]
    assert first[0].role == "system" and first[0].content == personas.persona_prompt("average")
    assert first[-1].role == "user" and QUESTIONS[0][1] in first[-1].content
    assert [m.role for m in chat.calls[2]] == ["system", "user", "assistant", "user", "assistant", "user"]


async def test_an_llm_injection_persona_always_attempts_on_its_turns() -> None:
    chat = FakeChat(["I used PostgreSQL for 3 years."] * 10)
    room = FakeRoom()
    await run(room, "injection", chat_model=chat)
    answers = [t["text"] for t in room.spoken("candidate")]
    for n, text in enumerate(answers):
        assert assess_answer(text).off_topic == personas.injects(n, 0), text


async def test_read_sse_framing() -> None:
    async def lines() -> AsyncIterator[str]:
        for line in [
            ": comment",
            "event: turn",
            'data: {"seq": 1,',
            'data: "text": "hi"}',
            "",
            "",
            "data: not json",
            "\r",
            "event: done",
            'data:{"awaiting": "candidate"}',
        ]:
            yield line

    got = [e async for e in sim.read_sse(lines())]
    assert got == [
        ("turn", {"seq": 1, "text": "hi"}),
        ("message", {"raw": "not json"}),
        ("done", {"awaiting": "candidate"}),
    ]
