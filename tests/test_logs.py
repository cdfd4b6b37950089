"""The server's access log never holds a credential: join tokens and signed links' signatures are
masked, even after uvicorn configures its logging (which `viva serve` lets it do)."""

from __future__ import annotations

import logging

import pytest
import uvicorn

from viva import logs

TOKEN = "k3Yx9c0QeLr7TtUu1vWw2xYy3zZa4bBc"
SIGNED = "/media/recordings/p/s.ogg?expires=1796000000&signature=Zm9yZ2VkLXNpZ25hdHVyZQ"


@pytest.mark.parametrize(
    ("path", "logged"),
    [
        (f"/join/{TOKEN}", "/join/[token]"),
        (f"/join/{TOKEN}/voice?client_turn_id=t1", "/join/[token]/voice?client_turn_id=t1"),
        (SIGNED, "/media/recordings/p/s.ogg?expires=1796000000&signature=[redacted]"),
        ("/api/v1/sessions?status=completed", "/api/v1/sessions?status=completed"),
    ],
)
def test_credentials_are_masked_in_paths(path: str, logged: str) -> None:
    assert logs.redact_path(path) == logged


def test_the_access_log_written_by_uvicorn_is_masked() -> None:
    logs.configure("info")
    logs.configure("info")  # configured again (each app does): still one filter
    access = logging.getLogger(logs.ACCESS_LOGGER)
    assert sum(isinstance(f, logs.RedactCredentials) for f in access.filters) == 1
    # uvicorn applies its logging config when it starts; the filter must survive that.
    uvicorn.Config(app=lambda *_: None, log_level="info")
    written: list[str] = []
    handler = logging.Handler()
    handler.emit = lambda record: written.append(record.getMessage())  # type: ignore[method-assign]
    access.addHandler(handler)
    try:
        # What uvicorn's HTTP protocol logs for each request.
        access.info('%s - "%s %s HTTP/%s" %d', "127.0.0.1:5000", "GET", f"/join/{TOKEN}/state", "1.1", 200)
        access.info('%s - "%s %s HTTP/%s" %d', "127.0.0.1:5000", "GET", SIGNED, "1.1", 206)
    finally:
        access.removeHandler(handler)
    assert len(written) == 2
    assert "GET /join/[token]/state HTTP/1.1" in written[0]
    assert "signature=[redacted]" in written[1]
    assert TOKEN not in " ".join(written) and "Zm9yZ2Vk" not in " ".join(written)
