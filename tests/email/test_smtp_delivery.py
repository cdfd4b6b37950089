"""Invites delivered to a real SMTP server (aiosmtpd): what the candidate receives, over
plain SMTP, STARTTLS with AUTH and implicit TLS."""

from __future__ import annotations

from email.utils import parseaddr, parsedate_to_datetime
from pathlib import Path

import pytest
from sqlalchemy import update

from tests.email.helpers import outbox, schedule, seed, session_of, viva
from tests.fixtures.smtp import Credentials, self_signed_context, smtp_server
from viva.models import Workspace


async def test_invite_arrives_with_link_stage_duration_and_local_time(database_url: str) -> None:
    with smtp_server() as smtp:
        async with viva(database_url, smtp_url=f"smtp://{smtp.host}:{smtp.port}") as env:
            seeded = await seed(env.client, env.tenant, stage_name="Technical Screen", duration_minutes=30)
            session = await schedule(
                env.client,
                env.tenant,
                seeded,
                scheduled_at="2030-07-01T07:30:00Z",
                timezone="Europe/Berlin",
            )
            assert session["invite_status"] == "queued"
            assert smtp.messages == []  # nothing leaves before the worker runs the job

            await env.worker.drain()

            [received] = smtp.messages
            settings = env.app.state.settings
            assert received.rcpt_tos == ["ada@example.com"]
            assert received.mail_from == parseaddr(settings.email_from)[1]
            mail = received.message
            assert mail["To"] == "ada@example.com"
            assert mail["From"] == settings.email_from
            assert mail["Subject"] == "Your interview with Acme: Technical Screen"
            assert mail["Message-ID"]
            assert parsedate_to_datetime(mail["Date"]).tzinfo is not None
            assert mail.get_content_type() == "multipart/alternative"
            assert [p.get_content_type() for p in mail.iter_parts()] == ["text/plain", "text/html"]

            text, html = received.part("plain"), received.part("html")
            join_url = session["join_url"]
            assert join_url.startswith("http://testserver/join/")
            for body in (text, html):
                assert join_url in body
                assert "Hello Ada Lovelace" in body
                assert "Technical Screen" in body
                assert "about 30 minutes" in body
                # 07:30 UTC is 09:30 in Berlin (summer time): the candidate's own clock.
                assert "Monday 1 July 2030, 09:30 (Europe/Berlin)" in body
                assert "07:30" not in body
            assert f'href="{join_url}"' in html

            assert (await session_of(env.client, env.tenant, session["id"]))["invite_status"] == "sent"
            [message] = await outbox(env.client, env.tenant)
            assert message["session_id"] == session["id"]
            assert message["kind"] == "invite"
            assert message["to"] == "ada@example.com"
            assert message["status"] == "sent"
            assert message["sent_at"] is not None
            assert message["error"] is None

            # The job is done: running the worker again sends nothing twice.
            await env.worker.drain()
            assert len(smtp.messages) == 1


async def test_unscheduled_invite_has_no_time_and_utc_default(database_url: str) -> None:
    with smtp_server() as smtp:
        async with viva(database_url, smtp_url=f"smtp://{smtp.host}:{smtp.port}") as env:
            session = await schedule(env.client, env.tenant, await seed(env.client, env.tenant))
            await env.worker.drain()
            [received] = smtp.messages
            for body in (received.part("plain"), received.part("html")):
                assert session["join_url"] in body
                assert "When" not in body  # no time was set, so none is invented
            assert (await session_of(env.client, env.tenant, session["id"]))["invite_status"] == "sent"


async def test_starttls_with_login(database_url: str, tmp_path: Path) -> None:
    credentials = Credentials("mailer", "s3cret pass")
    with smtp_server(
        tls_context=self_signed_context(tmp_path),
        require_starttls=True,
        authenticator=credentials,
        auth_require_tls=True,
        auth_required=True,
    ) as smtp:
        url = f"smtp+starttls://mailer:s3cret%20pass@{smtp.host}:{smtp.port}?verify=false"
        async with viva(database_url, smtp_url=url) as env:
            session = await schedule(env.client, env.tenant, await seed(env.client, env.tenant))
            await env.worker.drain()

            [received] = smtp.messages
            assert received.tls
            assert received.login == "mailer"
            assert received.rcpt_tos == ["ada@example.com"]
            assert session["join_url"] in received.part("plain")
            assert credentials.refused == []
            assert (await session_of(env.client, env.tenant, session["id"]))["invite_status"] == "sent"


