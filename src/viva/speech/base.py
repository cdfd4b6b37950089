"""The speech interfaces the rest of Viva talks to, and the errors they raise.

`SpeechToText.transcribe` turns a recorded utterance into a `Transcript`;
`TextToSpeech.synthesize` turns the interviewer's words into `Audio`. Whatever goes wrong
surfaces as `SpeechUnavailable` (worth retrying later: timeouts, connection errors, 5xx, a
crashed engine process) or another `SpeechError` (the engine refused the input). Error messages
are safe to log: never an API key, never a provider's raw response body.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol


@dataclass(frozen=True, slots=True)
class Segment:
    """A stretch of a transcript with its time span in the audio (seconds)."""

    start_s: float
    end_s: float
    text: str


@dataclass(frozen=True, slots=True)
class Transcript:
    """What was said. `duration_s` is the audio's length when the engine reports it."""

    text: str
    engine: str
    duration_s: float | None = None
    segments: tuple[Segment, ...] = field(default=())

    @property
    def words(self) -> list[str]:
        """The transcript's words, lower-cased, without punctuation (for matching and tests)."""
        cleaned = "".join(c.lower() if c.isalnum() or c == "'" else " " for c in self.text)
        return cleaned.split()


@dataclass(frozen=True, slots=True)
class Audio:
    """Encoded audio (`mime` such as audio/wav) and its length when known."""

    data: bytes
    mime: str
    engine: str
    duration_s: float | None = None


class SpeechToText(Protocol):
    """Transcribes one utterance. `engine` names it in transcripts and logs."""

    engine: str

    async def transcribe(self, audio: bytes, mime: str, language: str = "en") -> Transcript:
        """Raises `SpeechUnavailable` or `SpeechError`."""
        ...

    async def warm(self) -> None:
        """Load what the first call would otherwise wait for (a model), e.g. at startup."""
        ...

    async def aclose(self) -> None:
        """Release connections or loaded models (at shutdown)."""
        ...


class TextToSpeech(Protocol):
    """Speaks text. `voice` is engine-specific; None means the engine's configured default."""

    engine: str

    async def synthesize(self, text: str, voice: str | None = None) -> Audio:
        """Raises `SpeechUnavailable` or `SpeechError`."""
        ...

    async def warm(self) -> None:
        """Start what the first call would otherwise wait for (a voice process), e.g. at startup."""
        ...

    async def aclose(self) -> None:
        """Release connections (at shutdown)."""
        ...


@dataclass(frozen=True, slots=True)
class Speech:
    """The engines a deployment offers voice interviews with: both directions or none."""

    stt: SpeechToText
    tts: TextToSpeech

    async def warm(self) -> None:
        """Get both engines ready; a failure is only logged by the caller (the first call retries)."""
        await self.stt.warm()
        await self.tts.warm()

    async def aclose(self) -> None:
        await self.stt.aclose()
        await self.tts.aclose()


class SpeechError(Exception):
    """A speech call failed. `str(error)` is safe to log."""

    def __init__(self, message: str, *, engine: str, status_code: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.engine = engine
        self.status_code = status_code


class SpeechUnavailable(SpeechError):
    """The engine could not answer now (timeout, connection error, 5xx, engine process died)."""


class SpeechConfigError(ValueError):
    """The speech settings are incomplete or name an engine that is not installed (at startup)."""
