"""The I/O shell of the live interview (DESIGN.md principle 5).

`core.decide` says what the interviewer does next; this module makes it happen: it builds
the configuration snapshot when the candidate joins, streams the interviewer's words (from
the configured language model, or the built-in offline interviewer), stores every turn as
it happens, and ends the interview. No interview state lives in memory between requests:
each turn re-reads the transcript, so any replica can serve the next one.

Each turn is written in short transactions around the streaming, never across it: holding
a write transaction while a model talks for seconds would stall every other interview on
SQLite. A lease on the session row (`claim_turn`) makes sure only one request at a time
produces the interviewer's turn; the producer renews it while it works and checks it still
holds it before each write, so a crashed process blocks the interview for seconds only, and
a stalled one that lost its lease stores nothing (`sessions.live`, "the turn lease").
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import structlog
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from viva.agent_profiles import service as agent_profiles
from viva.config import Settings
from viva.errors import Conflict
from viva.interview import coding_tasks, core
from viva.interview import questions as qb
from viva.interview.understanding import Understanding, understand
from viva.kit import clock
from viva.kit.secretbox import SecretBox
from viva.llm.base import CallLimits, ChatMessage, ChatModel, LLMError
from viva.llm.factory import chat_model_from_settings
from viva.models import InterviewSession, TranscriptTurn
from viva.participants import service as participants
from viva.sessions import live
from viva.sessions import snapshot as snapshots
from viva.sessions.service import Deps
from viva.sessions.snapshot import InterviewSnapshot, SnapshotParticipant
from viva.templates import service as templates
from viva.workspaces import service as workspaces

log = structlog.get_logger(__name__)

PROMPT_VERSION = "interviewer-v1"
BUILTIN_ENGINE: dict[str, Any] = {
    "engine": "builtin",
    "label": "Viva built-in offline interviewer: rule-based questions from a question bank, "
    "no language model",
}
FALLBACK_AFTER = 2  # consecutive provider failures before a turn is spoken by the built-in engine
RESUME_EXCERPTS = 4
RETRY_MESSAGE = (
    "Sorry, I'm having trouble responding right now. Your answer is saved. "
    "Please press \u201cTry again\u201d in a moment."
)

Emit = Callable[[str, dict[str, Any]], Awaitable[None]]


@dataclass
class Interviewer:
    """What the live interview needs from the running app; one per process."""

    settings: Settings
    secrets: SecretBox
    sessionmaker: async_sessionmaker[AsyncSession]
    chat_model: ChatModel | None
    background: set[asyncio.Task[None]] = field(default_factory=set)

    @property
    def deps(self) -> Deps:
        return Deps(settings=self.settings, secrets=self.secrets)

    @property
    def max_turn_seconds(self) -> float:
        """The longest one turn may renew its lease: every retry of one model call for each of a
        move's turns. A producer still going after that (wedged) lets the lease lapse."""
        if self.chat_model is None:
            return 30.0
        s = self.settings
        return s.llm_timeout_seconds * (s.llm_max_retries + 1) * 2 + 30.0

    async def drain(self, wait_seconds: float = 30.0) -> None:
        """Let turns still being produced (their candidate may have gone) finish and be stored."""
        if self.background:
            await asyncio.wait(set(self.background), timeout=wait_seconds)


def interviewer_model(settings: Settings) -> ChatModel | None:
    """The configured language model, or None for the built-in offline interviewer."""
    return chat_model_from_settings(
        settings.llm_base_url,
        settings.llm_api_key,
        settings.llm_model,
        settings.llm_provider,
        limits=CallLimits(
            timeout=settings.llm_timeout_seconds,
            first_token_timeout=settings.llm_first_token_timeout_seconds,
            max_retries=settings.llm_max_retries,
        ),
    )


# ------------------------------------------------------------------ configuration


