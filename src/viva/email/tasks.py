"""Sending queued emails (job kind `email.send`)."""

from __future__ import annotations

import uuid
from email.message import EmailMessage as MimeMessage
from email.utils import format_datetime, make_msgid
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from viva.email import smtp
from viva.email.service import INVITE_KINDS, get_message, is_latest_invite
from viva.jobs.context import JobContext
from viva.jobs.registry import RetryLater, task
from viva.kit import clock
from viva.models import EmailMessage
from viva.sessions import service as sessions

MAX_ATTEMPTS = 8


@task("email.send", max_attempts=MAX_ATTEMPTS)
async def send_email(ctx: JobContext, db: AsyncSession, payload: dict[str, Any]) -> None:
    message = await get_message(db, uuid.UUID(payload["message_id"]))
    if message is None or message.status in ("sent", "outbox"):
        return  # erased with its participant, or already done by an earlier run
    if not ctx.settings.smtp_url:
        message.status = "outbox"  # kept locally; the invite is not "sent"
        await _report(db, message, "not_configured")
        return
    mime = MimeMessage()
    mime["From"] = ctx.settings.email_from
    mime["To"] = message.to_address
    mime["Subject"] = message.subject
    mime["Date"] = format_datetime(clock.now())  # required by RFC 5322; aiosmtplib doesn't add it
    mime["Message-ID"] = make_msgid(domain="viva.local")
    mime.set_content(message.text_body)
    mime.add_alternative(message.html_body, subtype="html")
    await db.commit()  # don't hold a transaction (SQLite: the write lock) during network I/O
    attempt = ctx.job.attempts if ctx.job else 1
    try:
        await smtp.send(smtp.SmtpConfig.from_url(ctx.settings.smtp_url), mime)
    except Exception as exc:  # any SMTP or network failure: record, retry, finally give up
        message.error = f"{type(exc).__name__}: {exc}"[:2000]
        if attempt >= MAX_ATTEMPTS:
            message.status = "failed"
            await _report(db, message, "failed")
            return
        await _commit_error(ctx, message.id, message.error)
        raise RetryLater(message.error) from exc
    message.status = "sent"
    message.sent_at = clock.now()
    message.error = None
    await _report(db, message, "sent")


async def _report(db: AsyncSession, message: EmailMessage, status: str) -> None:
    """Tell the session what became of its newest invite (older ones no longer count). A job,
    like an endpoint, may call any domain's service: sessions' service queues emails through
    email's service, never through this module."""
    if message.session_id and message.kind in INVITE_KINDS and await is_latest_invite(db, message):
        await sessions.set_invite_status(db, message.workspace_id, message.session_id, status)


async def _commit_error(ctx: JobContext, message_id: uuid.UUID, error: str) -> None:
    """Keep the latest error visible on the message while the job waits to retry."""
    async with ctx.sessionmaker() as db:
        message = await get_message(db, message_id)
        if message is not None:
            message.error = error
            await db.commit()
