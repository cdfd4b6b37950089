"""Participants: create (one or in bulk), change, erase."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from pydantic import AnyUrl, ValidationError
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from viva.errors import ApiError, Conflict, NotFound, ValidationFailed, validation_error
from viva.events import service as events
from viva.jobs.service import enqueue
from viva.kit.merge import merge_patch
from viva.kit.net import blocked_host
from viva.kit.pagination import Page, PageRequest
from viva.models import Participant
from viva.participants.repository import ParticipantRepository
from viva.participants.schemas import (
    BulkResult,
    ParticipantCreate,
    ParticipantRead,
    ParticipantUpdate,
    Skipped,
)
from viva.recordings import service as recordings
from viva.resumes.embed import best_passages
from viva.templates import service as templates_service


def dedupe_key(template_id: uuid.UUID | None, email: str) -> str:
    return f"{template_id or '-'}:{email.strip().lower()}"


def to_read(p: Participant) -> ParticipantRead:
    return ParticipantRead.model_validate(
        {
            "id": p.id,
            "name": p.name,
            "email": p.email,
            "evaluation_template_id": p.evaluation_template_id,
            "pipeline_id": p.evaluation_template_id,
            "external_id": p.external_id,
            "phone": p.phone,
            "tags": p.tags,
            "profile": p.profile,
            "background": p.background,
            "resume_url": p.resume_url,
            "resume_status": p.resume_status,
            "resume_error": p.resume_error,
            "metadata": p.metadata_,
            "status": p.status,
            "pipeline_status": p.pipeline_status,
            "created_at": p.created_at,
            "updated_at": p.updated_at,
        }
    )


def _payload(p: Participant) -> dict[str, Any]:
    return {"participant": to_read(p).model_dump(mode="json")}


def _build(data: ParticipantCreate) -> Participant:
    values = data.model_dump(mode="json", exclude={"metadata", "evaluation_template_id", "pipeline_id"})
    email = data.email.strip().lower()
    return Participant(
        **{**values, "email": email},
        evaluation_template_id=data.template_id,
        metadata_=data.metadata,
        dedupe_key=dedupe_key(data.template_id, email),
        resume_status="pending" if data.resume_url else "none",
    )


def check_resume_url(url: AnyUrl | None, allow_private: bool) -> None:
    """Refuse a resume_url the download would be refused for: kit.net's rule, applied again to
    every connection when it is fetched."""
    if url is not None and blocked_host(url.host or "", allow_private):
        raise ValidationFailed.at(
            ["resume_url"], "resume_url may not point at a private, loopback or link-local address"
        )


def _duplicate(email: str) -> Conflict:
    return Conflict(
        f"A participant with email {email} already exists for this template",
        code="duplicate_participant",
    )


async def _flush_unique(db: AsyncSession, email: str) -> None:
    """Flush, turning a lost race on the unique (workspace, template, email) into a 409."""
    try:
        async with db.begin_nested():
            await db.flush()
    except IntegrityError:
        raise _duplicate(email) from None


async def create(
    db: AsyncSession, workspace_id: uuid.UUID, data: ParticipantCreate, *, allow_private: bool = False
) -> Participant:
    """Create a participant; email is unique per (workspace, template)."""
    check_resume_url(data.resume_url, allow_private)
    repo = ParticipantRepository(db, workspace_id)
    if data.template_id:
        await templates_service.get_template(db, workspace_id, data.template_id, data.template_field)
    participant = _build(data)
    if await repo.existing_keys([participant.dedupe_key]):
        raise _duplicate(participant.email)
    repo.add(participant)
    await _flush_unique(db, participant.email)
    await events.emit(
        db, workspace_id, "participant.created", _payload(participant), participant_id=participant.id
    )
    await queue_resume(db, participant)
    return participant


def _reason(error: ApiError) -> str:
    issues = error.extra.get("issues")
    if issues:
        return "; ".join(f"{'.'.join(str(p) for p in i['path']) or 'row'}: {i['message']}" for i in issues)
    return error.message


async def create_many(
    db: AsyncSession, workspace_id: uuid.UUID, rows: list[Any], *, allow_private: bool = False
) -> BulkResult:
    """Create up to 500 participants at once. Each row is checked on its own; rows that are
    invalid, name an unknown template, or duplicate an existing participant (or an earlier
    row) are skipped with the reason, and the rest are created together."""
    repo = ParticipantRepository(db, workspace_id)
    skipped: list[Skipped] = []
    candidates: list[tuple[int, Participant]] = []
    known_templates: dict[uuid.UUID, bool] = {}
    for index, row in enumerate(rows):
        email = row.get("email") if isinstance(row, dict) and isinstance(row.get("email"), str) else None
        try:
            data = ParticipantCreate.model_validate(row)
            check_resume_url(data.resume_url, allow_private)
        except ValidationError as exc:
            skipped.append(Skipped(index=index, email=email, reason=_reason(validation_error(exc))))
            continue
        except ApiError as exc:
            skipped.append(Skipped(index=index, email=email, reason=_reason(exc)))
            continue
        tid = data.template_id
        if tid is not None and tid not in known_templates:
            try:
                await templates_service.get_template(db, workspace_id, tid)
                known_templates[tid] = True
            except NotFound:
                known_templates[tid] = False
        if tid is not None and not known_templates[tid]:
            skipped.append(
                Skipped(
                    index=index, email=email, reason=f"{data.template_field}: Evaluation template not found"
                )
            )
            continue
        candidates.append((index, _build(data)))

    existing = await repo.existing_keys({p.dedupe_key for _, p in candidates})
    created: list[Participant] = []
    seen: set[str] = set()
    for index, participant in candidates:
        if participant.dedupe_key in existing or participant.dedupe_key in seen:
            skipped.append(
                Skipped(
                    index=index,
                    email=participant.email,
                    reason=f"duplicate_participant: {participant.email} already exists for this template",
                )
            )
            continue
        seen.add(participant.dedupe_key)
        repo.add(participant)
        created.append(participant)
    if created:
        await _flush_unique(db, created[0].email)
        for participant in created:
            await events.emit(
                db, workspace_id, "participant.created", _payload(participant), participant_id=participant.id
            )
            await queue_resume(db, participant)
    skipped.sort(key=lambda s: s.index)
    return BulkResult(created=[to_read(p) for p in created], skipped=skipped)


async def get(db: AsyncSession, workspace_id: uuid.UUID, participant_id: uuid.UUID) -> Participant:
    participant = await ParticipantRepository(db, workspace_id).get(participant_id)
    if participant is None:
        raise NotFound("Participant")
    return participant


async def list_participants(
    db: AsyncSession, workspace_id: uuid.UUID, request: PageRequest, **filters: Any
) -> Page[Participant]:
    repo = ParticipantRepository(db, workspace_id)
    return await repo.paginate(repo.filtered(**filters), request)


async def update(
    db: AsyncSession,
    workspace_id: uuid.UUID,
    participant_id: uuid.UUID,
    patch: ParticipantUpdate,
    *,
    allow_private: bool = False,
) -> Participant:
    """Apply a PATCH: absent fields stay, lists are replaced, and the nested objects (`profile`,
    `background`, `metadata`) merge key by key (`kit.merge.merge_patch`: null clears a key); the
    merged objects must pass the rules a new participant's do. A changed email or template is
    checked for duplicates again."""
    check_resume_url(patch.resume_url, allow_private)
    participant = await get(db, workspace_id, participant_id)
    changes = patch.model_dump(mode="json", exclude_unset=True)
    if "pipeline_id" in changes:  # evaluation_template_id by its vendor name
        del changes["pipeline_id"]
        changes["evaluation_template_id"] = patch.template_id
    current = {
        "profile": participant.profile,
        "background": participant.background,
        "metadata": participant.metadata_,
    }
    merged = {field: merge_patch(current[field], changes[field]) for field in current if field in changes}
    # Each part was valid on its own; the whole must be too (e.g. metadata within 16 KiB).
    changes |= ParticipantUpdate.model_validate(merged).model_dump(mode="json", include=set(merged))
    if "evaluation_template_id" in changes:
        changes["evaluation_template_id"] = patch.template_id
        if patch.template_id is not None:
            await templates_service.get_template(db, workspace_id, patch.template_id, patch.template_field)
    if "email" in changes:
        changes["email"] = changes["email"].strip().lower()
    if "metadata" in changes:
        changes["metadata_"] = changes.pop("metadata")
    new_resume = "resume_url" in changes and changes["resume_url"] != participant.resume_url
    if new_resume:
        changes["resume_status"] = "pending" if changes["resume_url"] else "none"
        changes["resume_error"] = None
        await ParticipantRepository(db, workspace_id).drop_resume_chunks(participant.id)
    for key, value in changes.items():
        setattr(participant, key, value)
    key = dedupe_key(participant.evaluation_template_id, participant.email)
    if key != participant.dedupe_key:
        if await ParticipantRepository(db, workspace_id).existing_keys([key]):
            raise _duplicate(participant.email)
        participant.dedupe_key = key
    await _flush_unique(db, participant.email)
    await events.emit(
        db, workspace_id, "participant.updated", _payload(participant), participant_id=participant.id
    )
    if new_resume:
        await queue_resume(db, participant)
    return participant


async def erase(db: AsyncSession, workspace_id: uuid.UUID, participant_id: uuid.UUID) -> None:
    """Erase a person: their row and everything hanging off it (sessions, transcripts,
    recordings, resume text) and the personal data in earlier events.
    An anonymised `participant.deleted` event remains as the audit trail."""
    repo = ParticipantRepository(db, workspace_id)
    participant = await get(db, workspace_id, participant_id)
    anonymised = {
        "participant": {
            "id": str(participant.id),
            "external_id": participant.external_id,
            "evaluation_template_id": str(participant.evaluation_template_id)
            if participant.evaluation_template_id
            else None,
            "erased": True,
        }
    }
    await events.redact_participant(db, workspace_id, participant.id, anonymised)
    await recordings.forget_participant(db, workspace_id, participant.id)
    await repo.delete(participant)
    await db.flush()
    await events.emit(db, workspace_id, "participant.deleted", anonymised, participant_id=participant_id)


async def count_for_template(db: AsyncSession, workspace_id: uuid.UUID, template_id: uuid.UUID) -> int:
    return await ParticipantRepository(db, workspace_id).count_for_template(template_id)


async def queue_resume(db: AsyncSession, participant: Participant) -> None:
    """Enqueue the download of the participant's resume_url (a job; see tasks.py)."""
    if participant.resume_url:
        await enqueue(
            db,
            "participants.fetch_resume",
            {"participant_id": str(participant.id), "resume_url": participant.resume_url},
            workspace_id=participant.workspace_id,
        )


