"""Voice latency: after a candidate stops speaking, how long until they hear the interviewer?

Starts the real `viva serve` (one uvicorn worker, SQLite) with the local speech engines of the
voice extra (faster-whisper tiny.en, a resident Piper) and the built-in interviewer. Spoken
answers (Piper's voice, as the 16 kHz WAV the room uploads) go to `POST /join/{token}/voice`
one at a time, and the client times from sending the answer (the end of the speech as the
server can know it) to the first `event: audio` of the reply: the end-to-end figure, p50/p95.

In the same run, on the same inputs, in this process while the server idles: faster-whisper
alone on each answer, and Piper alone on each reply's first sentence (the two model steps that
must happen before the first sound). The ratio of the end-to-end p50 to the sum of those two
p50s is what the server adds around the models (HTTP, storing the answer, the interviewer's
move, sentence cutting, base64); 1.0 would be nothing. It also prints the real-time factor of
each engine on this machine (processing seconds per second of audio; below 1 is faster than
speech) and the server's own figures from the session's `voice_metrics`.

In the browser the room waits for its silence window (VIVA_VOICE_SILENCE_MS, 2 s by default)
before it sends the answer; that wait is the candidate's setting and comes on top.

    .venv/bin/python bench/voice.py                   # 24 answers over 4 interviews
    .venv/bin/python bench/voice.py --answers 40 --interviews 5

Needs the voice extra (`make setup VOICE=1`). docs/benchmarks.md records figures.
"""

from __future__ import annotations

import argparse
import asyncio
import io
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import av
import httpx
from benchserver import pipeline, schedule, viva_serve

from viva.kit.stats import percentile
from viva.speech import piper, whisper

ANSWERS = [
    "I designed the payments service in Python and PostgreSQL, and I measured every change with load tests.",
    "We split the ledger writes from the read path, which cut the p99 latency in half.",
    "I would put a queue between the API and the workers so that a slow provider cannot block checkout.",
    "The hardest part was the migration: we ran both systems side by side for two weeks.",
    "I explain trade-offs with numbers: what it costs, what it saves, and what we give up.",
    "For retries I use exponential backoff with jitter and an idempotency key on every request.",
    "When an incident happens I first stop the bleeding, then write down the timeline while it is fresh.",
    "I test the failure modes first, because the happy path is rarely where production breaks.",
]


def to_room_wav(audio: bytes) -> tuple[bytes, float]:
    """Any audio as the room sends it (16 kHz mono 16-bit WAV), and its length in seconds."""
    out = io.BytesIO()
    samples = 0
    with av.open(io.BytesIO(audio)) as source, av.open(out, "w", format="wav") as sink:
        stream = sink.add_stream("pcm_s16le", rate=16_000, layout="mono")
        resampler = av.AudioResampler(format="s16", layout="mono", rate=16_000)
        for frame in [*source.decode(audio=0), None]:
            for converted in resampler.resample(frame):
                converted.pts = samples
                samples += converted.samples
                sink.mux(stream.encode(converted))
        sink.mux(stream.encode(None))
    return out.getvalue(), samples / 16_000


def spread(values: list[float]) -> str:
    return (
        f"p50 {percentile(values, 0.5):7.0f} ms   p95 {percentile(values, 0.95):7.0f} ms   (n={len(values)})"
    )


async def spoken_turn(room: httpx.AsyncClient, token: str, wav: bytes) -> tuple[float, str, list[str]]:
    """(ms to the first audio event, the first sentence spoken, every interviewer turn's text)."""
    sent = time.monotonic()
    first_ms: float | None = None
    first_sentence = ""
    turns: list[str] = []
    async with room.stream(
        "POST",
        f"/join/{token}/voice?silence_ms=0",
        content=wav,
        headers={"content-type": "audio/wav", "accept": "text/event-stream"},
    ) as response:
        if response.status_code != 200:
            raise SystemExit(f"/voice answered {response.status_code}: {await response.aread()!r}")
        event = ""
        async for line in response.aiter_lines():
            if line.startswith("event: "):
                event = line[7:]
            elif line.startswith("data: "):
                data = json.loads(line[6:])
                if event == "audio" and first_ms is None:
                    first_ms = (time.monotonic() - sent) * 1000
                    first_sentence = data["text"]
                elif event == "turn":
                    turns.append(data["text"])
                elif event == "audio_error":
                    raise SystemExit(f"the server could not speak: {data}")
    if first_ms is None:
        raise SystemExit("a reply came without audio")
    return first_ms, first_sentence, turns


