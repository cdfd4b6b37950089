"""Sign-in throttling, for the API's and the dashboard's sign-in alike.

Two budgets. Per client address and email: 10 attempts a minute, against guessing one
account's password. Per password, across every email and address: 20 failed sign-ins an hour,
against one password tried on many accounts (password spraying, credential stuffing). The
password is counted by an HMAC keyed with a key derived from VIVA_SECRET_KEY, never by itself,
so the counters (in memory or in Redis) hold nothing a password could be read back from, and
neither the password nor its HMAC is ever logged. The client address is the peer's, or the one
a proxy listed in VIVA_TRUSTED_PROXIES forwarded (uvicorn applies that rule; see cli.serve)."""

from __future__ import annotations

import hashlib
import hmac
from datetime import timedelta

from fastapi import Request
from sqlalchemy.ext.asyncio import AsyncSession

from viva.auth import service
from viva.auth.ratelimit import RateLimiter
from viva.errors import TooManyRequests, Unauthorized
from viva.kit.secretbox import SecretBox
from viva.models import User, UserSession

ATTEMPTS_PER_MINUTE = 10
"""Sign-in attempts per minute for one email from one client address."""
PASSWORD_FAILURES = 20
"""Failed sign-ins with one password, whatever the email or address, per PASSWORD_WINDOW_SECONDS."""
PASSWORD_WINDOW_SECONDS = 3600


def client_address(request: Request) -> str:
    return request.client.host if request.client else "?"


class SignInThrottle:
    def __init__(self, secrets: SecretBox, redis_url: str | None = None) -> None:
        self.per_account = RateLimiter(ATTEMPTS_PER_MINUTE, redis_url, name="sign-in")
        self.per_password = RateLimiter(
            PASSWORD_FAILURES, redis_url, name="sign-in-password", window_seconds=PASSWORD_WINDOW_SECONDS
        )
        self._key = secrets.derive("sign-in-password").encode()

    def _password_key(self, password: str) -> str:
        return hmac.new(self._key, password.encode("utf-8", "surrogatepass"), hashlib.sha256).hexdigest()

    async def sign_in(
        self, db: AsyncSession, client: str, email: str, password: str, ttl: timedelta
    ) -> tuple[User, UserSession, str]:
        """auth.service.sign_in within both budgets: 429 (with Retry-After) past either."""
        allowed, headers = await self.per_account.hit(f"{client}:{email.strip().lower()}")
        if not allowed:
            raise TooManyRequests("Too many sign-in attempts; wait a minute", headers=headers)
        password_key = self._password_key(password)
        # Only failures count against a password: its owner signing in often is not an attack.
        allowed, headers = await self.per_password.peek(password_key)
        if not allowed:
            raise TooManyRequests(
                "Too many failed sign-ins with this password across accounts; try again later",
                code="password_throttled",
                headers=headers,
            )
        try:
            return await service.sign_in(db, email.strip(), password, ttl)
        except Unauthorized:
            await self.per_password.hit(password_key)
            raise
