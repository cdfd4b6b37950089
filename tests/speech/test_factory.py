"""speech_from_settings: which engines the settings choose, and when voice is not offered."""

from __future__ import annotations

from typing import Any

import pytest

from tests.fixtures.fake_audio import FakeAudioServer, streamed_wav
from viva.config import Settings
from viva.speech import factory
from viva.speech.base import SpeechConfigError
from viva.speech.espeak import EspeakTextToSpeech
from viva.speech.openai_compat import OpenAICompatibleSpeechToText, OpenAICompatibleTextToSpeech


def settings(**values: Any) -> Settings:
    return Settings(**values)


@pytest.fixture
def no_local(monkeypatch: pytest.MonkeyPatch) -> None:
    """As on a machine without the voice extra."""
    from viva.speech import piper, whisper

    monkeypatch.setattr(whisper, "whisper_available", lambda: False)
    monkeypatch.setattr(piper, "piper_available", lambda: False)


async def test_a_speech_url_means_the_openai_compatible_api() -> None:
    speech = factory.speech_from_settings(
        settings(
            speech_base_url="http://127.0.0.1:9/v1", speech_tts_voice="nova", speech_stt_model="large-v3"
        )
    )
    assert speech is not None
    assert isinstance(speech.stt, OpenAICompatibleSpeechToText) and speech.stt.model == "large-v3"
    assert isinstance(speech.tts, OpenAICompatibleTextToSpeech) and speech.tts.voice == "nova"
    await speech.aclose()


async def test_a_key_alone_means_openai_with_its_default_voice() -> None:
    speech = factory.speech_from_settings(settings(speech_api_key="sk-x"))
    assert speech is not None and isinstance(speech.tts, OpenAICompatibleTextToSpeech)
    assert speech.tts.voice == "alloy"
    await speech.aclose()


async def test_the_configured_api_is_the_one_called(audio: FakeAudioServer) -> None:
    audio.reply_with("I led the billing migration.")
    speech = factory.speech_from_settings(
        settings(speech_base_url=audio.base_url, speech_api_key="sk-voice", speech_tts_model="tts-hd")
    )
    assert speech is not None
    transcript = await speech.stt.transcribe(streamed_wav(0.5), "audio/wav")
    spoken = await speech.tts.synthesize("Tell me more.")
    await speech.aclose()
    assert transcript.text == "I led the billing migration."
    assert spoken.duration_s == pytest.approx(0.9, abs=0.001)
    assert [r.headers["authorization"] for r in audio.requests] == ["Bearer sk-voice"] * 2
    assert audio.requests[1].json["model"] == "tts-hd"


def test_openai_without_url_or_key_fails_at_startup() -> None:
    with pytest.raises(SpeechConfigError, match="base URL"):
        factory.speech_from_settings(settings(speech_provider="openai", speech_base_url="  "))


def test_off_offers_no_voice_even_when_configured() -> None:
    assert factory.speech_from_settings(settings(speech_provider="off", speech_api_key="sk-x")) is None


def test_unknown_provider_is_a_config_error() -> None:
    with pytest.raises(SpeechConfigError, match="unknown speech provider"):
        factory.speech_from_settings(settings(speech_provider="whisper"))


@pytest.mark.usefixtures("no_local")
def test_without_the_voice_extra_auto_offers_no_voice() -> None:
    # espeak-ng could speak, but nobody could be heard: voice needs both directions.
    assert factory.speech_from_settings(settings()) is None


@pytest.mark.usefixtures("no_local")
def test_without_the_voice_extra_local_says_what_is_missing() -> None:
    with pytest.raises(
        SpeechConfigError, match=r"faster-whisper is not installed \(pip install -e \.\[voice\]\)"
    ):
        factory.speech_from_settings(settings(speech_provider="local"))


def test_a_whisper_model_path_that_is_no_model_is_a_config_error(tmp_path: Any) -> None:
    pytest.importorskip("faster_whisper", reason="the voice extra is not installed")
    with pytest.raises(SpeechConfigError, match="no model.bin"):
        factory.speech_from_settings(settings(speech_whisper_model=str(tmp_path)))


def test_local_falls_back_to_espeak_without_piper(monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("faster_whisper", reason="the voice extra is not installed")
    from viva.speech import piper

    monkeypatch.setattr(piper, "piper_available", lambda: False)
    speech = factory.speech_from_settings(settings(speech_provider="local", speech_tts_voice="en-gb"))
    assert speech is not None
    assert speech.stt.engine == "faster-whisper"
    assert isinstance(speech.tts, EspeakTextToSpeech) and speech.tts.voice == "en-gb"


def test_auto_with_the_voice_extra_is_whisper_and_piper() -> None:
    pytest.importorskip("faster_whisper", reason="the voice extra is not installed")
    pytest.importorskip("piper", reason="the voice extra is not installed")
    speech = factory.speech_from_settings(settings())
    assert speech is not None
    assert (speech.stt.engine, speech.tts.engine) == ("faster-whisper", "piper")