async def build_snapshot(db: AsyncSession, session: InterviewSession) -> InterviewSnapshot:
    """Everything the interviewer is configured with (the one place a snapshot is built)."""
    ws = session.workspace_id
    stage = await templates.get_stage(db, ws, session.evaluation_stage_id)
    template = await templates.get_template(db, ws, session.evaluation_template_id)
    if stage.agent_profile_id is None:
        raise Conflict("This stage has no agent profile", code="stage_not_schedulable")
    profile = agent_profiles.to_read(await agent_profiles.get(db, ws, stage.agent_profile_id))
    participant = await participants.get(db, ws, session.participant_id)
    workspace = await workspaces.get_workspace_by_id(db, ws)
    profile_data = profile.model_dump(mode="json")
    template_data = templates.template_to_read(template).model_dump(mode="json")
    template_data["language"] = session.language or template_data.get("language") or "en"
    stage_data = templates.stage_to_read(stage).model_dump(mode="json")
    # What the interview is about: the resume passages closest to it are what the interviewer asks about.
    query = " ".join(
        [
            *(f"{d['name']} {d.get('description') or ''}" for d in profile_data["evaluationDimensions"]),
            *template_data.get("skills", []),
            template_data.get("objective") or "",
            template_data.get("requirements") or "",
        ]
    )
    excerpts = await participants.resume_excerpts(db, ws, participant.id, query, RESUME_EXCERPTS)
    return InterviewSnapshot(
        organization=workspace.name,
        profile=profile_data,
        template=template_data,
        stage=stage_data,
        participant=SnapshotParticipant(
            name=participant.name, profile=participant.profile or {}, background=participant.background or {}
        ),
        resume_excerpts=excerpts,
        seed=session.id.int % 2**31,
    )


def config_of(snapshot: InterviewSnapshot) -> core.InterviewConfig:
    return core.InterviewConfig.from_data(
        profile=snapshot.profile,
        template=snapshot.template,
        stage=snapshot.stage,
        participant=snapshot.participant.model_dump(),
        resume_excerpts=snapshot.resume_excerpts,
        seed=snapshot.seed,
    )


def core_turns(turns: list[TranscriptTurn]) -> list[core.Turn]:
    return [
        core.Turn(
            speaker="interviewer" if t.speaker == "interviewer" else "candidate",
            text=t.text,
            at_seconds=t.at_seconds,
            dimension=t.dimension,
            kind=t.kind,  # type: ignore[arg-type]  # stored kinds are core.TurnKind values
            understanding=Understanding.from_data((t.data or {}).get("understanding"))
            if t.speaker == "candidate"
            else None,
        )
        for t in turns
        if t.speaker in live.SPOKEN
    ]


def elapsed(session: InterviewSession) -> float:
    return max(0.0, (clock.now() - session.started_at).total_seconds()) if session.started_at else 0.0


def awaiting(session: InterviewSession, turns: list[TranscriptTurn]) -> str | None:
    """Who has the floor: `interviewer` when it owes a turn, `candidate`, or None when over."""
    snap = snapshots.of(session)
    if session.status != "in_progress" or snap is None:
        return None
    move = core.decide(config_of(snap), core_turns(turns), elapsed(session))
    return "candidate" if isinstance(move, core.Wait) else "interviewer"


def open_coding_task(turns: list[TranscriptTurn]) -> tuple[coding_tasks.CodingTask, str | None] | None:
    """The coding task currently in the editor (the last one posed) and its dimension, if any."""
    posed = [t for t in turns if t.kind == "coding_task"]
    if not posed:
        return None
    task = coding_tasks.TASKS.get(str((posed[-1].data or {}).get("task_id") or ""))
    return (task, posed[-1].dimension) if task else None


# ------------------------------------------------------------------ what is said


@dataclass(frozen=True)
class Utterance:
    kind: str
    text: str  # the built-in engine's words
    directive: str  # what a language model is asked to say instead
    dimension: str | None = None
    data: dict[str, Any] = field(default_factory=dict)


