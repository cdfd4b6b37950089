"""The candidate room at /join/{token}: the page and the small HTTP interface behind it
(docs/candidate-room.md). The join token is the only credential; it opens one session."""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request
from fastapi import Path as PathParam
from fastapi.responses import HTMLResponse, Response, StreamingResponse
from fastapi.templating import Jinja2Templates
from sqlalchemy.ext.asyncio import AsyncSession

from viva.db import DB
from viva.errors import NotFound, TooManyRequests, ValidationFailed
from viva.interview import coding, runner, voice
from viva.interview.schemas import CodeBody, EndBody, SignalsBody, StartBody, TurnBody
from viva.kit.crypto import token_hash
from viva.models import InterviewSession
from viva.recordings import service as recordings
from viva.sessions import live
from viva.speech.base import TextToSpeech

# Left out of the API reference: this is the browser's interface, documented in docs/candidate-room.md.
router = APIRouter(prefix="/join", tags=["Candidate room"], include_in_schema=False)
pages = Jinja2Templates(directory=Path(__file__).parent / "templates")
Token = Annotated[str, PathParam(min_length=1, max_length=200)]
ROOM_REQUESTS_PER_MINUTE = 120  # a person answering questions needs a fraction of this


def interviewer(request: Request) -> runner.Interviewer:
    found: runner.Interviewer = request.app.state.interviewer
    return found


Interviewer = Annotated[runner.Interviewer, Depends(interviewer)]


async def limit(request: Request, token: Token) -> None:
    """Per-link rate limit: the room has no API key, so the link is what is counted."""
    allowed, headers = await request.app.state.room_limiter.hit(f"join:{token_hash(token)}")
    if not allowed:
        raise TooManyRequests("Too many requests from this interview link; slow down", headers=headers)


Limited = Depends(limit)


@router.get("/{token}", response_class=HTMLResponse)
async def room_page(request: Request, db: DB, token: Token) -> HTMLResponse:
    try:
        session = await live.by_token(db, token)
    except NotFound:
        return pages.TemplateResponse(
            request,
            "room.html",
            {
                "token": "",
                "base": "",
                "stage_name": "",
                "organization": "",
                "duration_minutes": 0,
                "status": "not_found",
                "consented": False,
                "language": "en",
                "voice": False,
                "voice_silence_ms": 0,
            },
            status_code=404,
        )
    state = await runner.state(db, session)
    response = pages.TemplateResponse(
        request,
        "room.html",
        {
            "token": token,
            "base": f"/join/{token}",
            "stage_name": state["stage_name"],
            "organization": state["organization"],
            "duration_minutes": state["duration_minutes"],
            "status": state["status"],
            "consented": state["consented"],
            "language": state["language"],
            "voice": request.app.state.speech is not None,
            "voice_silence_ms": request.app.state.settings.voice_silence_ms,
        },
    )
    # The link is a credential: keep it out of caches and out of Referer headers.
    response.headers["Cache-Control"] = "no-store"
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


@router.get("/{token}/state", dependencies=[Limited], summary="What the room shows")
async def room_state(request: Request, db: DB, token: Token) -> dict[str, Any]:
    session = await live.by_token(db, token)
    if session.status == "in_progress":
        live.touch(session)
    return await _state(request, db, session)


@router.post("/{token}/start", dependencies=[Limited], summary="Consent and join (or rejoin)")
async def start(request: Request, db: DB, iv: Interviewer, token: Token, body: StartBody) -> dict[str, Any]:
    if not body.consent:
        raise ValidationFailed.at(["consent"], "The interview can only start once you agree to it")
    session = await runner.join(db, iv, token)
    return await _state(request, db, session)


Speak = Annotated[
    bool, Query(description="Also speak the reply: `audio` events, a sentence each, as it streams")
]


@router.post("/{token}/turn", dependencies=[Limited], summary="Answer, and stream the interviewer's reply")
async def turn(
    request: Request, iv: Interviewer, token: Token, body: TurnBody, speak: Speak = False
) -> StreamingResponse:
    tts = voice.engines(request.app.state.speech).tts if speak else None
    return await _answer(iv, token, body.text, body.client_turn_id, tts=tts)


async def _answer(
    iv: runner.Interviewer,
    token: str,
    text: str | None,
    client_turn_id: str | None,
    answer_data: dict[str, Any] | None = None,
    *,
    tts: TextToSpeech | None = None,
    received: float | None = None,
) -> StreamingResponse:
    # Our own transaction, committed before the stream starts: the answer and the lease must be
    # stored whether or not the candidate stays connected for the reply.
    async with iv.sessionmaker() as db, db.begin():
        pending = await runner.begin_turn(db, iv, token, text, client_turn_id, answer_data)
    events = pending.events()
    if tts is not None:
        on_spoken = None
        if pending.candidate is not None and received is not None:  # a spoken answer: time the reply
            answer_seq = int(pending.candidate["seq"])

            async def on_spoken(figures: dict[str, int]) -> None:
                await voice.record_reply(iv.sessionmaker, token, answer_seq, figures)

        events = voice.spoken(events, tts, received=received or time.monotonic(), on_spoken=on_spoken)
    return StreamingResponse(
        _sse(events),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
    )


