"""Queue an email: render it, keep it in the outbox table and enqueue its sending, all in
the caller's transaction (a rolled-back request sends nothing)."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from viva.email.render import render
from viva.jobs.service import enqueue
from viva.kit.pagination import Page, PageRequest
from viva.kit.repository import WorkspaceRepository
from viva.models import EmailMessage

INVITE_KINDS = ("invite", "reschedule")


class EmailRepository(WorkspaceRepository[EmailMessage]):
    model = EmailMessage


async def queue(
    db: AsyncSession,
    workspace_id: uuid.UUID,
    kind: str,
    to: str,
    context: dict[str, Any],
    session_id: uuid.UUID | None = None,
) -> EmailMessage:
    """Render `kind` with `context`, store it, and enqueue the job that sends it."""
    subject, text, html = render(kind, context)
    message = EmailRepository(db, workspace_id).add(
        EmailMessage(
            session_id=session_id,
            kind=kind,
            to_address=to,
            subject=subject,
            text_body=text,
            html_body=html,
            status="queued",
        )
    )
    await db.flush()
    await enqueue(db, "email.send", {"message_id": str(message.id)}, workspace_id=workspace_id)
    return message


async def outbox(
    db: AsyncSession, workspace_id: uuid.UUID, request: PageRequest, session_id: uuid.UUID | None = None
) -> Page[EmailMessage]:
    repo = EmailRepository(db, workspace_id)
    stmt = repo.select()
    if session_id:
        stmt = stmt.where(EmailMessage.session_id == session_id)
    return await repo.paginate(stmt, request)


async def get_message(db: AsyncSession, message_id: uuid.UUID) -> EmailMessage | None:
    """For the sending job, which is told the id and finds the workspace from the row."""
    return await db.scalar(select(EmailMessage).where(EmailMessage.id == message_id))


async def is_latest_invite(db: AsyncSession, message: EmailMessage) -> bool:
    """Whether no newer invite or reschedule email exists for the message's session, so an
    old message's fate doesn't overwrite what the candidate last got."""
    newer = await db.scalar(
        select(EmailMessage.id)
        .where(
            EmailMessage.session_id == message.session_id,
            EmailMessage.kind.in_(INVITE_KINDS),
            EmailMessage.created_at > message.created_at,
        )
        .limit(1)
    )
    return newer is None


async def message_of(db: AsyncSession, workspace_id: uuid.UUID, message_id: uuid.UUID) -> EmailMessage | None:
    """One of this workspace's emails (the outbox page)."""
    return await EmailRepository(db, workspace_id).get(message_id)
