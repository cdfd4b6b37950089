"""Any OpenAI-compatible audio API: `POST {base}/audio/transcriptions` and `{base}/audio/speech`.

Works with OpenAI itself and with self-hosted servers that speak the same protocol (e.g.
speaches, LocalAI, vLLM's transcription endpoint). `base_url` is the API root the paths are
appended to, such as `http://127.0.0.1:8000/v1`.
"""

from __future__ import annotations

from typing import Any

import httpx

from viva.speech.base import Audio, Segment, SpeechError, SpeechUnavailable, Transcript
from viva.speech.wav import repair_streamed_wav, wav_duration

OPENAI_BASE_URL = "https://api.openai.com/v1"
ENGINE = "openai"
_EXTENSIONS = {
    "audio/webm": "webm",
    "audio/ogg": "ogg",
    "audio/wav": "wav",
    "audio/x-wav": "wav",
    "audio/mpeg": "mp3",
    "audio/mp4": "m4a",
    "audio/flac": "flac",
}


class _Client:
    def __init__(self, *, base_url: str | None, api_key: str | None, timeout: float) -> None:
        headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self._http = httpx.AsyncClient(
            base_url=(base_url or OPENAI_BASE_URL).rstrip("/") + "/",
            headers=headers,
            timeout=httpx.Timeout(timeout),
            # Environment proxies and netrc must not see the API key or the candidate's voice.
            trust_env=False,
        )

    async def post(self, path: str, **kwargs: Any) -> httpx.Response:
        try:
            response = await self._http.post(path, **kwargs)
        except httpx.TimeoutException as exc:
            raise SpeechUnavailable(f"speech API timed out on {path}", engine=ENGINE) from exc
        except httpx.HTTPError as exc:
            raise SpeechUnavailable(
                f"speech API unreachable on {path}: {type(exc).__name__}", engine=ENGINE
            ) from exc
        if response.status_code == 429 or response.status_code >= 500:
            raise SpeechUnavailable(
                f"speech API answered {response.status_code} on {path}",
                engine=ENGINE,
                status_code=response.status_code,
            )
        if response.status_code >= 400:
            raise SpeechError(
                f"speech API refused {path} with {response.status_code}",
                engine=ENGINE,
                status_code=response.status_code,
            )
        return response

    async def warm(self) -> None:
        return None  # nothing to load

    async def aclose(self) -> None:
        await self._http.aclose()


class OpenAICompatibleSpeechToText:
    """Transcription through `/audio/transcriptions` (multipart upload)."""

    engine = ENGINE

    def __init__(
        self, *, base_url: str | None, api_key: str | None, model: str, timeout: float = 30.0
    ) -> None:
        self.model = model
        self._client = _Client(base_url=base_url, api_key=api_key, timeout=timeout)

    async def transcribe(self, audio: bytes, mime: str, language: str = "en") -> Transcript:
        base_mime = mime.split(";", 1)[0].strip().lower()
        # Servers pick the decoder from the file name's extension, not from the part's type.
        filename = f"speech.{_EXTENSIONS.get(base_mime, 'bin')}"
        response = await self._client.post(
            "audio/transcriptions",
            data={"model": self.model, "language": language, "response_format": "json"},
            files={"file": (filename, audio, base_mime)},
        )
        try:
            body = response.json()
            text = body["text"]
            if not isinstance(text, str):
                raise TypeError("text is not a string")
            segments = tuple(
                Segment(float(s["start"]), float(s["end"]), str(s["text"]).strip())
                for s in body.get("segments") or ()
            )
            duration = body.get("duration")
            return Transcript(
                text=text.strip(),
                engine=self.engine,
                duration_s=float(duration) if duration is not None else None,
                segments=segments,
            )
        except (ValueError, KeyError, TypeError) as exc:
            raise SpeechError("speech API sent a malformed transcription", engine=ENGINE) from exc

    async def warm(self) -> None:
        return None  # nothing to load

    async def aclose(self) -> None:
        await self._client.aclose()


class OpenAICompatibleTextToSpeech:
    """Speech through `/audio/speech` (JSON in, WAV out)."""

    engine = ENGINE

    def __init__(
        self, *, base_url: str | None, api_key: str | None, model: str, voice: str, timeout: float = 30.0
    ) -> None:
        self.model = model
        self.voice = voice
        self._client = _Client(base_url=base_url, api_key=api_key, timeout=timeout)

    async def synthesize(self, text: str, voice: str | None = None) -> Audio:
        if not text.strip():
            raise SpeechError("nothing to say", engine=ENGINE)
        response = await self._client.post(
            "audio/speech",
            json={"model": self.model, "input": text, "voice": voice or self.voice, "response_format": "wav"},
        )
        try:
            # OpenAI streams its WAV with placeholder sizes in the header, like any pipe writer.
            data = repair_streamed_wav(response.content)
            duration = wav_duration(data)
        except Exception as exc:  # wave raises several unrelated types on garbage
            raise SpeechError("speech API sent audio that is not a WAV file", engine=ENGINE) from exc
        return Audio(data=data, mime="audio/wav", engine=self.engine, duration_s=duration)

    async def warm(self) -> None:
        return None  # nothing to load

    async def aclose(self) -> None:
        await self._client.aclose()
