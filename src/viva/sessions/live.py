"""The session lifecycle while the candidate is in the room (SPEC §3.5, §6.2, §6.3).

Every state change of a live interview happens here: the first join (`in_progress`,
`session.started`), reconnects, each stored turn, authenticity signals, and the end
(`completed` + `session.completed` + a scoring job, or `failed` + `session.failed`). The
interview shell (`viva.interview.runner`) decides *what* is said; this module records it.
"""

from __future__ import annotations

import os
import socket
import statistics
import uuid
from datetime import datetime, timedelta
from typing import Any, Literal

import structlog
from sqlalchemy.ext.asyncio import AsyncSession

from viva.errors import Conflict, NotFound
from viva.jobs.service import enqueue_once
from viva.kit import clock
from viva.kit.crypto import random_token, token_hash
from viva.kit.stats import percentile
from viva.models import InterviewSession, TranscriptTurn
from viva.participants import service as participants
from viva.recordings import service as recordings
from viva.sessions import lifecycle
from viva.sessions import repository as repo
from viva.sessions.repository import TurnRepository
from viva.sessions.service import Deps, _emit
from viva.sessions.snapshot import InterviewSnapshot

log = structlog.get_logger(__name__)

HARD_STOP_GRACE = timedelta(minutes=2)  # SPEC §6.2: hard stop at 100% + 2 min
SPOKEN = ("interviewer", "candidate")
PASTE_TARGETS = ("chat", "editor")
SWEEP_BATCH = 100

Speaker = Literal["interviewer", "candidate", "system"]


def empty_signals() -> dict[str, Any]:
    """SPEC §6.3 signals before anything was observed. Reported verbatim; never scored."""
    return {
        "tab_switches": 0,
        "focus_lost_seconds": 0.0,
        "paste_events": {"chat": 0, "editor": 0},
        "pasted_characters": {"chat": 0, "editor": 0},
        "answer_latency_ms": {"median": None, "p90": None, "answers": 0},
        "typing_bursts": 0,
        "reconnects": 0,
        "ai_text_likelihood": None,  # not computed by this engine
    }


# ------------------------------------------------------------------ finding the session


async def by_token(db: AsyncSession, token: str, *, lock: bool = False) -> InterviewSession:
    """The session a join link opens, or 404 (the same for a bad token and a deleted session).
    Requests that change the session pass `lock=True` so concurrent ones queue (PostgreSQL)."""
    valid = 16 <= len(token) <= 128
    session = await repo.session_by_token_hash(db, token_hash(token), lock) if valid else None
    if session is None or session.manual:
        raise NotFound("Interview")
    return session


def timing(session: InterviewSession) -> dict[str, datetime | None]:
    """When the interview started, wraps up (90%), should end (100%) and must stop (+2 min)."""
    if session.started_at is None or session.hard_stop_at is None:
        return {"started_at": None, "wrap_up_at": None, "ends_at": None, "hard_stop_at": None}
    ends = session.hard_stop_at - HARD_STOP_GRACE
    return {
        "started_at": session.started_at,
        "wrap_up_at": session.started_at + (ends - session.started_at) * 0.9,
        "ends_at": ends,
        "hard_stop_at": session.hard_stop_at,
    }


# ------------------------------------------------------------------ transcript


async def add_turn(
    db: AsyncSession,
    session: InterviewSession,
    speaker: Speaker,
    kind: str,
    text: str = "",
    *,
    dimension: str | None = None,
    event: str | None = None,
    data: dict[str, Any] | None = None,
) -> TranscriptTurn:
    """Append one turn (or event) to the transcript, numbered after the last one."""
    turns = TurnRepository(db, session.workspace_id)
    now = clock.now()
    started = session.started_at or now
    turn = turns.add(
        TranscriptTurn(
            session_id=session.id,
            seq=await turns.next_seq(session.id),
            speaker=speaker,
            kind=kind,
            text=text,
            dimension=dimension,
            event=event,
            at=now,
            at_seconds=round(max(0.0, (now - started).total_seconds()), 3),
            data=data or {},
        )
    )
    await db.flush()
    return turn


