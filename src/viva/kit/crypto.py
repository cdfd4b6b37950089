"""Secrets: generation and one-way hashing of high-entropy tokens."""

from __future__ import annotations

import hashlib
import hmac
import secrets
import uuid


def random_token(nbytes: int = 32) -> str:
    """URL-safe random text with `nbytes` bytes of entropy."""
    return secrets.token_urlsafe(nbytes)


def new_id() -> uuid.UUID:
    return uuid.uuid4()


def token_hash(token: str) -> str:
    """SHA-256 hex of a high-entropy token. Enough for random secrets (no dictionary to
    attack) and lets a lookup by hash use an index; passwords use argon2 instead."""
    return hashlib.sha256(token.encode()).hexdigest()


def constant_time_equals(a: str, b: str) -> bool:
    """As bytes: hmac.compare_digest refuses str holding non-ASCII (a garbled request would be a 500)."""
    return hmac.compare_digest(a.encode(), b.encode())
