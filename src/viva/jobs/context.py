"""What a job handler gets besides its database session."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import httpx
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from viva.config import Settings
from viva.kit.secretbox import SecretBox

if TYPE_CHECKING:
    from viva.models import Job


@dataclass
class JobContext:
    settings: Settings
    sessionmaker: async_sessionmaker[AsyncSession]
    secrets: SecretBox
    http: httpx.AsyncClient  # outgoing requests (webhooks); SSRF-checked at connect time
    job: Job | None = None