async def for_resume_job(db: AsyncSession, participant_id: uuid.UUID, resume_url: str) -> Participant | None:
    """The participant a resume job is for, if it still exists and still has that URL."""
    participant = await ParticipantRepository.by_id_any_workspace(db, participant_id)
    return participant if participant is not None and participant.resume_url == resume_url else None


async def record_resume(
    db: AsyncSession,
    workspace_id: uuid.UUID,
    participant_id: uuid.UUID,
    resume_url: str,
    *,
    chunks: list[str] | None = None,
    embeddings: Sequence[bytes | None] | None = None,
    error: str | None = None,
) -> None:
    """Store what came of a resume download: its passages (ready) or why not (failed).
    `embeddings[i]`, when given, is passage i's vector (None for one left unembedded).
    Nothing is written if the URL changed meanwhile."""
    repo = ParticipantRepository(db, workspace_id)
    participant = await repo.get(participant_id)
    if participant is None or participant.resume_url != resume_url:
        return
    await repo.drop_resume_chunks(participant_id)
    if error is not None or not chunks:
        participant.resume_status, participant.resume_error = "failed", error or "no text found in the resume"
        return
    repo.add_resume_chunks(participant_id, chunks, embeddings or [None] * len(chunks))
    participant.resume_status, participant.resume_error = "ready", None


