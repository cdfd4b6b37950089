"""Batched test runs: every test of a request in one sandboxed process, supervised from outside.

The supervisor sends the code and the tests' inputs (never their expected outputs), then reads
the harness's frames: `ready`, then `start i` / `done i` for each test, then `end`. Each test has
its own deadline, timed here, not by the sandbox. When a test times out, crashes the process,
exhausts memory or sends anything out of sequence, that sandbox is killed and the remaining
tests continue in a fresh one. Results are the code's return values (or stdout); comparing them
with the expected outputs is the caller's job, outside the sandbox: its `judge` sees each value
in full as it arrives, and only a copy capped at 64 KiB of JSON is kept, so a batch never holds
more than one large value in the server's memory."""

from __future__ import annotations

import asyncio
import contextlib
import secrets
import signal
import textwrap
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

from viva.sandbox import runtime
from viva.sandbox.limits import Limits, cap_value
from viva.sandbox.process import Host, ProtocolViolation, Sandbox, SandboxUnavailable

Language = Literal["python", "javascript", "typescript"]
Mode = Literal["function", "stdin"]
RunStatus = Literal["ok", "error", "timeout", "memory_limit"]
HARNESS_DIR = Path(__file__).parent / "harness"
STARTUP_SECONDS = 10.0
"""How long a new sandbox may take to say it is ready before the host is considered broken."""
GRACE_SECONDS = 0.05
"""Allowance over a test's time limit for the frame to travel back."""
TRANSPILE = [
    runtime.ESBUILD_IN_SANDBOX,
    "--loader=ts",
    "--format=cjs",
    "--target=node20",
    "--log-level=error",
    "--color=false",
    "--sourcefile=solution.ts",
]
Judge = Callable[[int, Any], bool]
"""Told a test's index and its full value (return value or stdout): did it pass?"""
_OOM_MARKERS = ("heap out of memory", "Reached heap limit", "MemoryError", "Cannot allocate memory")


@dataclass
class TestInput:
    index: int
    input: Any  # function mode: the argument list; stdin mode: the text


@dataclass
class TestRun:
    """What one test did. `value` is the return value (function mode) or stdout (stdin mode),
    cut to the output limit when `value_truncated`; `matched` is the judge's verdict on the
    whole value (None without a judge, or when the test did not run to the end)."""

    index: int
    status: RunStatus
    value: Any = None
    value_truncated: bool = False
    matched: bool | None = None
    error: str = ""
    stdout: str = ""
    stderr: str = ""
    stdout_truncated: bool = False
    stderr_truncated: bool = False
    duration_ms: float = 0.0


@dataclass
class BatchResult:
    runs: list[TestRun] = field(default_factory=list)
    compile_output: str | None = None
    deadline_passed: bool = False


@lru_cache
def _harness(name: str) -> str:
    source = (HARNESS_DIR / name).read_text()
    # Wrapped in a function so none of the harness's names are globals the code could rebind.
    if name.endswith(".py"):
        return "def __harness():\n" + textwrap.indent(source, "    ") + "\n__harness()\n"
    return "(function () {\n" + source + "\n})();\n"


