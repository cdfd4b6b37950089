"""Run a speech engine's command with a clean environment and a hard timeout."""

from __future__ import annotations

import asyncio
import contextlib
import os

from viva.speech.base import SpeechError, SpeechUnavailable

# Only what the engines need: no API keys or database URLs from the server's environment.
_KEPT_ENV = ("PATH", "HOME", "TMPDIR", "LANG", "LC_ALL")


def clean_env(**extra: str) -> dict[str, str]:
    env = {name: os.environ[name] for name in _KEPT_ENV if name in os.environ}
    env.setdefault("LANG", "C.UTF-8")
    env.update(extra)
    return env


async def run_engine(
    argv: list[str], stdin: bytes, *, engine: str, time_limit: float, env: dict[str, str]
) -> bytes:
    """stdout of `argv` fed `stdin`; `SpeechUnavailable` on timeout, crash or missing binary."""
    try:
        process = await asyncio.create_subprocess_exec(
            *argv,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            env=env,
        )
    except OSError as exc:
        raise SpeechUnavailable(f"{engine} could not start: {exc.strerror}", engine=engine) from exc
    try:
        stdout, stderr = await asyncio.wait_for(process.communicate(stdin), time_limit)
    except TimeoutError:
        with contextlib.suppress(ProcessLookupError):
            process.kill()
        await process.wait()
        raise SpeechUnavailable(f"{engine} took longer than {time_limit:g} s", engine=engine) from None
    if process.returncode != 0:
        last = stderr.decode(errors="replace").strip().splitlines()[-1:] or [""]
        raise SpeechUnavailable(f"{engine} exited with {process.returncode}: {last[0][:200]}", engine=engine)
    if not stdout:
        raise SpeechError(f"{engine} produced no audio", engine=engine)
    return stdout
