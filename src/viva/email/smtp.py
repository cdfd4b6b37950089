"""The SMTP backend: aiosmtplib, configured from one URL. Imports no domain."""

from __future__ import annotations

import ssl
from dataclasses import dataclass
from email.message import EmailMessage as MimeMessage
from urllib.parse import parse_qs, unquote, urlsplit

import aiosmtplib


@dataclass(frozen=True)
class SmtpConfig:
    host: str
    port: int
    username: str | None
    password: str | None
    use_tls: bool  # TLS from the first byte (smtps, usually port 465)
    start_tls: bool | None  # True: required; None: when the server offers it
    verify: bool
    timeout: float

    @classmethod
    def from_url(cls, url: str) -> SmtpConfig:
        """smtp://[user:pass@]host[:port] | smtp+starttls://… | smtps://…, with optional
        ?verify=false (self-signed test servers) and ?timeout=seconds."""
        parts = urlsplit(url)
        scheme = parts.scheme.lower()
        if scheme not in ("smtp", "smtp+starttls", "smtps"):
            raise ValueError("VIVA_SMTP_URL must start with smtp://, smtp+starttls:// or smtps://")
        query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
        return cls(
            host=parts.hostname or "localhost",
            port=parts.port or (465 if scheme == "smtps" else 587 if scheme == "smtp+starttls" else 25),
            username=unquote(parts.username) if parts.username else None,
            password=unquote(parts.password) if parts.password else None,
            use_tls=scheme == "smtps",
            start_tls=True if scheme == "smtp+starttls" else None if scheme == "smtp" else False,
            verify=query.get("verify", "true").lower() not in ("false", "0", "no"),
            timeout=float(query.get("timeout", "30")),
        )


async def send(config: SmtpConfig, message: MimeMessage) -> None:
    """Hand one message to the SMTP server; raises when it is not accepted."""
    context = ssl.create_default_context()
    if not config.verify:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    await aiosmtplib.send(
        message,
        hostname=config.host,
        port=config.port,
        username=config.username,
        password=config.password,
        use_tls=config.use_tls,
        start_tls=config.start_tls,
        tls_context=context,
        timeout=config.timeout,
    )
