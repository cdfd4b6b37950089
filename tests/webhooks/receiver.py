"""A webhook receiver on loopback: a tiny ASGI app served by uvicorn in a thread.

It records every request (headers, exact body bytes, arrival time) and answers whatever
its `respond` function says, so tests can play a failing, slow or gone endpoint. It runs
in its own thread and event loop, so it stays up while workers come and go."""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from standardwebhooks.webhooks import Webhook

from tests.fixtures.live import serve_asgi


@dataclass(frozen=True)
class Received:
    path: str
    headers: dict[str, str]
    body: bytes
    at: float  # time.time() on arrival

    @property
    def id(self) -> str:
        return self.headers["webhook-id"]

    @property
    def json(self) -> Any:
        return json.loads(self.body)

    @property
    def signatures(self) -> list[str]:
        return self.headers["webhook-signature"].split(" ")

    def verify(self, secret: str) -> Any:
        """What a receiver does: standardwebhooks' own check (includes the 5-minute
        timestamp tolerance against the real clock)."""
        return Webhook(secret).verify(self.body, self.headers)

    def signed_by(self, secret: str) -> bool:
        """The signature check alone, for attempts made under a frozen clock far from now."""
        stamp = datetime.fromtimestamp(int(self.headers["webhook-timestamp"]), UTC)
        expected = Webhook(secret).sign(self.id, stamp, self.body.decode())
        return expected in self.signatures


# (request, its 1-based number at this receiver) -> status, or (status, extra headers)
Responder = Callable[[Received, int], "int | tuple[int, dict[str, str]]"]


@dataclass
class Receiver:
    respond: Responder = lambda request, n: 200
    delay: float = 0.0  # seconds to sit on each request before answering
    requests: list[Received] = field(default_factory=list)
    in_flight: int = 0  # requests read but not yet answered
    aborted: int = 0  # requests whose sender hung up before the body was complete
    url: str = ""  # <base>/hook
    base: str = ""  # http://127.0.0.1:<port>
    _lock: threading.Lock = field(default_factory=threading.Lock)

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        assert scope["type"] == "http"
        chunks = []
        more = True
        while more:
            message = await receive()
            if message["type"] == "http.disconnect":  # the sender died mid-request
                with self._lock:
                    self.aborted += 1
                return
            chunks.append(message.get("body", b""))
            more = message.get("more_body", False)
        request = Received(
            path=scope["path"],
            headers={k.decode().lower(): v.decode() for k, v in scope["headers"]},
            body=b"".join(chunks),
            at=time.time(),
        )
        with self._lock:
            self.requests.append(request)
            number = len(self.requests)
            self.in_flight += 1
        try:
            answer = self.respond(request, number)
            status, extra = answer if isinstance(answer, tuple) else (answer, {})
            if self.delay:
                await asyncio.sleep(self.delay)
            body = b'{"received":true}'
            headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
            headers += [(k.lower().encode(), v.encode()) for k, v in extra.items()]
            await send({"type": "http.response.start", "status": status, "headers": headers})
            await send({"type": "http.response.body", "body": body})
        finally:
            with self._lock:
                self.in_flight -= 1

    def snapshot(self) -> list[Received]:
        with self._lock:
            return list(self.requests)

    def ids(self) -> list[str]:
        return [r.id for r in self.snapshot()]

    def of(self, event_type: str) -> list[Received]:
        return [r for r in self.snapshot() if r.json["event"] == event_type]

    def clear(self) -> None:
        with self._lock:
            self.requests.clear()


@contextmanager
def serve(receiver: Receiver, path: str = "/hook") -> Iterator[Receiver]:
    """Run `receiver` on a free loopback port; `receiver.url` is where to send webhooks."""
    with serve_asgi(receiver) as base:
        receiver.base = base
        receiver.url = base + path
        yield receiver