async def transcript(db: AsyncSession, session: InterviewSession) -> list[TranscriptTurn]:
    """Every stored turn and event of the session, in order."""
    return await TurnRepository(db, session.workspace_id).for_session(session.id)


def turn_read(turn: TranscriptTurn, *, full: bool = True) -> dict[str, Any]:
    """A turn as the API and the room show it (`full` adds events' data and provenance)."""
    out: dict[str, Any] = {
        "seq": turn.seq,
        "speaker": turn.speaker,
        "kind": turn.kind,
        "text": turn.text,
        "dimension": turn.dimension,
        "at": clock.isoformat(turn.at),
    }
    if full:
        out |= {"at_seconds": turn.at_seconds, "event": turn.event, "data": turn.data}
    return out


def _with_latencies(signals: dict[str, Any], turns: list[TranscriptTurn]) -> dict[str, Any]:
    latencies = [float(t.data["latency_ms"]) for t in turns if "latency_ms" in (t.data or {})]
    signals["answer_latency_ms"] = {
        "median": round(statistics.median(latencies)) if latencies else None,
        "p90": round(percentile(latencies, 0.9)) if latencies else None,
        "answers": len(latencies),
    }
    return signals


async def add_answer(
    db: AsyncSession,
    session: InterviewSession,
    text: str,
    client_turn_id: str | None,
    extra: dict[str, Any] | None = None,
) -> TranscriptTurn:
    """Store the candidate's answer once (a resent `client_turn_id` returns the stored turn).

    The answer's latency is measured here, from the end of the interviewer's last turn, so the
    browser cannot report it."""
    turns = await transcript(db, session)
    if client_turn_id:
        for turn in turns:
            if turn.speaker == "candidate" and (turn.data or {}).get("client_turn_id") == client_turn_id:
                return turn
    data: dict[str, Any] = {"client_turn_id": client_turn_id} if client_turn_id else {}
    data.update(extra or {})
    spoken = [t for t in turns if t.speaker in SPOKEN]
    if spoken and spoken[-1].speaker == "interviewer":
        data["latency_ms"] = round((clock.now() - spoken[-1].at).total_seconds() * 1000)
    turn = await add_turn(db, session, "candidate", "answer", text, data=data)
    if data.get("input") == "voice":
        record_voice_reply(session, turn.seq, stt_ms=data.get("stt_ms"), silence_ms=data.get("silence_ms"))
    session.authenticity_signals = _with_latencies(
        {**empty_signals(), **(session.authenticity_signals or {})}, [*turns, turn]
    )
    touch(session)
    return turn


# ------------------------------------------------------------------ lifecycle


def touch(session: InterviewSession) -> None:
    """The candidate was heard from (any room request)."""
    session.last_seen_at = clock.now()


async def _external_id(db: AsyncSession, session: InterviewSession) -> str | None:
    return (await participants.get(db, session.workspace_id, session.participant_id)).external_id


async def start(
    db: AsyncSession,
    session: InterviewSession,
    deps: Deps,
    *,
    snapshot: InterviewSnapshot | None,
) -> bool:
    """The candidate consented and entered. Returns True for the first join, False for a reconnect.

    First join: `in_progress`, `started_at`, the hard stop, the configuration `snapshot` (taken
    by the caller for a scheduled session; None on a reconnect), a `joined` event and
    `session.started`. Later joins while the interview runs count as reconnects.
    """
    if session.status == "in_progress":
        signals = {**empty_signals(), **(session.authenticity_signals or {})}
        signals["reconnects"] = int(signals["reconnects"]) + 1
        session.authenticity_signals = signals
        touch(session)
        await add_turn(db, session, "system", "event", event="reconnected")
        return False
    if session.status != "scheduled" or snapshot is None:
        raise Conflict(f"This interview is {session.status}; it can't be joined", code="interview_closed")
    now = clock.now()
    lifecycle.start(session, now)
    session.consented_at = session.last_seen_at = now
    session.hard_stop_at = now + timedelta(minutes=snapshot.duration_minutes) + HARD_STOP_GRACE
    session.interview_snapshot = snapshot.to_data()
    session.authenticity_signals = empty_signals()
    await add_turn(db, session, "system", "event", event="joined", data={"consent": True})
    await _emit(db, "session.started", session, await _external_id(db, session), deps)
    return True


