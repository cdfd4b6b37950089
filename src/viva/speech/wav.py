"""Small WAV helpers (stdlib `wave`) shared by the subprocess engines and tests."""

from __future__ import annotations

import io
import struct
import wave


def pcm_to_wav(pcm: bytes, *, sample_rate: int, channels: int = 1, sample_width: int = 2) -> bytes:
    """Wrap raw little-endian PCM in a WAV container with correct sizes."""
    frame = channels * sample_width
    pcm = pcm[: len(pcm) - len(pcm) % frame]  # a half frame at the end would be played as noise
    out = io.BytesIO()
    with wave.open(out, "wb") as wav:
        wav.setnchannels(channels)
        wav.setsampwidth(sample_width)
        wav.setframerate(sample_rate)
        wav.writeframes(pcm)
    return out.getvalue()


def repair_streamed_wav(data: bytes) -> bytes:
    """Rewrite a WAV written to a pipe, whose header could not be patched with the real sizes.

    espeak-ng --stdout announces a ~2 GiB data chunk because it cannot seek back; players and
    `wave` would then report a length of hours. The PCM after the `data` chunk header is kept.
    """
    if len(data) < 12 or data[:4] != b"RIFF" or data[8:12] != b"WAVE":
        raise ValueError("not a WAV file")
    pos, fmt = 12, None
    while pos + 8 <= len(data):
        chunk_id, size = data[pos : pos + 4], struct.unpack("<I", data[pos + 4 : pos + 8])[0]
        if chunk_id == b"fmt ":
            fmt = struct.unpack("<HHIIHH", data[pos + 8 : pos + 24])
        elif chunk_id == b"data":
            if fmt is None or fmt[0] != 1:
                raise ValueError("WAV without a PCM fmt chunk before its data")
            _, channels, rate, _, _, bits = fmt
            return pcm_to_wav(data[pos + 8 :], sample_rate=rate, channels=channels, sample_width=bits // 8)
        pos += 8 + size + size % 2
    raise ValueError("WAV without a data chunk")


def wav_duration(data: bytes) -> float:
    """Length in seconds of a WAV whose header is correct."""
    with wave.open(io.BytesIO(data), "rb") as wav:
        return wav.getnframes() / wav.getframerate()
