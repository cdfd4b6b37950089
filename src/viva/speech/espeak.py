"""Text-to-speech with Debian's espeak-ng, in a subprocess: robotic but tiny and always offline."""

from __future__ import annotations

import shutil

from viva.speech._subprocess import clean_env, run_engine
from viva.speech.base import Audio, SpeechError
from viva.speech.wav import repair_streamed_wav, wav_duration

ENGINE = "espeak-ng"
MAX_CHARS = 5000


def espeak_available() -> bool:
    return shutil.which("espeak-ng") is not None


class EspeakTextToSpeech:
    """`espeak-ng --stdout`: a WAV (22.05 kHz mono) of the text read from stdin.

    `voice` is an espeak-ng voice name such as `en-us` or `de`.
    """

    engine = ENGINE

    def __init__(self, *, voice: str = "en-us", words_per_minute: int = 165, timeout: float = 30.0) -> None:
        self.voice = voice
        self.words_per_minute = words_per_minute
        self.timeout = timeout

    async def synthesize(self, text: str, voice: str | None = None) -> Audio:
        if not text.strip():
            raise SpeechError("nothing to say", engine=ENGINE)
        if len(text) > MAX_CHARS:
            raise SpeechError(f"text longer than {MAX_CHARS} characters", engine=ENGINE)
        argv = [
            "espeak-ng",
            "--stdout",
            "--stdin",
            "-v",
            voice or self.voice,
            "-s",
            str(self.words_per_minute),
        ]
        # Text on stdin, never in argv: it could start with "-" and would show in `ps`.
        raw = await run_engine(argv, text.encode(), engine=ENGINE, time_limit=self.timeout, env=clean_env())
        try:
            data = repair_streamed_wav(raw)
        except ValueError as exc:
            raise SpeechError(f"espeak-ng wrote no WAV: {exc}", engine=ENGINE) from exc
        return Audio(data=data, mime="audio/wav", engine=ENGINE, duration_s=wav_duration(data))

    async def warm(self) -> None:
        return None  # nothing to load

    async def aclose(self) -> None:
        return None