async def _state(request: Request, db: AsyncSession, session: InterviewSession) -> dict[str, Any]:
    """RoomState, plus whether the candidate may answer by voice here and how."""
    offered = request.app.state.speech is not None
    settings = request.app.state.settings
    return {
        **await runner.state(db, session),
        "voice": offered,
        "voice_options": {
            "silence_ms": settings.voice_silence_ms,
            "max_answer_bytes": settings.max_voice_body_bytes,
        }
        if offered
        else None,
    }


@router.post("/{token}/voice", dependencies=[Limited], summary="Answer by voice: the audio is transcribed")
async def voice_turn(
    request: Request,
    iv: Interviewer,
    token: Token,
    client_turn_id: Annotated[str | None, Query(max_length=64)] = None,
    speak: Annotated[bool, Query(description="Speak the reply (`audio` events); default true")] = True,
    silence_ms: Annotated[
        int | None, Query(ge=0, le=60_000, description="The silence that ended the answer (for metrics)")
    ] = None,
) -> StreamingResponse:
    """The body is the recorded answer (Content-Type audio/webm, audio/ogg, audio/wav, ...). It is
    transcribed, then answered exactly like a typed answer on /turn, whose stream this returns,
    spoken sentence by sentence unless `speak=false`."""
    received = time.monotonic()
    mime = request.headers.get("content-type", "")
    speech = request.app.state.speech
    text, data = await voice.hear(iv.sessionmaker, speech, token, await request.body(), mime)
    if silence_ms is not None:
        data["silence_ms"] = silence_ms
    tts = voice.engines(speech).tts if speak else None
    return await _answer(iv, token, text, client_turn_id, data, tts=tts, received=received)


@router.post("/{token}/recording", dependencies=[Limited], summary="Start (or restart) recording")
async def recording_take(db: DB, token: Token) -> dict[str, Any]:
    """The room records the interview's audio in takes (one per page load); this numbers the next."""
    session = await live.by_token(db, token, lock=True)
    return {"take": recordings.start_take(session)}


@router.put(
    "/{token}/recording/{take}/{seq}",
    dependencies=[Limited],
    summary="One part of the recording",
    status_code=204,
)
async def recording_part(
    request: Request,
    iv: Interviewer,
    token: Token,
    take: Annotated[int, PathParam(ge=0, le=recordings.MAX_TAKES)],
    seq: Annotated[int, PathParam(ge=0, le=recordings.MAX_SEQ)],
) -> Response:
    """The body is the next piece of MediaRecorder's output (audio/webm or audio/ogg); a part
    sent again replaces itself. Accepted until shortly after the interview ends."""
    data = await request.body()
    async with iv.sessionmaker() as db, db.begin():
        session = await live.by_token(db, token, lock=True)
        key = recordings.accept_part(session, take, seq, request.headers.get("content-type", ""), len(data))
    await recordings.store_part(request.app.state.blob_store, key, data)
    return Response(status_code=204)


@router.get("/{token}/speech/{seq}", dependencies=[Limited], summary="The interviewer's turn, spoken")
async def speech_of_turn(
    request: Request, db: DB, token: Token, seq: Annotated[int, PathParam(ge=1)]
) -> Response:
    audio = await voice.speak(db, request.app.state.speech, token, seq)
    return Response(audio.data, media_type=audio.mime, headers={"Cache-Control": "private, max-age=3600"})


async def _sse(events: AsyncIterator[tuple[str, dict[str, Any]]]) -> AsyncIterator[bytes]:
    async for name, data in events:
        yield f"event: {name}\ndata: {json.dumps(data, ensure_ascii=False)}\n\n".encode()


@router.post("/{token}/signals", dependencies=[Limited], summary="Authenticity signals and heartbeat")
async def signals(db: DB, token: Token, body: SignalsBody) -> dict[str, Any]:
    session = await live.by_token(db, token, lock=True)
    if session.status != "in_progress":
        return {"authenticity_signals": session.authenticity_signals}
    recorded = live.record_signals(session, [e.model_dump() for e in body.events])
    return {"authenticity_signals": recorded}


@router.post("/{token}/end", dependencies=[Limited], summary="The candidate ends the interview")
async def end(request: Request, db: DB, iv: Interviewer, token: Token, body: EndBody) -> dict[str, Any]:
    session = await runner.end_by_candidate(db, iv, token)
    return await _state(request, db, session)


@router.post("/{token}/code/{action}", dependencies=[Limited], summary="Run the visible tests, or submit")
async def code(
    request: Request, iv: Interviewer, token: Token, action: Literal["run", "submit"], body: CodeBody
) -> dict[str, Any]:
    state = request.app.state
    data = await coding.run(
        iv.sessionmaker,
        state.code_runner,
        state.code_runner_error,
        token,
        body.language,
        body.code,
        submit=action == "submit",
    )
    return {"data": data}
