"""Answering by voice in the room, over the OpenAI-compatible audio API (a fake one on loopback,
so the real client code runs): the recording is transcribed and answered like typed text, an
interviewer turn can be fetched spoken, and failures leave nothing half-stored."""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from tests.conftest import make_settings
from tests.fixtures.factories import Tenant, make_tenant
from tests.fixtures.fake_audio import FakeAudioServer, fake_audio_server, streamed_wav
from tests.fixtures.fake_openai import Reply, fake_openai_server
from tests.room.helpers import parse_sse, scheduled, spoken, turn
from viva.app import create_app
from viva.speech.wav import wav_duration

SAID = "I split the ledger writes from the read path and load-tested it to two thousand requests a second."


@pytest.fixture(scope="module")
def audio() -> Iterator[FakeAudioServer]:
    with fake_audio_server(default=SAID) as server:
        yield server


@pytest.fixture
async def app(database_url: str, audio: FakeAudioServer) -> AsyncIterator[FastAPI]:
    audio.reset()
    app = create_app(make_settings(database_url, speech_provider="openai", speech_base_url=audio.base_url))
    yield app
    await app.state.speech.aclose()
    await app.state.engine.dispose()


@pytest.fixture
async def tenant(app: FastAPI) -> Tenant:
    return await make_tenant(app, "acme")


async def voice(
    client: httpx.AsyncClient, path: str, body: bytes, mime: str = "audio/webm"
) -> httpx.Response:
    return await client.post(f"{path}/voice", content=body, headers={"content-type": mime})


async def test_a_spoken_answer_is_transcribed_and_answered(app, client, tenant, audio):
    s = await scheduled(client, tenant)
    state = (await client.post(f"{s['path']}/start", json={"consent": True})).json()
    assert state["voice"] is True
    question = spoken(await turn(client, s["path"]))[-1]

    recording = b"\x1a\x45\xdf\xa3" + b"webm-opus-bytes" * 100
    r = await voice(client, s["path"], recording)
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/event-stream")
    events = parse_sse(r.text)
    candidate = next(d for name, d in events if name == "candidate")
    assert candidate["text"] == SAID
    assert spoken(events), "the interviewer answered the spoken answer"

    sent = audio.requests[0]
    assert sent.path.endswith("/audio/transcriptions") and sent.fields["model"] == "whisper-1"
    assert sent.files["file"].data == recording and sent.files["file"].content_type == "audio/webm"
    assert sent.fields.get("language") == "en"

    r = await client.get(f"/api/v1/sessions/{s['id']}/transcript", headers=tenant.headers)
    answer = next(t for t in r.json()["data"]["turns"] if t["speaker"] == "candidate")
    assert answer["text"] == SAID and answer["data"]["input"] == "voice"
    assert answer["data"]["stt_engine"].startswith("openai") and answer["data"]["stt_ms"] >= 0

    r = await client.get(f"{s['path']}/speech/{question['seq']}")
    assert r.status_code == 200 and r.headers["content-type"] == "audio/wav"
    assert r.content[:4] == b"RIFF" and len(r.content) > 1000
    assert audio.requests[-1].json["input"] == question["text"]
    r = await client.get(f"{s['path']}/speech/{candidate['seq']}")
    assert r.status_code == 404  # only the interviewer's turns are spoken


async def test_failures_store_nothing(app, client, tenant, audio):
    s = await scheduled(client, tenant)
    await client.post(f"{s['path']}/start", json={"consent": True})
    await turn(client, s["path"])
    audio.reply_with(Reply.error(500), "   ")
    r = await voice(client, s["path"], streamed_wav(1.0), "audio/wav")
    assert r.status_code == 502 and r.json()["code"] == "speech_failed"
    r = await voice(client, s["path"], streamed_wav(1.0), "audio/wav")
    assert r.status_code == 422 and r.json()["code"] == "no_speech"
    r = await voice(client, s["path"], b"", "audio/wav")
    assert r.status_code == 400 and r.json()["issues"][0]["path"] == ["body"]
    r = await voice(client, s["path"], b"not audio", "text/plain")
    assert r.status_code == 400
    transcript = (await client.get(f"/api/v1/sessions/{s['id']}/transcript", headers=tenant.headers)).json()
    assert not [t for t in transcript["data"]["turns"] if t["speaker"] == "candidate"]
    # The interview carries on in text.
    assert spoken(await turn(client, s["path"], "Typed instead."))


