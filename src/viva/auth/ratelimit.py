"""Per-caller rate limits (fixed windows, one minute unless said otherwise) with IETF RateLimit
headers.

In-process by default; shared through Redis when VIVA_REDIS_URL is set, so every API
replica counts against the same budget."""

from __future__ import annotations

import math
import time

from limits import RateLimitItemPerSecond
from limits.aio.storage import MemoryStorage, Storage
from limits.aio.strategies import FixedWindowRateLimiter
from limits.storage import storage_from_string


class RateLimiter:
    def __init__(
        self, per_window: int, redis_url: str | None = None, name: str = "default", window_seconds: int = 60
    ):
        storage: Storage
        if redis_url:
            uri = redis_url if redis_url.startswith("async+") else "async+" + redis_url
            found = storage_from_string(uri, implementation="redispy")  # redis-py, not coredis
            assert isinstance(found, Storage)  # the async+ scheme always yields an async storage
            storage = found
        else:
            storage = MemoryStorage()
        self.storage = storage
        self.limiter = FixedWindowRateLimiter(storage)
        self.item = RateLimitItemPerSecond(per_window, window_seconds)
        self.window_seconds = window_seconds
        self.name = name

    async def hit(self, key: str) -> tuple[bool, dict[str, str]]:
        """Count one request for `key`. Returns (allowed, headers for the response)."""
        allowed = await self.limiter.hit(self.item, self.name, key)
        return allowed, await self._headers(key, allowed)

    async def peek(self, key: str) -> tuple[bool, dict[str, str]]:
        """Would one more hit for `key` be allowed? Counts nothing."""
        allowed = await self.limiter.test(self.item, self.name, key)
        return allowed, await self._headers(key, allowed)

    async def _headers(self, key: str, allowed: bool) -> dict[str, str]:
        reset_at, remaining = await self.limiter.get_window_stats(self.item, self.name, key)
        reset = max(0, math.ceil(reset_at - time.time()))
        headers = {
            "RateLimit-Policy": f'"{self.name}";q={self.item.amount};w={self.window_seconds}',
            "RateLimit": f'"{self.name}";r={max(0, remaining)};t={reset}',
        }
        if not allowed:
            headers["Retry-After"] = str(max(1, reset))
        return headers