async def finish(
    db: AsyncSession,
    session: InterviewSession,
    status: Literal["completed", "failed"],
    reason: str,
    deps: Deps,
    *,
    detail: str | None = None,
) -> None:
    """End a running interview: `completed` (then scoring is queued) or `failed` (partial
    transcript kept, no scorecard). Does nothing if it already ended."""
    if session.status != "in_progress":
        return
    lifecycle.end(session, status, reason)
    session.turn_lock_owner = session.turn_lock_until = None
    await add_turn(
        db,
        session,
        "system",
        "event",
        event="ended",
        data={"status": status, "end_reason": reason} | ({"detail": detail} if detail else {}),
    )
    session.authenticity_signals = _with_latencies(
        {**empty_signals(), **(session.authenticity_signals or {})}, await transcript(db, session)
    )
    await _emit(db, f"session.{status}", session, await _external_id(db, session), deps)
    await recordings.on_session_ended(db, session)
    if status == "completed":
        # Scoring is a job so a slow grader never holds the candidate's last request.
        await enqueue_once(
            db,
            "scoring.score_session",
            f"score:{session.id}:1",
            {"session_id": str(session.id)},
            workspace_id=session.workspace_id,
        )


def record_signals(session: InterviewSession, events: list[dict[str, Any]]) -> dict[str, Any]:
    """Fold the room's observations into the session's authenticity signals (SPEC §6.3)."""
    signals = {**empty_signals(), **(session.authenticity_signals or {})}
    pastes = dict(signals["paste_events"])
    chars = dict(signals["pasted_characters"])
    for e in events:
        kind = e["type"]
        if kind == "tab_hidden":
            signals["tab_switches"] = int(signals["tab_switches"]) + 1
            signals["focus_lost_seconds"] = round(float(signals["focus_lost_seconds"]) + e["seconds"], 1)
        elif kind == "focus_lost":
            signals["focus_lost_seconds"] = round(float(signals["focus_lost_seconds"]) + e["seconds"], 1)
        elif kind == "paste":
            pastes[e["target"]] = int(pastes.get(e["target"], 0)) + 1
            chars[e["target"]] = int(chars.get(e["target"], 0)) + int(e["chars"])
        elif kind == "typing_burst":
            signals["typing_bursts"] = int(signals["typing_bursts"]) + 1
        elif kind == "voice_latency":
            # Only for answers the server heard as speech: the room cannot invent replies.
            record_voice_reply(session, int(e["answer_seq"]), create=False, heard_ms=int(e["ms"]))
    signals["paste_events"], signals["pasted_characters"] = pastes, chars
    session.authenticity_signals = signals
    touch(session)
    return signals


MAX_VOICE_REPLIES = 500  # per session: far more spoken answers than any interview has


def record_voice_reply(
    session: InterviewSession, answer_seq: int, *, create: bool = True, **figures: int | None
) -> None:
    """Note how fast the interviewer's voice answered the spoken answer `answer_seq`. The server
    adds its own figures (stt_ms, server_ms, tts_ms, silence_ms) when the reply has been sent; the
    room adds `heard_ms`, from the end of the candidate's speech to the first audio it played."""
    metrics = dict(session.voice_metrics or {})
    replies = [dict(r) for r in metrics.get("replies") or []]
    entry = next((r for r in replies if r.get("answer_seq") == answer_seq), None)
    if entry is None:
        if not create or len(replies) >= MAX_VOICE_REPLIES:
            return
        entry = {"answer_seq": answer_seq}
        replies.append(entry)
    entry.update({k: v for k, v in figures.items() if v is not None})
    metrics["replies"] = replies
    session.voice_metrics = metrics  # a new object: the JSON column sees the change