class Runner:
    """Runs batches in sandboxes, keeping a few started, single-use sandboxes ready per language."""

    def __init__(
        self,
        host: Host,
        runtime_dir: Path,
        pool_size: int = 2,
        concurrency: int = 8,
        base_limits: Limits | None = None,
    ) -> None:
        self.host = host
        self.runtime_dir = runtime_dir
        self.pool_size = pool_size
        self.base = base_limits or Limits()
        self._slots = asyncio.Semaphore(concurrency)
        self._ready: dict[tuple[str, int], asyncio.Queue[Sandbox]] = defaultdict(asyncio.Queue)
        self._filling: set[asyncio.Task[None]] = set()
        self._ending: set[asyncio.Task[int | None]] = set()
        self._closed = False

    # -- runtimes ---------------------------------------------------------------------------
    @lru_cache  # noqa: B019 - one Runner per app; the runtimes never change while it lives
    def _runtime(self, kind: str) -> runtime.Runtime:
        if kind == "python":
            return runtime.python(self.runtime_dir)
        if kind == "node":
            return runtime.node(self.runtime_dir)
        return runtime.esbuild(self.runtime_dir)

    def available(self, language: Language) -> str | None:
        """None when `language` can run here, else why not."""
        try:
            self._runtime("python" if language == "python" else "node")
            if language == "typescript":
                self._runtime("esbuild")
        except runtime.RuntimeMissing as exc:
            return str(exc)
        return None

    def _interpreter_args(self, kind: str, memory_mb: int) -> list[str]:
        if kind == "python":
            return ["-c", _harness("python_harness.py")]
        # The heap bound Node honours; the data rlimit and cgroup catch memory outside the heap.
        # One V8 worker thread: less start-up CPU, and fewer threads against the process limit.
        return [
            f"--max-old-space-size={memory_mb}",
            "--max-semi-space-size=16",
            "--v8-pool-size=1",
            "-e",
            _harness("node_harness.js"),
        ]

    def _spawn_limits(self, memory_mb: int) -> Limits:
        return replace(self.base, memory_mb=memory_mb)

    async def _start(self, kind: str, memory_mb: int) -> Sandbox:
        limits = self._spawn_limits(memory_mb)
        sandbox = await Sandbox.start(
            self.host, self._runtime(kind), self._interpreter_args(kind, memory_mb), limits
        )
        try:
            frame = await sandbox.frame(STARTUP_SECONDS)
        except (TimeoutError, ProtocolViolation):
            frame = None
        if frame != {"t": "ready"}:
            await sandbox.kill()
            detail = sandbox.raw_stderr.strip().splitlines()[-1:] or ["no output"]
            raise SandboxUnavailable(f"the sandbox did not start: {detail[0]}")
        await sandbox.attach()
        return sandbox

    async def _take(self, kind: str, memory_mb: int) -> Sandbox:
        queue = self._ready[(kind, memory_mb)]
        sandbox = None
        while not queue.empty():
            candidate = queue.get_nowait()
            if candidate.proc.returncode is None:
                sandbox = candidate
                break
        if memory_mb == self.base.memory_mb:
            self._refill(kind, memory_mb)
        return sandbox or await self._start(kind, memory_mb)

    def _refill(self, kind: str, memory_mb: int) -> None:
        queue = self._ready[(kind, memory_mb)]
        missing = self.pool_size - queue.qsize() - sum(1 for t in self._filling if t.get_name() == kind)
        for _ in range(max(0, missing)):
            task = asyncio.get_running_loop().create_task(self._fill(kind, memory_mb), name=kind)
            self._filling.add(task)
            task.add_done_callback(self._filling.discard)

    async def _fill(self, kind: str, memory_mb: int) -> None:
        with contextlib.suppress(SandboxUnavailable, OSError):
            sandbox = await self._start(kind, memory_mb)
            if self._closed:
                await sandbox.kill()
            else:
                self._ready[(kind, memory_mb)].put_nowait(sandbox)

    async def warm(self) -> None:
        """Start the pools (python and node at the default memory limit)."""
        for kind in ("python", "node"):
            try:
                self._runtime(kind)
            except runtime.RuntimeMissing:
                continue
            self._refill(kind, self.base.memory_mb)

    async def close(self) -> None:
        self._closed = True
        # Let sandboxes being started finish starting (a few ms): they see _closed and are killed.
        await asyncio.gather(*self._filling, *self._ending, return_exceptions=True)
        for queue in self._ready.values():
            while not queue.empty():
                await queue.get_nowait().kill()

    def _discard(self, sandbox: Sandbox) -> None:
        # Ending a sandbox takes a few ms (the kernel tears down its namespaces); the results are
        # final by now, so the request does not wait for it.
        task = asyncio.get_running_loop().create_task(sandbox.kill())
        self._ending.add(task)
        task.add_done_callback(self._ending.discard)

    # -- running ------------------------------------------------------------------------------
    async def run(
        self,
        language: Language,
        code: str,
        tests: list[TestInput],
        *,
        mode: Mode,
        entrypoint: str | None,
        limits: Limits,
        deadline: float,
        judge: Judge | None = None,
    ) -> BatchResult:
        """Run `tests` against `code`; stops at `deadline` (time.monotonic()) with what finished.
        `judge` is asked about each finished test's full value before it is cut to size."""
        result = BatchResult()
        async with self._slots:
            filename = {"python": "solution.py", "javascript": "solution.js", "typescript": "solution.ts"}[
                language
            ]
            kind = "python" if language == "python" else "node"
            remaining = list(tests)
            while remaining:
                if time.monotonic() >= deadline:
                    result.deadline_passed = True
                    break
                sandbox = await self._take(kind, limits.memory_mb)
                try:
                    await self._batch(
                        sandbox, code, filename, remaining, mode, entrypoint, limits, deadline, result, judge
                    )
                finally:
                    self._discard(sandbox)
                if result.compile_output is not None:
                    break
        return result

    async def _batch(
        self,
        sandbox: Sandbox,
        code: str,
        filename: str,
        remaining: list[TestInput],
        mode: Mode,
        entrypoint: str | None,
        limits: Limits,
        deadline: float,
        result: BatchResult,
        judge: Judge | None,
    ) -> None:
        # Every frame must carry this: the code can write to the result pipe (Node runs it in
        # the reporting process) but cannot know the nonce, so it cannot forge a frame.
        nonce = secrets.token_hex(16)
        await sandbox.send_job(
            {
                "nonce": nonce,
                "code": code,
                "filename": filename,
                "mode": mode,
                "entrypoint": entrypoint,
                # TypeScript is transpiled in the sandbox itself, by the pinned esbuild bound there.
                "transpile": TRANSPILE if filename.endswith(".ts") else None,
                "max_output": limits.max_output,
                "max_value": limits.max_value,
                "tests": [{"i": t.index, "input": t.input} for t in remaining],
            }
        )
        started: float | None = None
        oom_seen = sandbox.oom_kills()
        per_test = limits.time_ms / 1000 + GRACE_SECONDS
        while remaining:
            current = remaining[0]
            now = time.monotonic()
            wait = (per_test - (now - started)) if started is not None else STARTUP_SECONDS
            wait = min(wait, deadline - now)
            try:
                frame = await sandbox.frame(max(0.0, wait))
            except TimeoutError:
                if started is None and time.monotonic() < deadline:
                    raise SandboxUnavailable("the sandbox stopped answering") from None
                if time.monotonic() >= deadline and (
                    started is None or time.monotonic() - started < per_test
                ):
                    result.deadline_passed = True
                    remaining.clear()
                    return
                result.runs.append(
                    TestRun(
                        current.index,
                        "timeout",
                        duration_ms=limits.time_ms,
                        error=f"Time limit of {limits.time_ms} ms exceeded",
                    )
                )
                remaining.pop(0)
                return
            except ProtocolViolation as exc:
                result.runs.append(
                    TestRun(
                        current.index, "error", error=f"The program interfered with the test harness ({exc})"
                    )
                )
                remaining.pop(0)
                return
            if frame is None:
                if started is None:
                    raise SandboxUnavailable("the sandbox ended before running the tests")
                result.runs.append(await self._crash(sandbox, current, started, limits))
                remaining.pop(0)
                return
            if frame.get("n") != nonce:
                result.runs.append(
                    TestRun(current.index, "error", error="The program interfered with the test harness")
                )
                remaining.pop(0)
                return
            kind = frame.get("t")
            if kind == "fatal":
                message = str(frame.get("message", ""))[: limits.max_output]
                result.runs.append(
                    TestRun(current.index, "error", error=f"The test harness failed: {message}")
                )
                remaining.pop(0)
                return
            if kind == "compile_error" and started is None and not result.runs:
                result.compile_output = str(frame.get("message", ""))[: limits.max_output]
                remaining.clear()
                return
            if kind == "start" and started is None and frame.get("i") == current.index:
                started = time.monotonic()
                continue
            if kind == "done" and started is not None and frame.get("i") == current.index:
                oom = False
                if frame.get("kind") == "crash":  # did the kernel kill the worker for memory?
                    oom = sandbox.oom_kills() > oom_seen
                    oom_seen = sandbox.oom_kills()
                elapsed = (time.monotonic() - started) * 1000
                result.runs.append(_finished(current, frame, elapsed, limits, oom, judge))
                remaining.pop(0)
                started = None
                continue
            result.runs.append(
                TestRun(current.index, "error", error="The program interfered with the test harness")
            )
            remaining.pop(0)
            return

    async def _crash(self, sandbox: Sandbox, current: TestInput, started: float, limits: Limits) -> TestRun:
        status = await sandbox.kill()
        elapsed = (time.monotonic() - started) * 1000
        tail = sandbox.raw_stderr[-limits.max_output :]
        if sandbox.oom_kills() or any(m in tail for m in _OOM_MARKERS):
            return TestRun(
                current.index,
                "memory_limit",
                error=f"Memory limit of {limits.memory_mb} MB exceeded",
                duration_ms=elapsed,
                stderr=tail,
            )
        if status is not None and -status == signal.SIGXCPU:
            return TestRun(current.index, "timeout", error="CPU time limit exceeded", duration_ms=elapsed)
        how = f"signal {signal.Signals(-status).name}" if status and status < 0 else f"exit status {status}"
        return TestRun(
            current.index, "error", error=f"The program crashed ({how})", stderr=tail, duration_ms=elapsed
        )


def _finished(
    test: TestInput, frame: dict[str, Any], elapsed_ms: float, limits: Limits, oom: bool, judge: Judge | None
) -> TestRun:
    def text(key: str) -> str:
        value = frame.get(key)
        return value[: limits.max_output] if isinstance(value, str) else ""

    run = TestRun(
        test.index,
        "ok",
        value=frame.get("value"),
        stdout=text("stdout"),
        stderr=text("stderr"),
        stdout_truncated=frame.get("stdout_truncated") is True,
        stderr_truncated=frame.get("stderr_truncated") is True,
        duration_ms=round(elapsed_ms, 2),
    )
    if frame.get("ok") is not True:
        memory = frame.get("kind") == "memory" or (frame.get("kind") == "crash" and oom)
        run.status = "memory_limit" if memory else "error"
        run.error = text("error")
        run.value = None
    if elapsed_ms > limits.time_ms:
        run.status = "timeout"
        run.error = f"Time limit of {limits.time_ms} ms exceeded"
    if run.status == "ok":
        if judge is not None:
            run.matched = judge(test.index, run.value)
        run.value, run.value_truncated = cap_value(run.value, limits.max_output)
    return run