def ending(move: core.Move) -> core.End | None:
    """The End a move leads to, if any (directly, or after a reply)."""
    if isinstance(move, core.Respond):
        move = move.then if move.then is not None else move
    return move if isinstance(move, core.End) else None


def utterances(config: core.InterviewConfig, move: core.Move) -> list[Utterance]:
    """The turns a move produces, each with the built-in wording and the model's brief."""
    if isinstance(move, core.Respond):
        reply = Utterance(
            "reply",
            move.text,
            f"The candidate did not answer ({move.reason.replace('_', ' ')}). Reply briefly and naturally, "
            "using only facts given in your instructions, then go on as planned. What to say, in "
            f"substance: {move.text}",
            move.dimension,
            {"reason": move.reason},
        )
        return [reply, *(utterances(config, move.then) if move.then is not None else [])]
    if isinstance(move, core.Ask):
        ask = Utterance(
            "question",
            move.question,
            f"Ask one question about '{move.dimension}' at {move.difficulty} difficulty. A question you "
            f"could ask (rephrase it naturally, and ground it in the resume when it fits): {move.question}",
            move.dimension,
            {"difficulty": move.difficulty},
        )
        if not move.intro:
            return [ask]
        intro = Utterance(
            "intro",
            move.intro,
            "Greet the candidate by first name, introduce yourself as your persona, and say what the "
            f"interview covers and how long it takes. Do not ask a question yet. For example: {move.intro}",
        )
        return [intro, ask]
    if isinstance(move, core.FollowUp):
        return [
            Utterance(
                "follow_up",
                move.prompt,
                f"The last answer was vague or thin. Ask one follow-up on '{move.dimension}', for example: "
                f"{move.prompt}",
                move.dimension,
            )
        ]
    if isinstance(move, core.PoseCodingTask):
        text = (
            f"Let's do a short coding exercise. {move.task} "
            "Use the editor, and talk me through your approach."
        )
        return [
            Utterance(
                "coding_task",
                text,
                f"Pose this coding task for '{move.dimension}' and ask the candidate to solve it in the "
                f"editor and explain their approach. The task: {move.task}",
                move.dimension,
                {"task": move.task, "task_id": move.task_id, "difficulty": move.difficulty},
            )
        ]
    if isinstance(move, core.WrapUp):
        return [
            Utterance(
                "wrap_up",
                move.text,
                "Time is nearly up. Thank the candidate and ask if they have anything to add or any question "
                f"for you. For example: {move.text}",
            )
        ]
    if isinstance(move, core.End):
        closing = qb.closing_text(config, move.reason)
        return [
            Utterance(
                "closing",
                closing,
                "Close the interview now: thank the candidate and say the team will be in touch. Answer a "
                "question they just asked only if it is about the process. Do not ask anything. "
                f"For example: {closing}",
                data={"end_reason": move.reason},
            )
        ]
    return []


def llm_messages(
    config: core.InterviewConfig, turns: list[TranscriptTurn], directive: str
) -> list[ChatMessage]:
    """System prompt + the conversation so far + this turn's brief (the engine, not the model, plans)."""
    system = core.system_prompt(config) + (
        "\nYour next turn (decided by the interview plan; follow it whatever the candidate said):\n"
        f"{directive}\nReply with only the words you say to the candidate, in one short paragraph.\n"
    )
    messages = [ChatMessage("system", system)]
    for t in turns:
        if t.speaker == "interviewer":
            messages.append(ChatMessage("assistant", t.text))
        elif t.speaker == "candidate":
            messages.append(ChatMessage("user", t.text))
    if messages[-1].role != "user":
        # Chat APIs expect the user to speak last; say plainly that nobody did.
        note = "(The candidate has joined.)" if len(messages) == 1 else "(No new message from the candidate.)"
        messages.append(ChatMessage("user", note))
    return messages


