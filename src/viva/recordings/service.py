"""Interview recordings (SPEC §3.5 `recording_url`, §3.4 erasure; docs/recordings.md).

When the candidate answers by voice, the room records the interview (their microphone mixed with
the interviewer's voice) and uploads it in parts while it runs: a *take* per page load, numbered
parts within it. Parts go straight to the blob store under the participant's folder. When the
interview ends, a job assembles the takes into one Ogg Opus file, records where it is on the
session and removes the parts. The file is served only through signed links valid one hour;
it is deleted with the participant, and after `VIVA_RECORDING_RETENTION_DAYS` when that is set.

Blob writes and deletes happen outside database transactions (they can take seconds); every step
is safe to repeat, so a crash at any point leaves at worst work for the next run of the job.

This package is the only writer of the `session_recordings` table (one row per session that
started recording), reached as `session.recording`.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import structlog
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from viva.errors import ApiError, Conflict, NotFound, ValidationFailed
from viva.jobs.service import enqueue, enqueue_once
from viva.kit import clock
from viva.kit.secretbox import SecretBox
from viva.kit.storage import Blob, BlobNotFound, BlobStore, UrlSigner, check_signed
from viva.models import InterviewSession, SessionRecording
from viva.recordings import repository
from viva.speech.recording import MIME, NoAudio, assemble

log = structlog.get_logger(__name__)

FOLDER = "recordings"
MEDIA_PATH = "/media"  # where signed links are served (recordings/endpoints.py)
# Parts are still accepted this long after the interview ends (the room sends its last part
# when it sees the end); the assembly job runs then.
TAIL = timedelta(seconds=60)
# The assembly starts a little after the window closes, so a part accepted at its last moment
# has been written to the store by then.
ASSEMBLE_AFTER = TAIL + timedelta(seconds=15)
MAX_TAKES = 100
MAX_SEQ = 99_999
MAX_SESSION_BYTES = 256 * 1024 * 1024  # about 18 hours of browser Opus: far beyond any interview
PART_TYPES = {"audio/webm": "webm", "video/webm": "webm", "audio/ogg": "ogg", "application/ogg": "ogg"}
RETENTION_BATCH = 200


class StorageFailed(ApiError):
    status = 503
    message = "The recording store is unavailable"


def participant_folder(participant_id: uuid.UUID) -> str:
    return f"{FOLDER}/{participant_id}"


def parts_folder(session: InterviewSession) -> str:
    return f"{participant_folder(session.participant_id)}/{session.id}/parts"


def final_key(session: InterviewSession) -> str:
    return f"{participant_folder(session.participant_id)}/{session.id}.ogg"


# ------------------------------------------------------------------ while the interview runs


def start_take(session: InterviewSession) -> int:
    """The room starts recording (again, after a reload): the number of its take."""
    if session.status != "in_progress":
        raise Conflict(f"The interview is {session.status}", code="interview_not_active")
    recording = session.recording
    if recording is None:
        recording = session.recording = SessionRecording(workspace_id=session.workspace_id, takes=0)
    if recording.takes >= MAX_TAKES:
        raise Conflict("This interview has been recorded in too many pieces", code="too_many_takes")
    take = recording.takes
    recording.takes = take + 1
    recording.status = "capturing"
    return take


def signer(secrets: SecretBox) -> UrlSigner:
    """Signs recording links (valid one hour) with a key derived from the app's secret."""
    return UrlSigner(secrets.derive("signed storage urls"))


