"""Resume ingestion (job kind `participants.fetch_resume`): download, extract, chunk, embed, store;
`resume_status` and `resume_error` say what happened."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import structlog
from sqlalchemy.ext.asyncio import AsyncSession

from viva.jobs.context import JobContext
from viva.jobs.registry import task
from viva.participants import service
from viva.resumes.chunks import chunk
from viva.resumes.embed import MAX_PASSAGES, EmbeddingUnavailable, aembed_passages
from viva.resumes.extract import ExtractionFailed, UnsupportedType, extract_text
from viva.resumes.fetch import FetchFailed, download

log = structlog.get_logger()


@task("participants.fetch_resume", max_attempts=3)
async def fetch_resume(ctx: JobContext, db: AsyncSession, payload: dict[str, Any]) -> None:
    participant = await service.for_resume_job(
        db, uuid.UUID(payload["participant_id"]), payload["resume_url"]
    )
    if participant is None:
        return  # erased, or the URL changed since (its own job handles the new one)
    workspace_id, url = participant.workspace_id, payload["resume_url"]
    await db.commit()  # no transaction held while downloading and parsing
    try:
        got = await download(ctx.http, url, allow_http=ctx.settings.allow_private_urls)
        text = await asyncio.to_thread(extract_text, got.data, got.content_type, got.filename)
    except (FetchFailed, ExtractionFailed, UnsupportedType) as exc:
        await service.record_resume(db, workspace_id, participant.id, url, error=exc.reason)
        return
    passages = chunk(text)
    embeddings: list[bytes | None] | None = None
    if ctx.settings.embeddings_enabled and passages:
        try:
            embedded = await aembed_passages(passages[:MAX_PASSAGES])
        except EmbeddingUnavailable as exc:
            # Embeddings only sharpen which passages the interviewer sees; the resume is still usable.
            log.warning("resume_embedding_unavailable", error=str(exc))
        else:
            embeddings = [*embedded, *[None] * (len(passages) - len(embedded))]
    await service.record_resume(db, workspace_id, participant.id, url, chunks=passages, embeddings=embeddings)
