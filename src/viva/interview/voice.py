"""Voice in the candidate room: a spoken answer heard as text, an interviewer turn spoken.

The session is read in a short transaction of its own, and no transaction is open while a
speech engine works (seconds, on SQLite's only write lock otherwise). A failed engine stores
nothing: the candidate tries again or types."""

from __future__ import annotations

import time
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from viva.errors import ApiError, Conflict, NotFound, Unprocessable, ValidationFailed
from viva.sessions import live
from viva.speech.base import Audio, Speech, SpeechError

AUDIO_TYPES = ("video/webm", "application/ogg")  # besides audio/*: what browsers record into
MAX_ANSWER_CHARS = 10_000


class SpeechFailed(ApiError):
    status = 502
    message = "The speech service failed"


def engines(speech: Speech | None) -> Speech:
    """The configured engines, or 409 `voice_unavailable`."""
    if speech is None:
        raise Conflict("Voice is not offered on this server; answer in text", code="voice_unavailable")
    return speech


async def hear(
    sessionmaker: async_sessionmaker[AsyncSession], speech: Speech | None, token: str, audio: bytes, mime: str
) -> tuple[str, dict[str, Any]]:
    """The candidate's recorded answer as text, and what to store about how it was heard."""
    stt = engines(speech).stt
    mime = mime.split(";", 1)[0].strip().lower()
    if not mime.startswith("audio/") and mime not in AUDIO_TYPES:
        raise ValidationFailed.at(["body"], "Send the recording as audio (e.g. Content-Type: audio/webm)")
    if not audio:
        raise ValidationFailed.at(["body"], "The recording is empty")
    async with sessionmaker() as db, db.begin():  # live before paying for a transcription
        session = await live.by_token(db, token)
        if session.status != "in_progress":
            raise Conflict(f"The interview is {session.status}", code="interview_not_active")
        language = session.language
    started = time.monotonic()
    try:
        heard = await stt.transcribe(audio, mime, language)
    except SpeechError as exc:
        raise SpeechFailed(
            f"Your answer could not be transcribed ({exc}); please try again or type it", code="speech_failed"
        ) from exc
    text = heard.text.strip()
    if not text:
        raise Unprocessable("No speech was heard in the recording; please try again", code="no_speech")
    data = {
        "input": "voice",
        "stt_engine": heard.engine,
        "stt_ms": round((time.monotonic() - started) * 1000),
    }
    return text[:MAX_ANSWER_CHARS], data


async def speak(db: AsyncSession, speech: Speech | None, token: str, seq: int) -> Audio:
    """The interviewer's turn `seq` of this interview, spoken; 404 for any other turn."""
    tts = engines(speech).tts
    session = await live.by_token(db, token)
    turns = await live.transcript(db, session)
    said = next((t for t in turns if t.seq == seq and t.speaker == "interviewer"), None)
    if said is None:
        raise NotFound("Interviewer turn")
    await db.commit()  # nothing to store: no transaction open while the voice is synthesised
    try:
        return await tts.synthesize(said.text)
    except SpeechError as exc:
        raise SpeechFailed(
            f"The reply could not be spoken ({exc}); it is in the transcript", code="speech_failed"
        ) from exc