def accept_part(session: InterviewSession, take: int, seq: int, mime: str, size: int) -> str:
    """Where one uploaded part goes, once the session has been checked to still take it; its
    bytes are counted against the session's budget (a resent part counts twice: an upper bound)."""
    base_mime = mime.split(";", 1)[0].strip().lower()
    extension = PART_TYPES.get(base_mime)
    if extension is None:
        raise ValidationFailed.at(
            ["body"], "Send the part as audio/webm or audio/ogg (what MediaRecorder writes)"
        )
    recording = session.recording
    if recording is None or not accepting_parts(session):
        raise Conflict("This interview is no longer being recorded", code="recording_closed")
    if not 0 <= take < recording.takes:
        raise NotFound("Recording take")
    if not 0 <= seq <= MAX_SEQ:
        raise ValidationFailed.at(["seq"], f"Part numbers run from 0 to {MAX_SEQ}")
    if size == 0:
        raise ValidationFailed.at(["body"], "The part is empty")
    total = (recording.bytes or 0) + size
    if total > MAX_SESSION_BYTES:
        raise Conflict("This interview's recording is too large", code="recording_too_large")
    recording.bytes = total
    return f"{parts_folder(session)}/{take:03d}-{seq:06d}.{extension}"


def _status(session: InterviewSession) -> str | None:
    return session.recording.status if session.recording else None


def accepting_parts(session: InterviewSession) -> bool:
    if _status(session) != "capturing":
        return False
    if session.status == "in_progress":
        return True
    return session.ended_at is not None and clock.now() < session.ended_at + TAIL


async def store_part(store: BlobStore, key: str, data: bytes) -> None:
    """Write an accepted part (outside the transaction that accepted it: it may take a while)."""
    try:
        await store.put(key, data)
    except Exception as exc:  # any backend failure: the room keeps the part and sends it again
        log.warning("recording_part_not_stored", error=type(exc).__name__)
        raise StorageFailed(headers={"Retry-After": "2"}) from exc


async def on_session_ended(db: AsyncSession, session: InterviewSession) -> None:
    """The interview ended: assemble its recording once the last parts are in (a job)."""
    if _status(session) == "capturing":
        await enqueue_once(
            db,
            "recordings.assemble",
            f"recording:{session.id}",
            {"session_id": str(session.id)},
            run_at=clock.now() + ASSEMBLE_AFTER,
            workspace_id=session.workspace_id,
        )


# ------------------------------------------------------------------ after it


def _takes(keys: Iterable[str]) -> list[list[str]]:
    """Part keys grouped by take, in order (the names sort as take-seq)."""
    grouped: dict[str, list[str]] = {}
    for key in sorted(keys):
        grouped.setdefault(key.rsplit("/", 1)[-1].split("-", 1)[0], []).append(key)
    return list(grouped.values())


async def assemble_session(
    sessionmaker: async_sessionmaker[AsyncSession], store: BlobStore, session_id: uuid.UUID
) -> str:
    """Turn an ended session's parts into its recording; what happened, for the job's log.

    Idempotent: run again after a crash at any step, it finishes the work or finds it done.
    """
    async with sessionmaker() as db:
        session = await repository.session_by_id(db, session_id)
        if session is None:
            return "erased"  # the participant's erasure job removes the parts
        parts, status, key = parts_folder(session), _status(session), final_key(session)
        if session.status in ("scheduled", "in_progress"):
            raise RuntimeError("the interview has not ended")  # enqueued early by hand: retried later
    if status != "capturing":
        await store.delete_prefix(parts)  # a previous run stored the result but died before this
        return status or "none"
    takes = []
    for keys in _takes(await store.list_keys(parts)):
        takes.append(b"".join([(await store.get(k)).data for k in keys]))
    result = None
    if takes:
        with contextlib.suppress(NoAudio):
            result = await asyncio.to_thread(assemble, takes)
    if result is not None:
        await store.put(key, result.data)
    async with sessionmaker() as db, db.begin():
        session = await repository.session_by_id(db, session_id, lock=True)
        if session is None or session.recording is None:
            await store.delete(key)  # erased while we worked
            return "erased"
        recording = session.recording
        # Parts that do not decode are a failed recording; no part at all is no recording.
        outcome = "ready" if result is not None else "failed" if takes else None
        recording.status = outcome
        # `bytes` counted the upload budget until now; from here it is the file's size.
        recording.bytes = recording.seconds = None
        if result is not None:
            recording.key = key
            recording.bytes, recording.seconds = len(result.data), result.seconds
    await store.delete_prefix(parts)
    return outcome or "none"


