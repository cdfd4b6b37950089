"""Play a candidate through the candidate room's HTTP interface, to the end of the interview.

`simulate(join_url, persona)` does what the browser does (docs/candidate-room.md): read the
state, consent and start, send a heartbeat, then post answers to `/turn` and read the
interviewer's replies from its SSE stream until the interview ends. It answers as soon as the
server lets it (it never waits out the interview's duration), recovers the way the room page
does from `retry` events, `409 interviewer_busy` and dropped streams, and ends the interview
itself (`POST /end`) after `max_turns` answers.

Answers come from `personas` (scripted) or, with a `chat_model`, from a language model playing
the persona. The module talks HTTP only: it knows nothing about the database or the server.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import httpx

from viva.interview import personas
from viva.interview.core import assess_answer
from viva.llm.base import ChatModel, LLMError

OnEvent = Callable[[str, dict[str, Any]], None]

CLOSED = ("completed", "failed", "cancelled")
# Recovery policy. Module-level so tests can make the waits short.
RETRY_BACKOFF = 0.5  # seconds before the first "Try again"; doubles each time
MAX_RETRIES = 3  # consecutive `retry` events before giving up
BUSY_BACKOFF = 0.2  # seconds between polls while busy, when the room gives no Retry-After
MAX_BUSY_WAITS = 300  # with the room's Retry-After of 1 s, five minutes
MAX_STREAM_ERRORS = 3  # consecutive dropped or failed turn requests before giving up
MAX_IDLE_POSTS = 5  # empty turns in a row that produced nothing before giving up
MAX_RATE_LIMITED = 20  # 429s in a row before giving up
MAX_RETRY_AFTER = 60.0  # longest Retry-After honoured for one wait
HEARTBEAT_SECONDS = 15.0  # the room page sends one at least every 20 s
MAX_ANSWER_CHARS = 4000
DEFAULT_TIMEOUT = httpx.Timeout(30.0, read=300.0)  # an LLM interviewer's turn can take a while


class SimulationError(Exception):
    """The room answered in a way the simulator cannot carry on from (bad link, unexpected status)."""


@dataclass(frozen=True)
class SimTurn:
    """One spoken turn as the room reported it."""

    seq: int
    speaker: str
    kind: str
    text: str
    dimension: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "seq": self.seq,
            "speaker": self.speaker,
            "kind": self.kind,
            "text": self.text,
            "dimension": self.dimension,
        }


@dataclass
class SimulationResult:
    """How the simulated interview went: the final status, its reason, and the spoken turns."""

    status: str
    end_reason: str | None
    turns: list[SimTurn]
    retries: int = 0
    busy_waits: int = 0
    rate_limited: int = 0
    ended_by_simulator: bool = False
    error: str | None = None
    code_results: list[dict[str, Any]] = field(default_factory=list)  # each code submission's result

    @property
    def interviewer_turns(self) -> list[SimTurn]:
        return [t for t in self.turns if t.speaker == "interviewer"]

    @property
    def candidate_turns(self) -> list[SimTurn]:
        return [t for t in self.turns if t.speaker == "candidate"]


@dataclass
class _Outcome:
    """What one POST /turn did."""

    awaiting: str | None = None
    done: bool = False
    ended: bool = False
    retry: str | None = None
    busy: float | None = None  # seconds to wait before asking again (409 interviewer_busy)
    not_active: bool = False
    rate_limited: float | None = None  # seconds the room asked us to wait (429)
    new_turns: int = 0


async def read_sse(lines: AsyncIterator[str]) -> AsyncIterator[tuple[str, dict[str, Any]]]:
    """Server-sent events from a stream of lines, as (event name, decoded JSON data) pairs.

    Follows the SSE framing: `event:` and `data:` fields, a blank line ends a message, lines
    starting with `:` are comments (keep-alives). Data that is not a JSON object comes back as
    `{"raw": text}`.
    """
    name = "message"
    data: list[str] = []
    async for raw in lines:
        line = raw.rstrip("\r")
        if not line:
            if data:
                yield name, _decode("\n".join(data))
            name, data = "message", []
            continue
        if line.startswith(":"):
            continue
        key, _, value = line.partition(":")
        value = value[1:] if value.startswith(" ") else value
        if key == "event":
            name = value
        elif key == "data":
            data.append(value)
    if data:
        yield name, _decode("\n".join(data))


def _decode(text: str) -> dict[str, Any]:
    try:
        value = json.loads(text)
    except ValueError:
        return {"raw": text}
    return value if isinstance(value, dict) else {"raw": value}


def _retry_after(response: httpx.Response) -> float:
    try:
        seconds = float(response.headers.get("retry-after", "1"))
    except ValueError:
        seconds = 1.0
    return min(max(seconds, 0.0), MAX_RETRY_AFTER)


def _error_code(response: httpx.Response) -> tuple[str, str]:
    try:
        error = response.json().get("error") or {}
    except (ValueError, AttributeError):
        error = {}
    if not isinstance(error, dict):
        error = {}
    return str(error.get("code") or ""), str(error.get("message") or response.text[:200])


class _Simulation:
    def __init__(
        self,
        http: httpx.AsyncClient,
        join_url: str,
        persona: str,
        chat_model: ChatModel | None,
        max_turns: int,
        on_event: OnEvent | None,
        seed: int,
    ) -> None:
        self.http = http
        self.base = join_url.rstrip("/")
        self.persona = persona
        self.chat_model = chat_model
        self.max_turns = max_turns
        self.on_event = on_event
        self.seed = seed
        self.turns: dict[int, SimTurn] = {}
        self.retries = 0
        self.busy_waits = 0
        self.rate_limited = 0
        self.ended_by_simulator = False
        self.error: str | None = None
        self.last_heartbeat = 0.0
        # The answer composed for an interviewer turn, kept so a resend is the same text with the
        # same client_turn_id (the server then stores it once).
        self.pending: tuple[int, str] | None = None
        self.coded: set[int] = set()  # coding-task turns the candidate already submitted code for
        self.code_results: list[dict[str, Any]] = []

    # --- HTTP -----------------------------------------------------------------------------

    def _emit(self, name: str, payload: dict[str, Any]) -> None:
        if self.on_event is not None:
            self.on_event(name, payload)

    def _check(self, response: httpx.Response, what: str) -> None:
        if response.status_code == 404:
            raise SimulationError(f"{what}: the join link is not valid (404)")
        if response.status_code >= 400:
            code, message = _error_code(response)
            raise SimulationError(f"{what} answered {response.status_code} {code}: {message}")

    async def _send(self, method: str, path: str, body: dict[str, Any] | None = None) -> httpx.Response:
        """One plain request; a 429 is waited out (Retry-After) and the request sent again."""
        for _ in range(MAX_RATE_LIMITED):
            response = await self.http.request(method, f"{self.base}/{path}", json=body)
            if response.status_code != 429:
                return response
            await self._wait_rate_limit(_retry_after(response))
        raise SimulationError(f"{method} /{path} stayed rate limited")

    async def _wait_rate_limit(self, seconds: float) -> None:
        self.rate_limited += 1
        self._emit("rate_limited", {"seconds": seconds})
        await asyncio.sleep(seconds)

    async def _state(self) -> dict[str, Any]:
        response = await self._send("GET", "state")
        self._check(response, "GET /state")
        state: dict[str, Any] = response.json()
        self._absorb(state.get("turns") or [])
        return state

    async def _start(self) -> dict[str, Any] | None:
        response = await self._send("POST", "start", {"consent": True})
        if response.status_code == 409:
            return None  # interview_closed: it is over already
        self._check(response, "POST /start")
        state: dict[str, Any] = response.json()
        self._absorb(state.get("turns") or [])
        return state

    async def _heartbeat(self, *, force: bool = False) -> None:
        now = time.monotonic()
        if not force and now - self.last_heartbeat < HEARTBEAT_SECONDS:
            return
        self.last_heartbeat = now
        try:
            response = await self.http.post(f"{self.base}/signals", json={"events": []})
        except httpx.TransportError:
            return  # a heartbeat is best effort; the next turn request shows whether we are connected
        if response.status_code >= 400:
            self._emit("heartbeat_failed", {"status_code": response.status_code})

    async def _submit_code(self, question: SimTurn) -> None:
        """Submit the persona's code for the open coding task (once per task turn)."""
        self.coded.add(question.seq)
        task = (await self._state()).get("coding_task")
        code = personas.code_for(self.persona, str(task.get("id")), "python") if task else None
        if code is None:
            return
        response = await self._send("POST", "code/submit", {"language": "python", "code": code})
        if response.status_code >= 400:
            # The interview goes on without a code run (e.g. no sandbox on this host: 502).
            error = _error_code(response)[1]
            self._emit("code_failed", {"status_code": response.status_code, "error": error})
            return
        data = response.json()["data"]
        self.code_results.append(data)
        self._emit("code", {"passed": data["passed"], "total": data["total"]})

    async def _end(self) -> None:
        response = await self._send("POST", "end", {})
        if response.status_code != 409:
            self._check(response, "POST /end")
        self.ended_by_simulator = True

    def _absorb(self, raw_turns: Sequence[dict[str, Any]]) -> int:
        new = 0
        for raw in raw_turns:
            if raw.get("speaker") not in ("interviewer", "candidate") or raw.get("seq") is None:
                continue
            turn = SimTurn(
                seq=int(raw["seq"]),
                speaker=str(raw["speaker"]),
                kind=str(raw.get("kind") or ("answer" if raw["speaker"] == "candidate" else "question")),
                text=str(raw.get("text") or ""),
                dimension=raw.get("dimension"),
            )
            if turn.seq not in self.turns:
                self.turns[turn.seq] = turn
                new += 1
                self._emit("turn", turn.as_dict())
        return new

    async def _post_turn(self, body: dict[str, Any]) -> _Outcome:
        outcome = _Outcome()
        async with self.http.stream("POST", f"{self.base}/turn", json=body) as response:
            if response.status_code == 429:
                await response.aread()
                outcome.rate_limited = _retry_after(response)
                return outcome
            if response.status_code == 409:
                await response.aread()
                code, message = _error_code(response)
                if code == "interviewer_busy":
                    has_hint = "retry-after" in response.headers
                    outcome.busy = _retry_after(response) if has_hint else BUSY_BACKOFF
                    return outcome
                if code == "interview_not_active":
                    outcome.not_active = True
                    return outcome
                raise SimulationError(f"POST /turn answered 409 {code}: {message}")
            if response.status_code >= 400:
                await response.aread()
                self._check(response, "POST /turn")
            async for name, data in read_sse(response.aiter_lines()):
                if name == "candidate":
                    raw = {"speaker": "candidate", "kind": "answer", **data}
                    outcome.new_turns += self._absorb([raw])
                elif name == "turn":
                    outcome.new_turns += self._absorb([{"speaker": "interviewer", **data}])
                elif name == "retry":
                    outcome.retry = str(data.get("message") or "the interviewer could not answer")
                elif name == "ended":
                    outcome.ended = True
                    self._emit("ended", data)
                elif name == "done":
                    outcome.done = True
                    outcome.awaiting = data.get("awaiting")
        return outcome

    # --- answers --------------------------------------------------------------------------

    @property
    def answers(self) -> int:
        """Answers stored so far (the room reports each one), which also indexes the next answer."""
        return sum(1 for t in self.turns.values() if t.speaker == "candidate")

    def _ordered(self) -> list[SimTurn]:
        return [self.turns[k] for k in sorted(self.turns)]

    async def _compose(self, question: SimTurn) -> str:
        if self.pending is not None and self.pending[0] == question.seq:
            return self.pending[1]
        ordered = self._ordered()
        context = ""
        if question.kind == "follow_up":
            earlier = [
                t
                for t in ordered
                if t.speaker == "interviewer"
                and t.seq < question.seq
                and t.kind in ("question", "coding_task")
            ]
            context = earlier[-1].text if earlier else ""
        scripted = personas.answer(
            self.persona,
            question.text,
            dimension_hint=question.dimension,
            turn_index=self.answers,
            seed=self.seed,
            kind=question.kind,
            context=context,
        )
        text = scripted
        if self.chat_model is not None:
            text = await self._from_llm(ordered, scripted)
        text = text.strip()[:MAX_ANSWER_CHARS] or scripted
        self.pending = (question.seq, text)
        return text

    async def _from_llm(self, ordered: list[SimTurn], scripted: str) -> str:
        assert self.chat_model is not None
        messages = personas.llm_messages(self.persona, [(t.speaker, t.text) for t in ordered])
        try:
            text = (await self.chat_model.complete(messages, max_tokens=400, temperature=0.8)).strip()
        except LLMError as exc:
            self._emit("llm_fallback", {"message": str(exc)})
            return scripted
        if not text:
            return scripted
        # A model may decline to play the manipulator; the scripted attempt keeps the test honest.
        if (
            self.persona == "injection"
            and personas.injects(self.answers, self.seed)
            and not assess_answer(text).off_topic
        ):
            attempt = personas.INJECTIONS[self.answers % len(personas.INJECTIONS)]
            text = f"{text} {attempt}"
        return text

    # --- the loop -------------------------------------------------------------------------

    async def run(self) -> SimulationResult:
        state = await self._state()
        self._emit("state", {k: v for k, v in state.items() if k != "turns"})
        if state.get("status") in CLOSED:
            return self._result(state)
        started = await self._start()
        if started is None:
            return self._result(await self._state())
        await self._heartbeat(force=True)
        status, awaiting = started.get("status"), started.get("awaiting")
        consecutive_retries = stream_errors = idle_posts = busy_in_row = rate_limited_in_row = 0

        while status == "in_progress":
            await self._heartbeat()
            body: dict[str, Any] = {}
            if awaiting == "candidate":
                question = next((t for t in reversed(self._ordered()) if t.speaker == "interviewer"), None)
                if question is None:
                    raise SimulationError("the room awaits the candidate before the interviewer spoke")
                if self.answers >= self.max_turns:
                    await self._end()
                    break
                if question.kind == "coding_task" and question.seq not in self.coded:
                    await self._submit_code(question)
                text = await self._compose(question)
                body = {"text": text, "client_turn_id": f"sim-{self.seed}-{question.seq}"}
            elif awaiting != "interviewer":
                # Not over, but nobody's turn: read the state again (the room may be mid-transition).
                idle_posts += 1
                if idle_posts > MAX_IDLE_POSTS:
                    self.error = "the room awaits nobody while the interview is in progress"
                    break
                await asyncio.sleep(BUSY_BACKOFF)
                state = await self._state()
                status, awaiting = state.get("status"), state.get("awaiting")
                continue

            try:
                outcome = await self._post_turn(body)
            except (httpx.TransportError, httpx.StreamError) as exc:
                stream_errors += 1
                if stream_errors > MAX_STREAM_ERRORS:
                    raise SimulationError(f"POST /turn kept failing: {exc}") from exc
                self._emit("stream_error", {"message": str(exc) or type(exc).__name__})
                await asyncio.sleep(RETRY_BACKOFF)
                state = await self._state()
                status, awaiting = state.get("status"), state.get("awaiting")
                continue
            stream_errors = 0

            if outcome.rate_limited is not None:
                rate_limited_in_row += 1
                if rate_limited_in_row > MAX_RATE_LIMITED:
                    raise SimulationError("POST /turn stayed rate limited")
                await self._wait_rate_limit(outcome.rate_limited)
                continue
            rate_limited_in_row = 0
            if outcome.busy is not None:
                self.busy_waits += 1
                busy_in_row += 1
                self._emit("busy", {"waits": busy_in_row})
                if busy_in_row > MAX_BUSY_WAITS:
                    raise SimulationError("the interviewer stayed busy for too long")
                await asyncio.sleep(outcome.busy)
                state = await self._state()
                status, awaiting = state.get("status"), state.get("awaiting")
                continue
            busy_in_row = 0
            if outcome.not_active or outcome.ended or not outcome.done:
                state = await self._state()
                status, awaiting = state.get("status"), state.get("awaiting")
                continue
            if outcome.retry is not None:
                self.retries += 1
                consecutive_retries += 1
                self._emit("retry", {"message": outcome.retry, "attempt": consecutive_retries})
                if consecutive_retries > MAX_RETRIES:
                    self.error = f"the interviewer kept failing: {outcome.retry}"
                    break
                await asyncio.sleep(RETRY_BACKOFF * 2 ** (consecutive_retries - 1))
                awaiting = outcome.awaiting or "interviewer"
                continue
            if outcome.new_turns:
                consecutive_retries = idle_posts = 0
            elif not body:
                idle_posts += 1
                if idle_posts > MAX_IDLE_POSTS:
                    self.error = "the interviewer made no move"
                    break
                await asyncio.sleep(BUSY_BACKOFF)
            awaiting = outcome.awaiting

        return self._result(await self._state())

    def _result(self, state: dict[str, Any]) -> SimulationResult:
        return SimulationResult(
            status=str(state.get("status")),
            end_reason=state.get("end_reason"),
            turns=self._ordered(),
            retries=self.retries,
            busy_waits=self.busy_waits,
            rate_limited=self.rate_limited,
            ended_by_simulator=self.ended_by_simulator,
            error=self.error,
            code_results=self.code_results,
        )


async def simulate(
    join_url: str,
    persona: str,
    *,
    client: httpx.AsyncClient | None = None,
    chat_model: ChatModel | None = None,
    max_turns: int = 60,
    on_event: OnEvent | None = None,
    seed: int = 0,
) -> SimulationResult:
    """Play `persona` through the room at `join_url` until the interview is over.

    `on_event(name, payload)` is told of progress: `state` (the room before starting), `turn`
    (each spoken turn, once, in order), `retry`, `busy`, `rate_limited`, `stream_error`,
    `heartbeat_failed`, `llm_fallback` and `ended`. After `max_turns` answers the simulator
    ends the interview itself. Raises `SimulationError` when the link is invalid or the room
    answers unexpectedly, and ValueError for an unknown persona. A `client` passed in is left
    open.
    """
    personas.check_persona(persona)
    http = client or httpx.AsyncClient(timeout=DEFAULT_TIMEOUT)
    try:
        return await _Simulation(http, join_url, persona, chat_model, max_turns, on_event, seed).run()
    finally:
        if client is None:
            await http.aclose()