async def test_without_speech_engines_voice_is_not_offered(database_url, audio):
    # "off" stands for a server with no engine: the default, auto, finds the voice extra if installed.
    app = create_app(make_settings(database_url, speech_provider="off"))
    assert app.state.speech is None
    t = await make_tenant(app, "globex")
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver") as c:
        s = await scheduled(c, t)
        state = (await c.post(f"{s['path']}/start", json={"consent": True})).json()
        assert state["voice"] is False
        r = await voice(c, s["path"], streamed_wav(0.5), "audio/wav")
        assert r.status_code == 409 and r.json()["code"] == "voice_unavailable"
    await app.state.engine.dispose()


def audio_events(events: list[tuple[str, dict]]) -> list[dict]:
    return [d for name, d in events if name == "audio"]


async def test_the_reply_is_spoken_sentence_by_sentence_as_it_streams(app, client, tenant, audio):
    s = await scheduled(client, tenant)
    await client.post(f"{s['path']}/start", json={"consent": True})
    await turn(client, s["path"])
    audio.reset()
    r = await voice(client, s["path"], streamed_wav(1.0), "audio/wav")
    events = parse_sse(r.text)
    said = audio_events(events)
    replies = spoken(events)
    assert said and replies
    # Every sentence of the reply, in order, once; together they are the whole reply.
    assert " ".join(a["text"] for a in said) == " ".join(t["text"] for t in replies)
    assert [a["index"] for a in said] == list(range(len(said)))
    assert all(a["text"][-1] in ".?!" for a in said)
    # One synthesis per sentence, each a playable WAV as long as the fake says it is.
    assert [q.json["input"] for q in audio.requests[1:]] == [a["text"] for a in said]
    for a in said:
        wav = base64.b64decode(a["audio"])
        assert a["mime"] == "audio/wav" and wav[:4] == b"RIFF"
        assert wav_duration(wav) == pytest.approx(0.3 * len(a["text"].split()), abs=0.01)
        assert a["duration_ms"] == round(wav_duration(wav) * 1000)
    names = [name for name, _ in events]
    assert names[-1] == "done"
    # Audio follows its words: the first sentence is spoken after its text streamed, before the end.
    first_audio = names.index("audio")
    assert "delta" in names[:first_audio] and names.index("turn") < len(names) - 1


async def test_typed_answers_can_be_answered_with_voice_too(app, client, tenant, audio):
    s = await scheduled(client, tenant)
    await client.post(f"{s['path']}/start", json={"consent": True})
    r = await client.post(f"{s['path']}/turn?speak=true", json={})
    opening = parse_sse(r.text)
    said = audio_events(opening)
    assert " ".join(a["text"] for a in said) == " ".join(t["text"] for t in spoken(opening))
    # The greeting and the first question: two turns, several sentences, each its own audio.
    assert len(spoken(opening)) == 2 and len(said) >= 3
    utterances = [a["utterance"] for a in said]
    assert utterances == sorted(utterances) and utterances[0] == 0 and utterances[-1] == 1
    typed = await turn(client, s["path"], "A typed answer about the ledger service I built.")
    assert not audio_events(typed)  # not asked to speak


async def test_how_fast_the_voice_answered_is_in_the_session_metrics(app, client, tenant, audio):
    s = await scheduled(client, tenant)
    await client.post(f"{s['path']}/start", json={"consent": True})
    await turn(client, s["path"])
    typed = await turn(client, s["path"], "A typed answer about the ledger service I built.")
    typed_seq = next(d["seq"] for name, d in typed if name == "candidate")
    events = parse_sse(
        (
            await client.post(
                f"{s['path']}/voice?silence_ms=1800",
                content=streamed_wav(1.0),
                headers={"content-type": "audio/wav"},
            )
        ).text
    )
    answer_seq = next(d["seq"] for name, d in events if name == "candidate")

    metrics = (await client.get(f"/api/v1/sessions/{s['id']}", headers=tenant.headers)).json()["data"][
        "voice_metrics"
    ]
    assert metrics["spoken_replies"] == 1 and metrics["silence_window_ms"] == 1800
    assert metrics["server_latency_ms"]["p50"] >= metrics["stt_ms"]["p50"] >= 0
    assert metrics["tts_first_sentence_ms"]["p50"] >= 0
    assert metrics["reply_latency_ms"] == {"p50": None, "p95": None, "max": None}  # until the room reports

    # The room reports what the candidate heard; a report about a typed answer is ignored.
    r = await client.post(
        f"{s['path']}/signals",
        json={
            "events": [
                {"type": "voice_latency", "answer_seq": answer_seq, "ms": 2350},
                {"type": "voice_latency", "answer_seq": typed_seq, "ms": 10},
            ]
        },
    )
    assert r.status_code == 200
    metrics = (await client.get(f"/api/v1/sessions/{s['id']}", headers=tenant.headers)).json()["data"][
        "voice_metrics"
    ]
    assert metrics["spoken_replies"] == 1
    assert metrics["reply_latency_ms"] == {"p50": 2350, "p95": 2350, "max": 2350}
    r = await client.post(
        f"{s['path']}/signals",
        json={"events": [{"type": "voice_latency", "answer_seq": answer_seq, "ms": -1}]},
    )
    assert r.status_code == 400


