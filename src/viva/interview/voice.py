"""Voice in the candidate room: a spoken answer heard as text, the interviewer's reply spoken
sentence by sentence while it streams, and how long the candidate waited for it.

The session is read in a short transaction of its own, and no transaction is open while a
speech engine works (seconds, on SQLite's only write lock otherwise). A failed engine stores
nothing: the candidate tries again or types."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import re
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import structlog
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from viva.errors import ApiError, Conflict, NotFound, Unprocessable, ValidationFailed
from viva.interview import questions as qb
from viva.sessions import live
from viva.speech.base import Audio, Speech, SpeechError, TextToSpeech

log = structlog.get_logger(__name__)
Event = tuple[str, dict[str, Any]]

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
    data: dict[str, Any] = {
        "input": "voice",
        "stt_engine": heard.engine,
        "stt_ms": round((time.monotonic() - started) * 1000),
    }
    if heard.duration_s is not None:
        data["audio_seconds"] = round(heard.duration_s, 2)
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


# ------------------------------------------------------------------ speaking a reply as it streams

# A sentence ends at . ! ? or … (with any closing quotes or brackets) followed by white space.
_SENTENCE_END = re.compile(r"[.!?\u2026][\"'\u2019\u201d)\]]*\s+")
# Abbreviations whose full stop does not end a sentence (the interviewer's vocabulary, not a lexicon).
_NOT_AN_END = re.compile(r"(?:\b(?:e\.g|i\.e|etc|vs|Mr|Mrs|Ms|Dr|Prof|St|approx|incl)\.|\b[A-Z]\.)\s+$")


def _plain(text: str) -> str:
    return " ".join(text.split())


class Sentences:
    """Cuts text that arrives in pieces into whole sentences, as soon as each one is complete."""

    def __init__(self) -> None:
        self.buffer = ""
        self.taken = ""  # every character handed out so far, for comparing with the final text

    def feed(self, piece: str) -> list[str]:
        self.buffer += piece
        out = []
        start = 0
        for match in _SENTENCE_END.finditer(self.buffer):
            if _NOT_AN_END.search(self.buffer[: match.end()]):
                continue
            sentence = self.buffer[start : match.end()]
            start = match.end()
            if sentence.strip():
                out.append(sentence.strip())
        self.taken += self.buffer[:start]
        self.buffer = self.buffer[start:]
        return out

    def finish(self, final: str) -> tuple[list[str], bool]:
        """The rest of the utterance once its final text is known: (sentences, consistent). When
        the final text is not what streamed (the model's words were replaced), `consistent` is
        False and the sentences are the whole final text, to be spoken instead."""
        streamed = _plain(self.taken)
        consistent = _plain(final).startswith(streamed)
        rest = Sentences()
        sentences = rest.feed(_plain(final)[len(streamed) :] if consistent else final)
        if rest.buffer.strip():
            sentences.append(rest.buffer.strip())
        self.buffer = self.taken = ""
        return sentences, consistent


OnSpoken = Callable[[dict[str, int]], Awaitable[None]]


class _Voice:
    """One turn's stream being spoken: `pump` reads the turn's events and queues sentences,
    `speak` synthesises them one at a time (in order) and queues `audio` events beside the rest."""

    def __init__(self, tts: TextToSpeech, received: float) -> None:
        self.tts, self.received = tts, received
        self.out: asyncio.Queue[Event | None] = asyncio.Queue()
        self.says: asyncio.Queue[tuple[int, str] | None] = asyncio.Queue()
        self.utterance = 0  # which interviewer turn of this stream the words belong to
        self.stopped: set[int] = set()  # utterances not to be spoken (any more)
        self.figures: dict[str, int] = {}

    async def speak(self) -> None:
        index, failed = 0, False
        while (item := await self.says.get()) is not None:
            utterance, sentence = item
            if failed or utterance in self.stopped:
                continue
            started = time.monotonic()
            try:
                audio = await self.tts.synthesize(sentence)
            except Exception as exc:  # an engine's own bug too: the reply is still in the text
                failed = True
                if isinstance(exc, SpeechError):
                    log.warning("reply_not_spoken", engine=exc.engine, error=str(exc))
                else:
                    log.exception("reply_not_spoken")
                await self.out.put(
                    ("audio_error", {"message": "The interviewer's voice is unavailable; read the reply"})
                )
                continue
            if utterance in self.stopped:
                continue
            if not self.figures:
                now = time.monotonic()
                self.figures = {
                    "server_ms": round((now - self.received) * 1000),
                    "tts_ms": round((now - started) * 1000),
                }
            duration = round(audio.duration_s * 1000) if audio.duration_s is not None else None
            await self.out.put(
                (
                    "audio",
                    {
                        "index": index,
                        "utterance": utterance,
                        "text": sentence,
                        "mime": audio.mime,
                        "duration_ms": duration,
                        "audio": base64.b64encode(audio.data).decode(),
                    },
                )
            )
            index += 1

    async def stop(self, utterance: int) -> None:
        self.stopped.add(utterance)
        await self.out.put(("audio_stop", {"utterance": utterance}))

    async def pump(
        self, events: AsyncIterator[Event], speaker: asyncio.Task[None], on_spoken: OnSpoken | None
    ) -> None:
        cutter = Sentences()
        done: Event | None = None
        try:
            async for name, data in events:
                if name == "delta":
                    for sentence in cutter.feed(str(data.get("text") or "")):
                        if qb.mentions_protected(sentence):
                            # Never said aloud: the stored turn will replace these words anyway.
                            self.stopped.add(self.utterance)
                        await self.says.put((self.utterance, sentence))
                elif name == "turn":
                    rest, consistent = cutter.finish(str(data.get("text") or ""))
                    if not consistent:  # replaced words: say the stored turn instead
                        await self.stop(self.utterance)
                        self.utterance += 1
                    for sentence in rest:
                        await self.says.put((self.utterance, sentence))
                    self.utterance += 1
                elif name == "retry":  # the words streamed so far were not stored
                    await self.stop(self.utterance)
                    cutter = Sentences()
                    self.utterance += 1
                if name == "done":
                    done = (name, data)  # held back: `done` comes after the last audio
                else:
                    await self.out.put((name, data))
        finally:
            await self.says.put(None)
            try:
                await speaker
                if on_spoken is not None and self.figures:
                    await on_spoken(dict(self.figures))
            except Exception:  # a metric not stored must not leave the candidate's stream open
                log.exception("reply_voice_not_finished")
            finally:
                if done is not None:
                    await self.out.put(done)
                await self.out.put(None)


async def spoken(
    events: AsyncIterator[Event], tts: TextToSpeech, *, received: float, on_spoken: OnSpoken | None = None
) -> AsyncIterator[Event]:
    """The turn's events with the interviewer's words also spoken: an `audio` event per sentence
    (base64 audio, in order, as soon as it is synthesised), and `done` last.

    `received` is when the answer arrived (time.monotonic()); `on_spoken(figures)` is awaited
    before `done` with {"server_ms": to the first audio sent, "tts_ms": that sentence's synthesis}.
    A failing engine sends one `audio_error`; the rest of the turn is text only.
    """
    voice = _Voice(tts, received)
    speaker = asyncio.create_task(voice.speak())
    pumping = asyncio.create_task(voice.pump(events, speaker, on_spoken))
    try:
        while (item := await voice.out.get()) is not None:
            yield item
    finally:
        # The candidate went away: nothing more to say (the turn itself is stored regardless).
        for task in (pumping, speaker):
            task.cancel()
        for task in (pumping, speaker):
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task


async def record_reply(
    sessionmaker: async_sessionmaker[AsyncSession], token: str, answer_seq: int, figures: dict[str, int]
) -> None:
    """Store the server's side of how fast a spoken answer was answered with voice."""
    async with sessionmaker() as db, db.begin():
        session = await live.by_token(db, token, lock=True)
        live.record_voice_reply(session, answer_seq, create=False, **figures)