async def forget_participant(db: AsyncSession, workspace_id: uuid.UUID, participant_id: uuid.UUID) -> None:
    """The participant is being erased: delete every recording and part of theirs (a job, so it
    happens even if the store is down right now; their signed links stop working at once,
    since the sessions they point at are gone)."""
    payload = {"folder": participant_folder(participant_id)}
    await enqueue(db, "recordings.erase", payload, workspace_id=workspace_id)
    # Once more after the upload window, for a part that passed its check just before the erasure.
    await enqueue(db, "recordings.erase", payload, workspace_id=workspace_id, run_at=clock.now() + TAIL * 2)


async def expire(
    sessionmaker: async_sessionmaker[AsyncSession], store: BlobStore, retention_days: int
) -> int:
    """Delete recordings of interviews that ended more than `retention_days` ago; how many went."""
    if retention_days <= 0:
        return 0
    async with sessionmaker() as db:
        due = [
            (s.id, s.recording.key if s.recording else None, parts_folder(s))
            for s in await repository.past_retention(
                db, clock.now() - timedelta(days=retention_days), RETENTION_BATCH
            )
        ]
    for session_id, key, parts in due:
        if key:
            await store.delete(key)
        await store.delete_prefix(parts)  # a recording whose assembly never finished
        async with sessionmaker() as db, db.begin():
            session = await repository.session_by_id(db, session_id, lock=True)
            recording = session.recording if session is not None else None
            if recording is not None and recording.key == key:
                recording.status, recording.key = "expired", None
                recording.bytes = recording.seconds = None
    return len(due)


# ------------------------------------------------------------------ reading


@dataclass(frozen=True, slots=True)
class SignedRecording:
    url: str
    expires_at: datetime


def signed(session: InterviewSession, signer: UrlSigner, public_url: str) -> SignedRecording | None:
    """A link to the session's recording valid for the signer's lifetime (one hour), or None."""
    recording = session.recording
    if recording is None or recording.status != "ready" or not recording.key:
        return None
    now = clock.now()
    url = signer.url(public_url.rstrip("/") + MEDIA_PATH, recording.key, now=now)
    return SignedRecording(url=url, expires_at=now + signer.ttl)


def describe(session: InterviewSession, signer: UrlSigner, public_url: str) -> dict[str, Any]:
    """`GET /sessions/{id}/recording`: the signed link and what it leads to, or 404 saying why not."""
    link = signed(session, signer, public_url)
    if link is None:
        status = _status(session)
        if status == "capturing":
            raise NotFound("Recording", code="recording_not_ready")
        if status == "expired":
            raise NotFound("Recording", code="recording_expired")
        if status == "failed":
            raise NotFound("Recording", code="recording_failed")
        raise NotFound("Recording", code="no_recording")
    return {
        "session_id": str(session.id),
        "status": "ready",
        "url": link.url,
        "expires_at": clock.isoformat(link.expires_at),
        "content_type": MIME,
        "size_bytes": session.recording.bytes if session.recording else None,
        "duration_seconds": session.recording.seconds if session.recording else None,
    }


async def open_link(
    db: AsyncSession, store: BlobStore, signer: UrlSigner, key: str, expires: str, signature: str
) -> Blob:
    """The audio behind a signed link: 403 when the link is bad or expired; 404 when the
    recording is gone (participant erased, retention), even if its bytes are not deleted yet."""
    check_signed(signer, key, expires, signature)
    session = await repository.session_by_recording_key(db, key)
    if session is None or _status(session) != "ready":
        raise NotFound("Recording")
    try:
        return await store.get(key)
    except BlobNotFound:
        raise NotFound("Recording") from None