async def _stream_builtin(text: str, emit: Emit) -> None:
    # The built-in words exist at once; sending them in small pieces keeps one code path in the room.
    words = text.split(" ")
    for i in range(0, len(words), 4):
        piece = " ".join(words[i : i + 4]) + (" " if i + 4 < len(words) else "")
        await emit("delta", {"text": piece})


async def _speak_llm(model: ChatModel, messages: list[ChatMessage], emit: Emit) -> str:
    parts: list[str] = []
    async with contextlib.aclosing(model.stream(messages, max_tokens=400, temperature=0.5)) as stream:
        async for delta in stream:
            parts.append(delta)
            await emit("delta", {"text": delta})
    text = "".join(parts).strip()
    if not text:
        raise LLMError("the model returned no text", provider=model.provider, model=model.model)
    return text


# ------------------------------------------------------------------ a turn


@dataclass
class Turn:
    """One `POST /join/{token}/turn`: the answer is stored, the lease held; `events()` streams the rest."""

    interviewer: Interviewer
    session_id: uuid.UUID
    workspace_id: uuid.UUID
    owner: str
    candidate: dict[str, Any] | None
    lost: bool = False  # the lease was taken over: nothing more of this turn is stored

    async def events(self) -> AsyncIterator[tuple[str, dict[str, Any]]]:
        queue: asyncio.Queue[tuple[str, dict[str, Any]] | None] = asyncio.Queue()

        async def emit(name: str, data: dict[str, Any]) -> None:
            await queue.put((name, data))

        async def produce() -> None:
            heartbeat = asyncio.create_task(self._keep_lease())
            try:
                await self._produce(emit)
            except Exception:
                log.exception("interview turn failed", session_id=str(self.session_id))
                await emit("retry", {"message": RETRY_MESSAGE})
            finally:
                heartbeat.cancel()
                await self._release()
                await emit("done", {"awaiting": await self._awaiting()})
                await queue.put(None)

        if self.candidate is not None:
            yield "candidate", self.candidate
        # The turn is produced in its own task: if the candidate's connection drops, it still
        # finishes and is stored, and the reloaded room shows it.
        task = asyncio.create_task(produce())
        self.interviewer.background.add(task)
        task.add_done_callback(self.interviewer.background.discard)
        while (item := await queue.get()) is not None:
            yield item

    async def _load(self, db: AsyncSession) -> InterviewSession | None:
        # Locked (PostgreSQL) because every caller writes the row; see live.by_token.
        session = await db.get(
            InterviewSession, self.session_id, populate_existing=True, with_for_update=True
        )
        return session if session is not None and session.workspace_id == self.workspace_id else None

    async def _keep_lease(self) -> None:
        """The heartbeat: renew the lease while this turn is produced. When it was taken over
        (this process stalled past the lease), stop; the writes check it too (`_holds`)."""
        beats = int(self.interviewer.max_turn_seconds / live.HEARTBEAT_SECONDS)
        for _ in range(beats):
            await asyncio.sleep(live.HEARTBEAT_SECONDS)
            try:
                async with self.interviewer.sessionmaker() as db, db.begin():
                    if not await live.renew_turn(db, self.session_id, self.owner):
                        self.lost = True
                        return
            except Exception as exc:  # the database is briefly unreachable: the lease has slack
                log.warning("turn lease renewal failed", session_id=str(self.session_id), error=repr(exc))

    def _holds(self, session: InterviewSession) -> bool:
        if live.holds_turn(session, self.owner):
            return True
        if not self.lost:
            log.warning(
                "turn lease lost; this reply is not stored",
                session_id=str(self.session_id),
                owner=self.owner,
                holder=session.turn_lock_owner,
            )
        self.lost = True
        return False

    async def _release(self) -> None:
        async with self.interviewer.sessionmaker() as db, db.begin():
            session = await self._load(db)
            if session is not None:
                await live.release_turn(db, session, self.owner)

    async def _awaiting(self) -> str | None:
        async with self.interviewer.sessionmaker() as db:
            session = await self._load(db)
            if session is None:
                return None
            return awaiting(session, await live.transcript(db, session))

    async def _produce(self, emit: Emit) -> None:
        iv = self.interviewer
        async with iv.sessionmaker() as db:
            session = await self._load(db)
            snap = snapshots.of(session) if session is not None else None
            if session is None or session.status != "in_progress" or snap is None:
                return
            turns = await live.transcript(db, session)
            config = config_of(snap)
            move = core.decide(config, core_turns(turns), elapsed(session))
            failures = session.llm_failures
        for utterance in utterances(config, move):
            meta: dict[str, Any] = {"move": type(move).__name__, **utterance.data}
            final = utterance.kind == "closing"
            text: str | None = None
            if iv.chat_model is not None:
                try:
                    text = await _speak_llm(
                        iv.chat_model, llm_messages(config, turns, utterance.directive), emit
                    )
                    if qb.mentions_protected(text):
                        # The model strayed into a protected characteristic: the plan's own words
                        # replace it (the `turn` event carries the final text the room shows).
                        log.warning("interviewer model output replaced", session_id=str(self.session_id))
                        text = utterance.text
                        meta["replaced"] = "protected_characteristic"
                    meta |= {
                        "engine": "llm",
                        "provider": iv.chat_model.provider,
                        "model": iv.chat_model.model,
                        "prompt_version": PROMPT_VERSION,
                    }
                except LLMError as error:
                    failures += 1
                    log.warning("interviewer model failed", session_id=str(self.session_id), error=str(error))
                    if failures < FALLBACK_AFTER:
                        await self._count_failure()
                        await emit("retry", {"message": RETRY_MESSAGE})
                        return
                    # The provider keeps failing: carry on with the built-in interviewer for this
                    # turn rather than stall the candidate, and say so in the transcript.
                    meta |= {"fallback": "provider_unavailable", "provider_error": error.message}
            if text is None:
                text = utterance.text
                await _stream_builtin(text, emit)
                meta = {**BUILTIN_ENGINE, **meta}
            stored = await self._store(utterance, text, meta, ending(move) if final else None)
            if stored is None:
                if self.lost:  # another request is producing this turn now
                    await emit("retry", {"message": RETRY_MESSAGE})
                    return
                break
            turns.append(stored)
            await emit("turn", live.turn_read(stored, full=False))
        end = ending(move)
        if end is not None:
            await emit("ended", {"status": "completed", "end_reason": end.reason})

    async def _count_failure(self) -> None:
        async with self.interviewer.sessionmaker() as db, db.begin():
            session = await self._load(db)
            if session is not None and self._holds(session):
                session.llm_failures += 1

    async def _store(
        self, utterance: Utterance, text: str, meta: dict[str, Any], end: core.End | None
    ) -> TranscriptTurn | None:
        async with self.interviewer.sessionmaker() as db, db.begin():
            session = await self._load(db)
            if session is None or session.status != "in_progress":
                return None  # ended meanwhile (timed out, or the candidate pressed End)
            if not self._holds(session):
                return None
            live.keep_turn(session)
            stored = await live.add_turn(
                db, session, "interviewer", utterance.kind, text, dimension=utterance.dimension, data=meta
            )
            if meta.get("engine") == "llm":
                session.llm_failures = 0
            if end is not None:
                await live.finish(db, session, "completed", end.reason, self.interviewer.deps)
            return stored