async def run(args: argparse.Namespace) -> int:
    if not (whisper.whisper_available() and piper.piper_available()):
        raise SystemExit("the voice extra is not installed: make setup VOICE=1")
    model, voice = whisper.packaged_model(), piper.packaged_voice()
    assert model is not None and voice is not None
    stt = whisper.WhisperSpeechToText(model=model)
    tts = piper.PiperTextToSpeech(model=voice)
    print(f"machine: {os.cpu_count()} cores; Python {sys.version.split()[0]}")

    clips = []
    for text in ANSWERS:
        wav, seconds = to_room_wav((await tts.synthesize(text)).data)
        clips.append((wav, seconds))
    lengths = [s for _, s in clips]
    print(f"answers: {len(clips)} clips of Piper speech, {min(lengths):.1f} to {max(lengths):.1f} s")

    e2e: list[float] = []
    first_sentences: list[str] = []
    used: list[int] = []
    with tempfile.TemporaryDirectory(prefix="viva-bench-voice-") as tmp:
        work = Path(tmp)
        env = {"VIVA_SPEECH_PROVIDER": "local", "VIVA_LLM_PROVIDER": "builtin"}
        with viva_serve(f"sqlite:///{work / 'viva.db'}", work, work / "serve.log", env) as (base, key):
            async with (
                httpx.AsyncClient(base_url=base, headers={"x-api-key": key}, timeout=120) as api,
                httpx.AsyncClient(base_url=base, timeout=120) as room,
            ):
                template = await pipeline(api)
                tokens = await schedule(api, template, "voice", args.interviews)
                per = -(-args.answers // args.interviews)
                # One warm-up answer (the server warms its engines at start; this also primes HTTP).
                for n, token in enumerate(tokens):
                    r = await room.post(f"/join/{token}/start", json={"consent": True})
                    r.raise_for_status()
                    await room.post(f"/join/{token}/turn", json={})  # the opening, not timed
                    if n == 0:
                        await spoken_turn(room, token, clips[-1][0])
                    for i in range(per):
                        if len(e2e) >= args.answers:
                            break
                        index = (n * per + i) % len(clips)
                        ms, sentence, _ = await spoken_turn(room, token, clips[index][0])
                        e2e.append(ms)
                        first_sentences.append(sentence)
                        used.append(index)
                # The server's own view of the same turns (GET /sessions: voice_metrics).
                names = {
                    "server_ms": "server_latency_ms",
                    "stt_ms": "stt_ms",
                    "tts_ms": "tts_first_sentence_ms",
                }
                server: dict[str, list[float]] = {field: [] for field in names}
                r = await api.get("/api/v1/sessions", params={"pageSize": 100})
                for session in r.json()["data"]:
                    for field, name in names.items():
                        summary = (session.get("voice_metrics") or {}).get(name) or {}
                        if summary.get("p50") is not None:
                            server[field].append(summary["p50"])

            # The models alone, on the same inputs, while the server is idle.
            await stt.warm()
            stt_ms, stt_rtf = [], []
            for index in used:
                wav, seconds = clips[index]
                started = time.monotonic()
                await stt.transcribe(wav, "audio/wav")
                took = time.monotonic() - started
                stt_ms.append(took * 1000)
                stt_rtf.append(took / seconds)
            tts_ms, tts_rtf = [], []
            for sentence in first_sentences:
                started = time.monotonic()
                audio = await tts.synthesize(sentence)
                took = time.monotonic() - started
                tts_ms.append(took * 1000)
                tts_rtf.append(took / (audio.duration_s or 1))
    await tts.aclose()
    await stt.aclose()

    models = [a + b for a, b in zip(stt_ms, tts_ms, strict=True)]
    print()
    print(f"end of speech -> first reply audio, over HTTP:  {spread(e2e)}")
    if all(server.values()):
        print(
            "  the server's own figures (p50 per interview, median): "
            f"answer in -> first audio out {statistics.median(server['server_ms']):.0f} ms, "
            f"speech-to-text {statistics.median(server['stt_ms']):.0f} ms, "
            f"first sentence {statistics.median(server['tts_ms']):.0f} ms"
        )
    print(f"faster-whisper alone, same answers:              {spread(stt_ms)}")
    print(f"Piper alone, same first sentences:               {spread(tts_ms)}")
    print(f"the two together, per turn:                      {spread(models)}")
    ratio = percentile(e2e, 0.5) / percentile(models, 0.5)
    print(f"ratio end-to-end p50 / models p50:               {ratio:.2f}")
    print(
        f"real-time factor on {os.cpu_count()} cores (s of work per s of audio): "
        f"speech-to-text {statistics.mean(stt_rtf):.3f}, text-to-speech {statistics.mean(tts_rtf):.3f}"
    )
    print(
        "(in the browser the candidate's silence window comes first: VIVA_VOICE_SILENCE_MS, 2 s default)"
    )
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--answers", type=int, default=24, help="timed spoken answers in all")
    parser.add_argument("--interviews", type=int, default=4, help="interviews the answers are spread over")
    return asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    raise SystemExit(main())
