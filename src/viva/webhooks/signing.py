"""Standard Webhooks 1.0 signatures (via the `standardwebhooks` package)."""

from __future__ import annotations

import base64
import secrets
from datetime import datetime

from standardwebhooks.webhooks import Webhook


def new_secret() -> str:
    """whsec_ + base64 of 32 random bytes."""
    return "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()


def signature_header(secrets_in_use: list[str], msg_id: str, timestamp: datetime, body: str) -> str:
    """`v1,<sig>` per active secret, space-separated (two during a rotation's overlap)."""
    return " ".join(Webhook(s).sign(msg_id, timestamp, body) for s in secrets_in_use)