# ------------------------------------------------------------------ the room's operations


async def state(db: AsyncSession, session: InterviewSession) -> dict[str, Any]:
    """What the room shows (docs/candidate-room.md, RoomState)."""
    turns = await live.transcript(db, session)
    snap = snapshots.of(session)
    if snap is not None:
        duration, organization = snap.duration_minutes, snap.organization
    else:
        duration = (
            await templates.get_stage(db, session.workspace_id, session.evaluation_stage_id)
        ).duration_minutes
        organization = (await workspaces.get_workspace_by_id(db, session.workspace_id)).name
    times = live.timing(session)
    return {
        "status": session.status,
        "stage_name": session.stage_name,
        "organization": organization,
        "duration_minutes": duration,
        "language": session.language,
        "consented": session.consented_at is not None,
        **{k: clock.isoformat(v) if v else None for k, v in times.items()},
        "server_time": clock.isoformat(clock.now()),
        "end_reason": session.end_reason,
        "awaiting": awaiting(session, turns),
        "coding_task": _coding_task_view(turns) if session.status == "in_progress" else None,
        "turns": [live.turn_read(t, full=False) for t in turns if t.speaker in live.SPOKEN],
    }


def _coding_task_view(turns: list[TranscriptTurn]) -> dict[str, Any] | None:
    found = open_coding_task(turns)
    if found is None:
        return None
    task, _ = found
    runs = [t for t in turns if t.event in ("code_run", "code_submit")]
    last = runs[-1].data if runs else None
    return {
        **task.public(),
        "last_code": last.get("code") if last else None,
        "last_language": last.get("language") if last else None,
    }


