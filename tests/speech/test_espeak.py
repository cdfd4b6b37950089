"""espeak-ng text-to-speech: a real subprocess producing a playable WAV (setup installs espeak-ng)."""

from __future__ import annotations

import io
import wave

import pytest

from viva.speech.base import SpeechError, SpeechUnavailable
from viva.speech.espeak import EspeakTextToSpeech
from viva.speech.wav import repair_streamed_wav, wav_duration

SENTENCE = "Could you walk me through a recent project you led?"


async def test_speaks_a_playable_wav_of_plausible_length() -> None:
    audio = await EspeakTextToSpeech().synthesize(SENTENCE)

    assert audio.mime == "audio/wav" and audio.engine == "espeak-ng"
    with wave.open(io.BytesIO(audio.data)) as wav:
        assert (wav.getnchannels(), wav.getsampwidth(), wav.getframerate()) == (1, 2, 22050)
        frames = wav.readframes(wav.getnframes())
    # The header's sizes match what follows it (espeak-ng's own header claims about 2 GiB).
    assert len(frames) == len(audio.data) - 44
    # Ten words at 165 words a minute: about 3.6 s of speech; allow for pauses and voice.
    assert 1.5 < audio.duration_s < 8.0
    assert audio.duration_s == wav_duration(audio.data)
    assert max(frames) > 0  # not silence


async def test_longer_text_takes_longer_and_speed_matters() -> None:
    short = await EspeakTextToSpeech().synthesize("Hello.")
    long = await EspeakTextToSpeech().synthesize(SENTENCE)
    fast = await EspeakTextToSpeech(words_per_minute=330).synthesize(SENTENCE)
    assert short.duration_s < long.duration_s
    assert fast.duration_s < long.duration_s * 0.75


async def test_text_that_looks_like_an_option_is_spoken_not_parsed() -> None:
    audio = await EspeakTextToSpeech().synthesize("--version is a flag")
    assert audio.duration_s > 0.5


async def test_refuses_empty_and_overlong_text() -> None:
    with pytest.raises(SpeechError, match="nothing to say"):
        await EspeakTextToSpeech().synthesize(" ")
    with pytest.raises(SpeechError, match="longer than"):
        await EspeakTextToSpeech().synthesize("word " * 2000)


async def test_a_slow_engine_is_cut_off() -> None:
    with pytest.raises(SpeechUnavailable, match="took longer"):
        await EspeakTextToSpeech(timeout=0.001).synthesize(SENTENCE * 20)


async def test_voices_are_chosen_per_call_and_an_unknown_one_falls_back() -> None:
    speaker = EspeakTextToSpeech()
    british = await speaker.synthesize(SENTENCE, voice="en-gb")
    american = await speaker.synthesize(SENTENCE)
    assert british.data != american.data
    # espeak-ng itself speaks with its default voice rather than failing (docs/speech.md).
    unknown = await speaker.synthesize(SENTENCE, voice="no-such-voice")
    assert unknown.duration_s > 1.5


def test_repair_rejects_what_is_not_a_wav() -> None:
    with pytest.raises(ValueError):
        repair_streamed_wav(b"OggS\x00\x02")