async def resume_chunks(db: AsyncSession, workspace_id: uuid.UUID, participant_id: uuid.UUID) -> list[str]:
    """The participant's resume passages in document order (empty until ready)."""
    return await ParticipantRepository(db, workspace_id).resume_chunks(participant_id)


async def resume_excerpts(
    db: AsyncSession, workspace_id: uuid.UUID, participant_id: uuid.UUID, query: str, k: int = 4
) -> list[str]:
    """The `k` resume passages most relevant to `query` (say, the interview's skills), best first;
    fewer when the resume has fewer, none until it is ready. Ranked by BM25 fused with the passages'
    stored embeddings, or by BM25 alone where there are none; see `viva.resumes.embed.best_passages`.
    Embedding the query runs in a thread, off the event loop."""
    rows = await ParticipantRepository(db, workspace_id).resume_chunks_with_embeddings(participant_id)
    return await best_passages([text for text, _ in rows], [vector for _, vector in rows], query, k)


async def set_pipeline_status(
    db: AsyncSession, workspace_id: uuid.UUID, participant_id: uuid.UUID, status: str
) -> Participant:
    """Move the participant in the pipeline (scoring and review do this); `participant.updated`."""
    participant = await get(db, workspace_id, participant_id)
    if participant.pipeline_status != status:
        participant.pipeline_status = status
        await db.flush()
        await events.emit(
            db, workspace_id, "participant.updated", _payload(participant), participant_id=participant.id
        )
    return participant


async def get_many(
    db: AsyncSession, workspace_id: uuid.UUID, participant_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, Participant]:
    """This workspace's participants among `participant_ids`, by id (for lists naming them)."""
    found = await ParticipantRepository(db, workspace_id).get_many(list(dict.fromkeys(participant_ids)))
    return {p.id: p for p in found}