async def join(db: AsyncSession, interviewer: Interviewer, token: str) -> InterviewSession:
    """The candidate consented: start the interview, or count a reconnect."""
    session = await live.by_token(db, token, lock=True)
    snap = await build_snapshot(db, session) if session.status == "scheduled" else None
    await live.start(db, session, interviewer.deps, snapshot=snap)
    return session


async def end_by_candidate(db: AsyncSession, interviewer: Interviewer, token: str) -> InterviewSession:
    """The candidate pressed "End interview": a closing turn, then `completed`."""
    session = await live.by_token(db, token, lock=True)
    snap = snapshots.of(session)
    if session.status != "in_progress" or snap is None:
        raise Conflict(f"This interview is {session.status}", code="interview_not_active")
    config = config_of(snap)
    await live.add_turn(
        db, session, "interviewer", "closing", qb.closing_text(config, "candidate_ended"), data=BUILTIN_ENGINE
    )
    await live.finish(db, session, "completed", "candidate_ended", interviewer.deps)
    return session


async def begin_turn(
    db: AsyncSession,
    interviewer: Interviewer,
    token: str,
    text: str | None,
    client_turn_id: str | None,
    answer_data: dict[str, Any] | None = None,
) -> Turn:
    """Check the interview is live, take the lease and store the answer (committed by the caller
    before streaming starts); raises 409 `interview_not_active` / `interviewer_busy`."""
    session = await live.by_token(db, token, lock=True)
    if session.status != "in_progress":
        raise Conflict(
            "The interview has not started"
            if session.status == "scheduled"
            else f"The interview is {session.status}",
            code="interview_not_active",
        )
    owner = await live.claim_turn(db, session)
    if owner is None:
        raise Conflict(
            "The interviewer is still answering; wait for it to finish",
            code="interviewer_busy",
            headers={"Retry-After": "1"},
        )
    candidate = None
    if text is not None:
        extra = {**(answer_data or {}), "understanding": await _understanding(db, session, text)}
        turn = await live.add_answer(db, session, text, client_turn_id, extra)
        candidate = {"seq": turn.seq, "text": turn.text, "at": clock.isoformat(turn.at)}
    else:
        live.touch(session)
    return Turn(interviewer, session.id, session.workspace_id, owner, candidate)


async def _understanding(db: AsyncSession, session: InterviewSession, text: str) -> dict[str, Any]:
    """What the candidate did on this turn, stored on it once so the engine, the grader and the
    dashboard read the same classification."""
    snap = snapshots.of(session)
    spoken = [t for t in await live.transcript(db, session) if t.speaker == "interviewer"]
    prompts = [t for t in spoken if t.kind != "reply"]
    language = str((snap.template if snap else {}).get("language") or session.language or "en")
    question = prompts[-1].text if prompts else ""
    return understand(text, question=question, language=language).to_data()
