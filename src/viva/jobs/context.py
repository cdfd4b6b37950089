"""What a job handler gets besides its database session."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import httpx
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from viva.config import Settings
from viva.kit.secretbox import SecretBox
from viva.kit.storage import BlobStore
from viva.kit.storage_factory import store_from_settings

if TYPE_CHECKING:
    from viva.models import Job


@dataclass
class JobContext:
    settings: Settings
    sessionmaker: async_sessionmaker[AsyncSession]
    secrets: SecretBox
    http: httpx.AsyncClient  # outgoing requests (webhooks); SSRF-checked at connect time
    job: Job | None = None
    store: BlobStore | None = None  # recordings; built from the settings when not given

    @property
    def blobs(self) -> BlobStore:
        if self.store is None:
            self.store = store_from_settings(self.settings)
        return self.store
