"""A real SMTP server for tests: aiosmtpd on a loopback port, in its own thread, keeping
every message it accepted (parsed) with how it was delivered (TLS, login)."""

from __future__ import annotations

import datetime as dt
import ipaddress
import ssl
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from tests.fixtures.live import free_port


@dataclass
class Received:
    mail_from: str
    rcpt_tos: list[str]
    message: EmailMessage
    tls: bool  # the message travelled over TLS (implicit or after STARTTLS)
    login: str | None  # the user that authenticated, if any

    def part(self, subtype: str) -> str:
        """The text of the text/<subtype> alternative."""
        body = self.message.get_body(preferencelist=(subtype,))
        assert body is not None and body.get_content_subtype() == subtype, self.message
        content: str = body.get_content()  # type: ignore[attr-defined]
        return content


@dataclass
class Inbox:
    """The aiosmtpd handler: collects what the server accepted."""

    messages: list[Received] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802 - aiosmtpd's name
        message = message_from_bytes(envelope.original_content, policy=policy.default)
        assert isinstance(message, EmailMessage)
        login = session.auth_data.login.decode() if session.authenticated else None
        received = Received(
            mail_from=envelope.mail_from,
            rcpt_tos=list(envelope.rcpt_tos),
            message=message,
            tls=server.transport.get_extra_info("ssl_object") is not None,
            login=login,
        )
        with self._lock:
            self.messages.append(received)
        return "250 Message accepted for delivery"


@dataclass
class SmtpServer:
    host: str
    port: int
    inbox: Inbox

    @property
    def messages(self) -> list[Received]:
        return list(self.inbox.messages)


class Credentials:
    """An aiosmtpd authenticator accepting exactly one user and password."""

    def __init__(self, user: str, password: str) -> None:
        self.user = user.encode()
        self.password = password.encode()
        self.refused: list[str] = []

    def __call__(self, server: Any, session: Any, envelope: Any, mechanism: str, data: Any) -> AuthResult:
        if isinstance(data, LoginPassword) and (data.login, data.password) == (self.user, self.password):
            return AuthResult(success=True, auth_data=data)
        self.refused.append(mechanism)
        return AuthResult(success=False, handled=False)


@contextmanager
def smtp_server(port: int | None = None, **smtp_options: Any) -> Iterator[SmtpServer]:
    """Run aiosmtpd on 127.0.0.1 and `port` (default: a free one); `smtp_options` go to the
    controller (ssl_context for implicit TLS; tls_context, require_starttls, authenticator, …)."""
    inbox = Inbox()
    port = port or free_port()
    controller = Controller(
        inbox, hostname="127.0.0.1", port=port, server_hostname="mx.test", ready_timeout=10, **smtp_options
    )
    controller.start()
    try:
        yield SmtpServer("127.0.0.1", port, inbox)
    finally:
        controller.stop()


def self_signed_context(directory: Path) -> ssl.SSLContext:
    """A server TLS context with a freshly made self-signed certificate for 127.0.0.1."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "mx.test")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName("mx.test"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
            ),
            critical=False,
        )
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = directory / "smtp-cert.pem", directory / "smtp-key.pem"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert_file, key_file)
    return context
