"""What one sandboxed run may use, and the server's ceilings for each limit."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import orjson

MAX_OUTPUT_BYTES = 64 * 1024
"""stdout and stderr are each kept up to this many bytes per test, then marked truncated; a
returned value is reported up to this many bytes of JSON too (it is judged in full)."""
MAX_VALUE_BYTES = 2 * 1024 * 1024
"""The largest returned value (as JSON) that is judged at all; a larger one makes its test an
error. Expected outputs arrive in a request body of at most 1 MiB, so no correct answer is near
it, and it keeps a result frame (value plus the capped streams) under the 4 MiB frame limit."""


@dataclass(frozen=True)
class Limits:
    """Per-run limits. `time_ms` is per test; the CPU rlimit covers the whole process."""

    time_ms: int = 2000
    memory_mb: int = 256
    processes: int = 32
    open_files: int = 64
    file_size_mb: int = 8
    tmpfs_mb: int = 16
    cpu_seconds: int = 20
    max_output: int = MAX_OUTPUT_BYTES
    max_value: int = MAX_VALUE_BYTES


def json_size(value: Any) -> int:
    """Bytes of `value` as JSON (as a response would carry it)."""
    return len(orjson.dumps(value))


def cap_value(value: Any, max_bytes: int) -> tuple[Any, bool]:
    """`value` itself when its JSON fits in `max_bytes`, else (a cut string, True): the start of
    the string for a string, the start of its JSON text for anything else, so a client can show
    what came back without the whole of it ever reaching the response."""
    encoded = orjson.dumps(value)
    if len(encoded) <= max_bytes:
        return value, False
    text = value if isinstance(value, str) else encoded.decode()
    cut = text.encode()[: max_bytes - 2].decode("utf-8", "ignore")  # 2: the JSON string's quotes
    # Escapes (a control character is six bytes of JSON) can make the cut's JSON longer still;
    # every character is at least one byte of it, so dropping that many characters is enough.
    over = len(orjson.dumps(cut)) - max_bytes
    if over > 0:
        cut = cut[: len(cut) - over]
    return cut, True
