"""What one sandboxed run may use, and the server's ceilings for each limit."""

from __future__ import annotations

from dataclasses import dataclass

MAX_OUTPUT_BYTES = 64 * 1024
"""stdout and stderr are each kept up to this many bytes per test, then marked truncated."""


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
