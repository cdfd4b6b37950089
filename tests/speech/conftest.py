from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.fixtures.fake_audio import FakeAudioServer, fake_audio_server


@pytest.fixture(scope="module")
def audio_server() -> Iterator[FakeAudioServer]:
    with fake_audio_server() as server:
        yield server


@pytest.fixture
def audio(audio_server: FakeAudioServer) -> FakeAudioServer:
    """The module's fake audio API, with no scripted replies or recorded requests left over."""
    audio_server.reset()
    return audio_server