@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS:UserWarning")
async def test_implicit_tls_with_login(database_url: str, tmp_path: Path) -> None:
    credentials = Credentials("mailer", "pw")
    with smtp_server(
        ssl_context=self_signed_context(tmp_path),
        authenticator=credentials,
        auth_require_tls=False,  # the whole connection is TLS; aiosmtpd only counts STARTTLS
        auth_required=True,
    ) as smtp:
        url = f"smtps://mailer:pw@{smtp.host}:{smtp.port}?verify=false&timeout=10"
        async with viva(database_url, smtp_url=url) as env:
            session = await schedule(env.client, env.tenant, await seed(env.client, env.tenant))
            await env.worker.drain()

            [received] = smtp.messages
            assert received.tls
            assert received.login == "mailer"
            assert session["join_url"] in received.part("html")
            assert (await session_of(env.client, env.tenant, session["id"]))["invite_status"] == "sent"


async def test_untrusted_certificate_is_refused_unless_verify_false(
    database_url: str, tmp_path: Path
) -> None:
    """verify=false is opt-in: by default a self-signed server certificate stops delivery."""
    with smtp_server(ssl_context=self_signed_context(tmp_path)) as smtp:
        async with viva(database_url, smtp_url=f"smtps://{smtp.host}:{smtp.port}?timeout=10") as env:
            session = await schedule(env.client, env.tenant, await seed(env.client, env.tenant))
            await env.worker.drain()

            assert smtp.messages == []
            [message] = await outbox(env.client, env.tenant)
            assert message["status"] == "queued"  # to be retried
            assert "CERTIFICATE_VERIFY_FAILED" in message["error"]
            assert (await session_of(env.client, env.tenant, session["id"]))["invite_status"] == "queued"


async def test_wrong_password_is_not_sent(database_url: str, tmp_path: Path) -> None:
    credentials = Credentials("mailer", "right")
    with smtp_server(
        tls_context=self_signed_context(tmp_path),
        require_starttls=True,
        authenticator=credentials,
        auth_required=True,
    ) as smtp:
        url = f"smtp+starttls://mailer:wrong@{smtp.host}:{smtp.port}?verify=false"
        async with viva(database_url, smtp_url=url) as env:
            session = await schedule(env.client, env.tenant, await seed(env.client, env.tenant))
            await env.worker.drain()

            assert smtp.messages == []
            assert credentials.refused
            [message] = await outbox(env.client, env.tenant)
            assert message["status"] == "queued"
            assert "535" in message["error"]
            assert (await session_of(env.client, env.tenant, session["id"]))["invite_status"] == "queued"


async def test_line_breaks_in_a_stage_name_cannot_inject_headers(database_url: str) -> None:
    """A stage name is free text; in the Subject header its line breaks must not start new
    headers (and must not make the email unsendable)."""
    with smtp_server() as smtp:
        async with viva(database_url, smtp_url=f"smtp://{smtp.host}:{smtp.port}") as env:
            seeded = await seed(env.client, env.tenant, stage_name="Screen\r\nBcc: attacker@evil.test")
            session = await schedule(env.client, env.tenant, seeded)
            await env.worker.drain()

            [received] = smtp.messages
            assert received.rcpt_tos == ["ada@example.com"]
            assert received.message["Bcc"] is None
            assert received.message["Subject"] == "Your interview with Acme: Screen Bcc: attacker@evil.test"
            assert (await session_of(env.client, env.tenant, session["id"]))["invite_status"] == "sent"


async def test_long_names_still_schedule_and_send(database_url: str) -> None:
    """Workspace and stage names may be 200 characters each; the subject built from them
    must still fit its column, or scheduling itself would fail on PostgreSQL."""
    with smtp_server() as smtp:
        async with viva(database_url, smtp_url=f"smtp://{smtp.host}:{smtp.port}") as env:
            async with env.app.state.sessionmaker() as db:
                await db.execute(
                    update(Workspace).where(Workspace.id == env.tenant.workspace_id).values(name="O" * 200)
                )
                await db.commit()
            seeded = await seed(env.client, env.tenant, stage_name="S" * 200)
            session = await schedule(env.client, env.tenant, seeded)
            await env.worker.drain()

            [received] = smtp.messages
            subject = received.message["Subject"]
            assert subject.startswith("Your interview with OOOO")
            assert len(subject) <= 300
            assert "S" * 200 in received.part("plain")  # the body keeps the full names
            assert (await session_of(env.client, env.tenant, session["id"]))["invite_status"] == "sent"