async def test_a_failing_voice_leaves_the_reply_in_text(app, client, tenant, audio):
    s = await scheduled(client, tenant)
    await client.post(f"{s['path']}/start", json={"consent": True})
    await turn(client, s["path"])
    audio.reply_with(SAID, Reply.error(500))  # heard fine; the first sentence cannot be spoken
    events = parse_sse((await voice(client, s["path"], streamed_wav(1.0), "audio/wav")).text)
    names = [name for name, _ in events]
    assert names.count("audio_error") == 1 and "audio" not in names and names[-1] == "done"
    assert spoken(events)  # the reply itself was stored and shown
    assert events[-1][1]["awaiting"] == "candidate"


@pytest.fixture
async def llm_app(database_url: str, audio: FakeAudioServer) -> AsyncIterator[tuple[FastAPI, Any]]:
    """The room with a language model that streams at 25 words a second, and the fake audio API."""
    audio.reset()
    with fake_openai_server(tokens_per_second=25) as llm:
        app = create_app(
            make_settings(
                database_url,
                speech_provider="openai",
                speech_base_url=audio.base_url,
                llm_base_url=llm.base_url,
                llm_api_key="sk-test",
                llm_model="fake-interviewer",
                llm_max_retries=0,
            )
        )
        yield app, llm
        await app.state.speech.aclose()
        await app.state.interviewer.chat_model.aclose()
        await app.state.engine.dispose()


LONG_REPLY = (
    "Thanks, that is clear. Now walk me through how you would shard the ledger across two regions, "
    "what you would do about cross-region transfers, how you would test a failover before you need "
    "one, and which numbers would tell you it is working in production?"
)


async def model_reply_to_voice(llm_app: tuple[FastAPI, Any], reply: str) -> list[tuple[str, dict]]:
    """Start an interview, let the model open it, then answer by voice: the model says `reply`."""
    app, llm = llm_app
    tenant = await make_tenant(app, "acme")
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver") as c:
        s = await scheduled(c, tenant)
        await c.post(f"{s['path']}/start", json={"consent": True})
        llm.reply_with("Hello Jane, I'm Alex.", "What did you build last?")
        await c.post(f"{s['path']}/turn", json={})
        llm.reply_with(reply)
        return parse_sse((await voice(c, s["path"], streamed_wav(1.0), "audio/wav")).text)


async def test_the_first_sentence_is_heard_while_the_model_is_still_talking(llm_app, audio):
    events = await model_reply_to_voice(llm_app, LONG_REPLY)
    names = [name for name, _ in events]
    first_audio, last_delta = names.index("audio"), len(names) - 1 - names[::-1].index("delta")
    # The model took about two seconds to say it all; its first sentence was spoken before the end.
    assert first_audio < last_delta, names
    said = audio_events(events)
    assert said[0]["text"] == "Thanks, that is clear." and said[-1]["text"].endswith("production?")
    assert " ".join(a["text"] for a in said) == spoken(events)[-1]["text"] == LONG_REPLY


async def test_words_replaced_after_streaming_are_not_left_spoken(llm_app, audio):
    events = await model_reply_to_voice(
        llm_app, "Nice. How old are you, by the way? And where did you grow up?"
    )
    names = [name for name, _ in events]
    stored = spoken(events)[-1]["text"]
    assert "old" not in stored  # the plan's own question replaced the model's words
    # The offending sentence was never spoken, not even before the replacement.
    assert not [a for a in audio_events(events) if "old" in a["text"]]
    assert all("old" not in q.json["input"] for q in audio.requests if q.json)
    # The streamed sentences are stopped, and the stored question is what is heard after that.
    stop = names.index("audio_stop")
    after = [d for name, d in events[stop:] if name == "audio"]
    assert " ".join(a["text"] for a in after) == stored
    assert {a["utterance"] for a in after} == {events[stop][1]["utterance"] + 1}
