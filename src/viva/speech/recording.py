"""One playable file from the pieces of an interview's audio (PyAV, FFmpeg's libraries).

The room records the interview (the candidate's microphone mixed with the interviewer's voice)
with the browser's MediaRecorder and uploads it in parts. One recording run of the page (a
"take") is a WebM or Ogg stream cut into parts; a reload starts another take. `assemble`
decodes every take in order and encodes them into a single Ogg Opus file, so the result has one
timeline, a correct duration and seeking, whatever the browser wrote (MediaRecorder's WebM has
neither duration nor cues).
"""

from __future__ import annotations

import io
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from fractions import Fraction

import av
import av.error

SAMPLE_RATE = 48_000  # Opus always runs at 48 kHz
BITRATE = 32_000  # speech in mono: clear at 24-32 kbit/s, about 14 MB an hour
MIME = "audio/ogg"
TIME_BASE = Fraction(1, SAMPLE_RATE)


class NoAudio(ValueError):
    """None of the takes held decodable audio."""


@dataclass(frozen=True, slots=True)
class Assembled:
    data: bytes
    seconds: float
    takes_used: int


def _frames(take: bytes) -> Iterator[av.AudioFrame]:
    """The take's audio as 48 kHz mono frames; a damaged tail (the page closed mid-part) ends it."""
    resampler = av.AudioResampler(format="s16", layout="mono", rate=SAMPLE_RATE)
    try:
        with av.open(io.BytesIO(take), mode="r") as container:
            if not container.streams.audio:
                return
            stream = container.streams.audio[0]
            try:
                for frame in container.decode(stream):
                    frame.pts = None  # the take's own clock is not ours; timestamps are set on output
                    yield from resampler.resample(frame)
            except (av.error.InvalidDataError, av.error.EOFError, ValueError):
                pass  # keep what decoded before the damage
    except (av.error.InvalidDataError, av.error.EOFError, ValueError, OSError):
        return  # not audio at all (or an empty part): the take is skipped
    yield from resampler.resample(None)


def assemble(takes: Iterable[bytes]) -> Assembled:
    """Decode the takes in order and encode them, back to back, as one Ogg Opus file.

    Raises `NoAudio` when nothing decodes. CPU-bound (about a second per hour of speech here):
    call it in a thread.
    """
    out = io.BytesIO()
    samples = 0
    used = 0
    with av.open(out, mode="w", format="ogg") as container:
        stream = container.add_stream("libopus", rate=SAMPLE_RATE, layout="mono")
        stream.bit_rate = BITRATE
        for take in takes:
            before = samples
            for frame in _frames(take):
                frame.pts = samples
                frame.time_base = TIME_BASE
                samples += frame.samples
                container.mux(stream.encode(frame))
            used += samples > before
        if samples == 0:
            raise NoAudio("no decodable audio in the recording")
        container.mux(stream.encode(None))
    return Assembled(data=out.getvalue(), seconds=round(samples / SAMPLE_RATE, 3), takes_used=used)


def duration(data: bytes) -> float:
    """Length in seconds of an audio file, decoded to the end (container headers can lie)."""
    with av.open(io.BytesIO(data), mode="r") as container:
        stream = container.streams.audio[0]
        return sum(frame.samples / frame.sample_rate for frame in container.decode(stream))