# ------------------------------------------------------------------ the turn lease
#
# One request at a time produces the interviewer's turn: it holds the session's lease
# (`turn_lock_owner`, `turn_lock_until`). The lease is short and kept alive by the producer's
# heartbeat (`renew_turn`) while the turn streams, so the lease of a process that died
# (kill -9, a crashed container) lapses TURN_LEASE after its last beat and the next request
# takes it over. A producer that was only stalled may wake after that: every write it makes
# checks it still holds the lease (`holds_turn`, on the row it has locked), so two producers
# never store one turn. See docs/candidate-room.md.

TURN_LEASE = timedelta(seconds=10)
HEARTBEAT_SECONDS = 2.0  # several beats per lease: one late beat does not lose it


def new_turn_owner() -> str:
    """A fencing token for one claim, naming the process that holds it (host/pid), for the log."""
    return f"{socket.gethostname()[:16]}/{os.getpid()}:{random_token(9)}"


async def claim_turn(
    db: AsyncSession, session: InterviewSession, lease: timedelta = TURN_LEASE
) -> str | None:
    """Reserve the right to write the interviewer's next turn; None while another live request
    has it. A lease whose holder stopped renewing it is taken over (and the takeover logged)."""
    owner = new_turn_owner()
    now = clock.now()
    previous, until = session.turn_lock_owner, session.turn_lock_until
    if not await repo.claim_turn(db, session.id, owner, now, now + lease):
        return None
    if previous is not None and until is not None:
        log.warning(
            "turn_lease_taken_over",
            session_id=str(session.id),
            previous_owner=previous,
            silent_seconds=round((now - until + TURN_LEASE).total_seconds(), 1),
        )
    return owner


def holds_turn(session: InterviewSession, owner: str) -> bool:
    """Whether `owner` still holds the lease: checked on the locked row before each write of a
    turn, so a producer whose lease was taken over stores nothing."""
    return session.turn_lock_owner == owner


def keep_turn(session: InterviewSession) -> None:
    """The holder is writing, so alive: its lease runs a full TURN_LEASE from now."""
    session.turn_lock_until = clock.now() + TURN_LEASE


async def renew_turn(db: AsyncSession, session_id: uuid.UUID, owner: str) -> bool:
    """The producer's heartbeat; False when the lease is no longer `owner`'s."""
    return await repo.renew_turn(db, session_id, owner, clock.now() + TURN_LEASE)


async def release_turn(db: AsyncSession, session: InterviewSession, owner: str) -> None:
    await repo.release_turn(db, session.id, owner)


# ------------------------------------------------------------------ the sweep


async def sweep(db: AsyncSession, deps: Deps, closing_text: str) -> int:
    """End interviews nobody is finishing: past the hard stop → completed (`time_limit`, with a
    closing turn); candidate silent past the grace period → failed (`abandoned`)."""
    now = clock.now()
    grace = timedelta(seconds=deps.settings.reconnect_grace_seconds)
    ended = 0
    for session in await repo.live_due(db, now, now - grace, SWEEP_BATCH):
        if session.last_seen_at is not None and session.last_seen_at < now - grace:
            await finish(
                db, session, "failed", "abandoned", deps, detail="the candidate left and did not come back"
            )
        else:
            await add_turn(db, session, "interviewer", "closing", closing_text, data={"engine": "builtin"})
            await finish(db, session, "completed", "time_limit", deps)
        ended += 1
    return ended
