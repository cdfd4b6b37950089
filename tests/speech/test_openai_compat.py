"""The OpenAI-compatible audio adapters against a fake audio API over real HTTP."""

from __future__ import annotations

import time
import wave
from io import BytesIO

import pytest

from tests.fixtures.fake_audio import SAMPLE_RATE, FakeAudioServer, streamed_wav
from tests.fixtures.fake_openai import Reply
from tests.fixtures.live import free_port
from viva.speech.base import SpeechError, SpeechUnavailable
from viva.speech.openai_compat import OpenAICompatibleSpeechToText, OpenAICompatibleTextToSpeech

KEY = "sk-test-audio-0123456789"
CLIP = streamed_wav(1.0)


def stt(base_url: str, *, timeout: float = 5.0, api_key: str | None = KEY) -> OpenAICompatibleSpeechToText:
    return OpenAICompatibleSpeechToText(
        base_url=base_url, api_key=api_key, model="whisper-1", timeout=timeout
    )


def tts(base_url: str, *, timeout: float = 5.0) -> OpenAICompatibleTextToSpeech:
    return OpenAICompatibleTextToSpeech(
        base_url=base_url, api_key=KEY, model="tts-1", voice="alloy", timeout=timeout
    )


async def test_transcription_uploads_the_clip_as_multipart(audio: FakeAudioServer) -> None:
    audio.reply_with(" The quick brown fox. ")
    client = stt(audio.base_url)
    transcript = await client.transcribe(b"\x1aE\xdf\xa3webm-bytes", "audio/webm;codecs=opus", "en")
    await client.aclose()

    assert transcript.text == "The quick brown fox."
    assert transcript.words == ["the", "quick", "brown", "fox"]
    assert transcript.engine == "openai"
    (request,) = audio.requests
    assert request.path == "/v1/audio/transcriptions"
    assert request.headers["authorization"] == f"Bearer {KEY}"
    assert request.headers["content-type"].startswith("multipart/form-data; boundary=")
    assert request.fields == {"model": "whisper-1", "language": "en", "response_format": "json"}
    upload = request.files["file"]
    # The codec parameter is dropped and the extension tells the server how to decode.
    assert (upload.filename, upload.content_type, upload.data) == (
        "speech.webm",
        "audio/webm",
        b"\x1aE\xdf\xa3webm-bytes",
    )


async def test_no_key_sends_no_authorization(audio: FakeAudioServer) -> None:
    audio.reply_with("hello")
    client = stt(audio.base_url, api_key=None)
    await client.transcribe(CLIP, "audio/wav")
    await client.aclose()
    assert "authorization" not in audio.requests[0].headers


async def test_speech_returns_a_wav_with_correct_sizes(audio: FakeAudioServer) -> None:
    client = tts(audio.base_url)
    result = await client.synthesize("Tell me about a system you designed.")
    await client.aclose()

    assert audio.requests[0].json == {
        "model": "tts-1",
        "input": "Tell me about a system you designed.",
        "voice": "alloy",
        "response_format": "wav",
    }
    assert result.mime == "audio/wav"
    # Seven words at 0.3 s; the placeholder header sizes were replaced by the real ones.
    assert result.duration_s == pytest.approx(2.1)
    with wave.open(BytesIO(result.data)) as wav:
        assert (wav.getframerate(), wav.getnchannels(), wav.getnframes()) == (
            SAMPLE_RATE,
            1,
            2.1 * SAMPLE_RATE,
        )


async def test_speech_voice_can_be_chosen_per_call(audio: FakeAudioServer) -> None:
    client = tts(audio.base_url)
    await client.synthesize("Hello.", voice="nova")
    await client.aclose()
    assert audio.requests[0].json["voice"] == "nova"


@pytest.mark.parametrize("status", [500, 503, 429])
async def test_server_errors_and_rate_limits_are_unavailable(audio: FakeAudioServer, status: int) -> None:
    audio.reply_with(Reply.error(status, f"provider detail {KEY}"), Reply.error(status))
    client, speaker = stt(audio.base_url), tts(audio.base_url)
    with pytest.raises(SpeechUnavailable) as caught:
        await client.transcribe(CLIP, "audio/wav")
    assert caught.value.status_code == status
    with pytest.raises(SpeechUnavailable):
        await speaker.synthesize("Hello.")
    await client.aclose()
    await speaker.aclose()
    # Neither the key nor the provider's body reaches the message that gets logged.
    assert KEY not in str(caught.value) and "provider detail" not in str(caught.value)


@pytest.mark.parametrize("status", [400, 401, 404, 413])
async def test_client_errors_are_refusals(audio: FakeAudioServer, status: int) -> None:
    audio.reply_with(Reply.error(status))
    client = stt(audio.base_url)
    with pytest.raises(SpeechError) as caught:
        await client.transcribe(CLIP, "audio/wav")
    await client.aclose()
    assert not isinstance(caught.value, SpeechUnavailable)
    assert caught.value.status_code == status


async def test_malformed_answers_are_errors(audio: FakeAudioServer) -> None:
    audio.reply_with(Reply.malformed_response(), Reply.malformed_response())
    client, speaker = stt(audio.base_url), tts(audio.base_url)
    with pytest.raises(SpeechError, match="malformed transcription"):
        await client.transcribe(CLIP, "audio/wav")
    with pytest.raises(SpeechError, match="not a WAV"):
        await speaker.synthesize("Hello.")
    await client.aclose()
    await speaker.aclose()


async def test_a_hanging_server_times_out(audio: FakeAudioServer) -> None:
    audio.reply_with(Reply.hanging())
    client = stt(audio.base_url, timeout=0.5)
    started = time.monotonic()
    with pytest.raises(SpeechUnavailable, match="timed out"):
        await client.transcribe(CLIP, "audio/wav")
    await client.aclose()
    assert time.monotonic() - started < 3


async def test_nothing_listening_is_unavailable() -> None:
    client = stt(f"http://127.0.0.1:{free_port()}/v1")
    with pytest.raises(SpeechUnavailable, match="unreachable"):
        await client.transcribe(CLIP, "audio/wav")
    await client.aclose()


async def test_empty_text_is_refused_without_a_request(audio: FakeAudioServer) -> None:
    with pytest.raises(SpeechError, match="nothing to say"):
        await tts(audio.base_url).synthesize("  \n")
    assert audio.requests == []
