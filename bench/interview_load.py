"""Interview load: how many live interviews can one `viva serve` carry before its own
latency shows?

N simulated candidates take interviews at once against the real `viva serve` (one uvicorn
worker, its in-process job worker on), which talks to a fake OpenAI-compatible LLM that
sends its first token after 300 ms and then streams 50 tokens/s. For every answer turn the
benchmark times, on the candidate's side, from sending the answer to the first
`event: delta`, and subtracts what the fake LLM itself took for that turn's request (its
first token minus its receipt, recorded by the fake and matched by a marker in the answer).
What is left is the latency the server adds: storing the answer, planning the next move,
building the prompt, calling the model, relaying the first words. It is split into "to LLM"
(answer sent -> the model has the server's request) and "relay" (the model's first token ->
the candidate has it). N ramps up (1, 5, 10, 15, 20, 30, 40, 60, 80, 120 by default) until
the p95 of the added latency reaches 100 ms or a turn fails. Per N it prints p50/p95, the
server's RSS growth per active interview and the CPU of each process (and of everything
else on the machine); then the largest N with p95 under 100 ms.

    .venv/bin/python bench/interview_load.py                       # SQLite (fresh temp file)
    .venv/bin/python bench/interview_load.py --postgres            # PostgreSQL viva_bench_interviews
    .venv/bin/python bench/interview_load.py --steps 10,20,30 --turns 4 --no-stop

The fake LLM runs in its own process (`--serve-fake`, internal) so its streaming does not
share an interpreter with the candidates' clocks. docs/benchmarks.md describes it and
records figures.
"""

from __future__ import annotations

import argparse
import asyncio
import math
import os
import random
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from benchdb import fresh_postgres, sync_url  # bench/benchdb.py, beside this script
from benchserver import free_port, pipeline, schedule, start_viva, stop, wait_until
from sqlalchemy import create_engine, pool, text

ROOT = Path(__file__).resolve().parents[1]
FIRST_TOKEN_S = 0.3
TOKENS_PER_S = 50.0
GOAL_MS = 100.0
BUSY_OTHERS = 0.5  # cores used by other processes above which a step's latency is flagged
DEFAULT_STEPS = "1,5,10,15,20,30,40,60,80,120"
DEFAULT_POSTGRES = "postgresql://postgres@127.0.0.1:5432/viva_bench_interviews"
LOG_DIR = Path(tempfile.gettempdir()) / "viva-bench"
CLK_TCK = os.sysconf("SC_CLK_TCK")
REQUEST_TIMEOUT_S = 60.0
IDLE_S = 3.0  # how long the idle server's CPU use is measured after the warm-up
HEARTBEAT_S = 15.0  # the room page sends /signals at least every 20 s
MARKER = re.compile(r"\bref-([0-9a-z]+)\b")

# What the fake interviewer says every time: 51 words, so about 1 s of streaming at 50 tokens/s.
REPLY = (
    "Thanks, that is a clear answer and the numbers help. Let me build on it a little. "
    "Suppose the traffic grew tenfold over the next year while the team stayed the same size: "
    "which part of the design would you revisit first, what would you measure before changing "
    "it, and why?"
)
# Specific answers (a number, an example, 50+ words) so the interviewer mostly moves on rather
# than asking follow-ups; either way each answer costs exactly one model call.
ANSWERS = (
    "For example, in my last role we had an order service doing about 1200 requests per second "
    "at peak. I split the write path from the read path, put the reads behind a cache with a 30 "
    "second TTL and moved the reporting queries to a replica. p95 went from 480 ms to 90 ms, and "
    "the database CPU dropped by about 40 percent over the following two weeks.",
    "I would start by measuring where the time goes: for instance we once assumed the database was "
    "slow, but tracing showed 70 percent of the latency was serialising 5 MB responses. We added "
    "pagination with a default page of 100 items and compressed the payloads, which cut the median "
    "response from 800 ms to 120 ms without touching the schema at all.",
    "In my previous team we ran 3 services on PostgreSQL and a queue. When a migration locked a "
    "table for 4 minutes, for example, we learned to add columns without defaults first, backfill "
    "in batches of 10000 rows, then add the constraint. Since then we have shipped about 200 "
    "migrations with no downtime, and every one is reviewed against a checklist.",
)


# --- the fake LLM (runs in its own process: `bench/interview_load.py --serve-fake PORT`) -----------


def serve_fake(port: int) -> None:
    """The tests' fake OpenAI-compatible server, paced like a hosted model, plus
    `GET /_timings?since=I`: [marker, received_at, first_token_at] of requests I onwards."""
    import uvicorn
    from starlette.requests import Request
    from starlette.responses import JSONResponse

    sys.path.insert(0, str(ROOT))
    from tests.fixtures.fake_openai import FakeLLMServer

    fake = FakeLLMServer(default=REPLY, first_token_delay=FIRST_TOKEN_S, tokens_per_second=TOKENS_PER_S)

    async def timings(request: Request) -> JSONResponse:
        since = int(request.query_params.get("since", "0"))
        total = len(fake.requests)
        done = fake.requests[since:total]
        rows = []
        for recorded in done:
            found = MARKER.search(recorded.last_user_text)
            rows.append([found.group(1) if found else None, recorded.received_at, recorded.first_token_at])
        return JSONResponse({"next": total, "rows": rows})

    # The fake's own route takes only POST, so a GET here falls through to this one.
    fake.app.add_route("/_timings", timings, methods=["GET"])
    uvicorn.run(fake.app, host="127.0.0.1", port=port, log_level="warning", access_log=False, lifespan="off")


# --- processes and /proc --------------------------------------------------------------------------


def cpu_seconds(pid: int) -> float:
    """User + system CPU a process has used so far (0 if it is gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return 0.0
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def rss_mb(pid: int) -> float:
    """Resident set size of a process (VmRSS), in MiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmRSS for {pid}")


def run_delay(pid: int) -> float:
    """Seconds the process's threads have spent runnable but waiting for a CPU (schedstat)."""
    total = 0
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            total += int((task / "schedstat").read_text().split()[1])
        except (OSError, IndexError):
            continue
    return total / 1e9


def postgres_pids(url: str) -> list[int]:
    """PostgreSQL backends serving the benchmark's database (the server's connections)."""
    engine = create_engine(sync_url(url), poolclass=pool.NullPool)
    try:
        with engine.connect() as conn:
            rows = conn.execute(
                text(
                    "SELECT pid FROM pg_stat_activity"
                    " WHERE datname = current_database() AND pid <> pg_backend_pid()"
                )
            )
            return [int(r[0]) for r in rows]
    finally:
        engine.dispose()


def machine_busy() -> tuple[float, float]:
    """(busy, total) CPU seconds of the whole machine so far, from /proc/stat."""
    values = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = values[3] + values[4]  # idle + iowait
    return (sum(values[:8]) - idle) / CLK_TCK, sum(values[:8]) / CLK_TCK


@dataclass
class Servers:
    """The fake LLM and `viva serve`, each a subprocess logging to LOG_DIR."""

    database_url: str = ""
    fake_url: str = ""
    base: str = ""
    api_key: str = ""
    fake: subprocess.Popen[bytes] | None = None
    viva: subprocess.Popen[bytes] | None = None
    logs: list[Path] = field(default_factory=list)

    def start_fake(self) -> None:
        port = free_port()
        log = LOG_DIR / "interview_load-fake.log"
        self.logs.append(log)
        with log.open("wb") as out:
            self.fake = subprocess.Popen(
                [sys.executable, __file__, "--serve-fake", str(port)],
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        self.fake_url = f"http://127.0.0.1:{port}"
        wait_until(self.fake, f"{self.fake_url}/_timings", "the fake LLM")

    @property
    def postgres(self) -> bool:
        return self.database_url.startswith("postgres")

    def start_viva(self, database_url: str, workdir: Path) -> None:
        self.database_url = database_url
        log = LOG_DIR / "interview_load-server.log"
        self.logs.append(log)
        env = {
            "VIVA_LLM_PROVIDER": "openai",
            "VIVA_LLM_BASE_URL": f"{self.fake_url}/v1",
            "VIVA_LLM_MODEL": "fake",
            "VIVA_LLM_API_KEY": "x",
            "VIVA_ALLOW_PRIVATE_URLS": "true",
        }
        # A fresh database: `viva serve` prints the first-start API key (all scopes) once.
        self.viva, self.base, self.api_key = start_viva(database_url, workdir, log, env)

    def stop(self) -> None:
        for proc in (self.viva, self.fake):
            stop(proc)


@contextmanager
def servers() -> Iterator[Servers]:
    procs = Servers()
    try:
        yield procs
    except BaseException:
        for log in procs.logs:
            tail = log.read_text(errors="replace").splitlines()[-15:] if log.exists() else []
            print(f"{log}, last lines:", *tail, sep="\n  ", file=sys.stderr)
        raise
    finally:
        procs.stop()


# --- database ---------------------------------------------------------------------------------------


# --- the candidates ---------------------------------------------------------------------------------


@dataclass
class TurnTiming:
    marker: str
    sent: float  # time.monotonic() before the request went out
    first_delta: float  # when the first `event: delta` had arrived


@dataclass
class Candidate:
    """One simulated candidate: start, let the interviewer open, answer `turns` times with a
    think time between, then end (unless `leave_open`). Records each answer's timing and
    anything that went wrong."""

    room: httpx.AsyncClient
    token: str
    label: str
    turns: int
    think: tuple[float, float]
    rng: random.Random
    leave_open: bool = False
    timings: list[TurnTiming] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    ended: bool = False

    async def run(self, start_after: float) -> None:
        await asyncio.sleep(start_after)
        base = f"/join/{self.token}"
        heartbeat: asyncio.Task[None] | None = None
        try:
            r = await self.room.post(f"{base}/start", json={"consent": True})
            if r.status_code != 200:
                self.errors.append(f"start {r.status_code}: {r.text[:200]}")
                return
            heartbeat = asyncio.create_task(self._heartbeat(base))
            await self._turn(base, None)  # the interviewer's first move: introduction + question
            for k in range(self.turns):
                if self.ended or self.errors:
                    return
                await asyncio.sleep(self.rng.uniform(*self.think))
                await self._turn(base, f"{self.label}x{k}")
            if not self.ended and not self.errors and not self.leave_open:
                # Ending completes the session, which queues its scoring job (the LLM grader).
                r = await self.room.post(f"{base}/end", json={})
                if r.status_code != 200:
                    self.errors.append(f"end {r.status_code}: {r.text[:200]}")
        except httpx.HTTPError as error:
            self.errors.append(f"{type(error).__name__}: {error}")
        finally:
            if heartbeat is not None:
                heartbeat.cancel()

    async def _heartbeat(self, base: str) -> None:
        while True:
            await asyncio.sleep(HEARTBEAT_S)
            try:
                r = await self.room.post(f"{base}/signals", json={"events": []})
            except httpx.HTTPError as error:
                self.errors.append(f"signals {type(error).__name__}: {error}")
                return
            if r.status_code != 200:
                self.errors.append(f"signals {r.status_code}: {r.text[:200]}")

    async def _turn(self, base: str, marker: str | None) -> None:
        body: dict[str, Any] = {}
        if marker is not None:
            body = {"text": f"{self.rng.choice(ANSWERS)} (ref-{marker})", "client_turn_id": marker}
        buffer = b""
        first_delta: float | None = None
        sent = time.monotonic()
        async with self.room.stream("POST", f"{base}/turn", json=body) as response:
            if response.status_code != 200:
                self.errors.append(f"turn {response.status_code}: {(await response.aread())[:200]!r}")
                return
            # Raw bytes, not parsed SSE: finding the first delta must cost the client next to nothing.
            async for chunk in response.aiter_raw():
                buffer += chunk
                if first_delta is None and b"event: delta" in buffer:
                    first_delta = time.monotonic()
        if b"event: retry" in buffer:
            self.errors.append(f"turn {marker or 'first'}: the interviewer answered `retry`")
        if b"event: done" not in buffer:
            self.errors.append(f"turn {marker or 'first'}: the stream ended without `done`")
        if b"event: ended" in buffer:
            self.ended = True
        if marker is not None and first_delta is not None:
            self.timings.append(TurnTiming(marker, sent, first_delta))


# --- one step: N interviews at once -----------------------------------------------------------------


def percentile(values: list[float], p: float) -> float:
    """Nearest-rank percentile (with few samples, p95 is the largest: the cautious reading)."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)]


@dataclass
class Step:
    n: int
    added_ms: list[float]
    seen_ms: list[float]  # answer sent -> first delta, as the candidate saw it
    own_ms: list[float]  # the fake LLM's own first-token time for the same requests
    before_ms: list[float]  # request sent -> the model received the server's call
    after_ms: list[float]  # the model's first token -> the candidate had the first delta
    errors: list[str]
    unmatched: int
    llm_calls: int  # every model request during the step (a first move makes two)
    wall_s: float
    rss_before_mb: float
    rss_peak_mb: float
    cpu_s: dict[str, float]  # CPU seconds during the step: ours by process, then everything else
    server_wait_s: float  # the server's threads runnable but waiting for a CPU
    busy: float  # share of the machine's CPU time that was busy
    client_lag_ms: float  # p95 of how late the candidates' event loop woke from a 50 ms sleep

    @property
    def per_interview_mb(self) -> float:
        return (self.rss_peak_mb - self.rss_before_mb) / self.n

    @property
    def disturbed(self) -> bool:
        """Other work on the machine took a large share of its two cores during the step."""
        return self.cpu_s["other processes"] / self.wall_s > BUSY_OTHERS

    @property
    def ok(self) -> bool:
        return not self.errors and bool(self.added_ms) and percentile(self.added_ms, 95) < GOAL_MS


async def sampler(pid: int, peak: list[float], lags: list[float], stop: asyncio.Event) -> None:
    """Every 50 ms: the server's RSS (peak kept) and how late this loop woke (client lag)."""
    while not stop.is_set():
        asked = time.monotonic()
        await asyncio.sleep(0.05)
        lags.append((time.monotonic() - asked - 0.05) * 1000)
        peak[0] = max(peak[0], rss_mb(pid))


async def fake_timings(fake: httpx.AsyncClient, since: int) -> tuple[int, list[list[Any]]]:
    r = await fake.get("/_timings", params={"since": since})
    r.raise_for_status()
    body = r.json()
    return int(body["next"]), list(body["rows"])


async def model_quiet(fake: httpx.AsyncClient, quiet_s: float = 2.0, limit_s: float = 180.0) -> None:
    """Wait until the fake LLM has had no new request for `quiet_s`: the scoring jobs of the
    interviews that just ended call it, and must not spill into the next step."""
    count, changed = -1, time.monotonic()
    deadline = changed + limit_s
    while time.monotonic() < deadline:
        now_count, _ = await fake_timings(fake, 1 << 62)
        if now_count != count:
            count, changed = now_count, time.monotonic()
        elif time.monotonic() - changed >= quiet_s:
            return
        await asyncio.sleep(0.25)


async def run_step(
    procs: Servers,
    room: httpx.AsyncClient,
    fake: httpx.AsyncClient,
    tokens: list[str],
    label: str,
    args: argparse.Namespace,
) -> Step:
    assert procs.viva is not None and procs.fake is not None
    pid = procs.viva.pid
    n = len(tokens)
    rng = random.Random(f"{args.seed}-{label}")
    candidates = [
        Candidate(
            room, token, f"{label}x{i}", args.turns, (args.think_min, args.think_max), rng, args.leave_open
        )
        for i, token in enumerate(tokens)
    ]
    since, _ = await fake_timings(fake, 1 << 62)  # just the count so far
    rss_before = rss_mb(pid)
    peak, lags, stop = [rss_before], list[float](), asyncio.Event()
    watch = asyncio.create_task(sampler(pid, peak, lags, stop))
    pg_before = {p: cpu_seconds(p) for p in postgres_pids(procs.database_url)} if procs.postgres else {}
    cpu_before = (cpu_seconds(pid), cpu_seconds(procs.fake.pid), time.process_time(), run_delay(pid))
    busy_before = machine_busy()
    started = time.monotonic()
    # Arrivals spread over the stagger window, as people do not all press Start together.
    await asyncio.gather(*(c.run(rng.uniform(0, args.stagger)) for c in candidates))
    wall = time.monotonic() - started
    busy_after = machine_busy()
    cpu_s = {
        "server": cpu_seconds(pid) - cpu_before[0],
        "fake LLM": cpu_seconds(procs.fake.pid) - cpu_before[1],
        "candidates": time.process_time() - cpu_before[2],
    }
    server_wait = run_delay(pid) - cpu_before[3]
    if procs.postgres:
        # Backends opened during the step count from zero.
        pids = postgres_pids(procs.database_url)
        cpu_s["postgres"] = sum(cpu_seconds(p) - pg_before.get(p, 0.0) for p in pids)
    cpu_s["other processes"] = max(0.0, busy_after[0] - busy_before[0] - sum(cpu_s.values()))
    stop.set()
    await watch
    # The model's side of each answer turn, matched by the marker in the candidate's words.
    _, rows = await fake_timings(fake, since)
    model = {m: (received, first) for m, received, first in rows if m is not None and first is not None}
    added, seen_ms, own_ms, before_ms, after_ms, unmatched = [], [], [], [], [], 0
    errors = [e for c in candidates for e in c.errors]
    for c in candidates:
        for t in c.timings:
            if t.marker not in model:
                unmatched += 1
                continue
            received, first = model[t.marker]
            added.append((t.first_delta - t.sent - (first - received)) * 1000)
            seen_ms.append((t.first_delta - t.sent) * 1000)
            own_ms.append((first - received) * 1000)
            # CLOCK_MONOTONIC is one clock for every process on the machine.
            before_ms.append((received - t.sent) * 1000)
            after_ms.append((t.first_delta - first) * 1000)
    if procs.viva.poll() is not None:
        errors.append(f"viva serve exited with {procs.viva.returncode}")
    busy = (busy_after[0] - busy_before[0]) / max(1e-9, busy_after[1] - busy_before[1])
    return Step(
        n=n,
        added_ms=added,
        seen_ms=seen_ms,
        own_ms=own_ms,
        before_ms=before_ms,
        after_ms=after_ms,
        errors=errors,
        unmatched=unmatched,
        llm_calls=len(rows),
        wall_s=wall,
        rss_before_mb=rss_before,
        rss_peak_mb=peak[0],
        cpu_s=cpu_s,
        server_wait_s=server_wait,
        busy=busy,
        client_lag_ms=percentile(lags, 95) if lags else 0.0,
    )


# --- the run -----------------------------------------------------------------------------------------


def header() -> str:
    return (
        f"{'N':>5}{'turns':>6}{'err':>4}{'added p50':>11}{'p95':>9}{'max':>9}{'to LLM p95':>12}"
        f"{'relay p95':>11}{'LLM own':>9}{'RSS MiB':>9}{'MiB/iv':>8}{'server CPU':>12}{'CPU wait':>10}"
        f"{'others':>8}{'busy':>6}{'cli lag':>9}"
    )


def row(s: Step) -> str:
    if s.added_ms:
        lat = (
            f"{percentile(s.added_ms, 50):>8.1f} ms{percentile(s.added_ms, 95):>6.1f} ms"
            f"{max(s.added_ms):>6.0f} ms{percentile(s.before_ms, 95):>9.1f} ms"
            f"{percentile(s.after_ms, 95):>8.1f} ms{statistics.median(s.own_ms):>6.0f} ms"
        )
    else:
        lat = f"{'-':>11}{'-':>9}{'-':>9}{'-':>12}{'-':>11}{'-':>9}"
    return (
        f"{s.n:>5}{len(s.added_ms):>6}{len(s.errors):>4}{lat}{s.rss_peak_mb:>9.0f}"
        f"{s.per_interview_mb:>8.2f}{s.cpu_s['server'] / s.wall_s:>11.0%} {s.server_wait_s / s.wall_s:>9.0%}"
        f"{s.cpu_s['other processes'] / s.wall_s:>7.2f}{'!' if s.disturbed else ' '}{s.busy:>6.0%}"
        f"{s.client_lag_ms:>6.1f} ms"
    )


async def bench(procs: Servers, args: argparse.Namespace) -> tuple[float, float, list[Step]]:
    limits = httpx.Limits(max_connections=None, max_keepalive_connections=None)
    async with (
        httpx.AsyncClient(
            base_url=procs.base, headers={"x-api-key": procs.api_key}, timeout=REQUEST_TIMEOUT_S
        ) as api,
        httpx.AsyncClient(base_url=procs.base, timeout=REQUEST_TIMEOUT_S, limits=limits) as room,
        httpx.AsyncClient(base_url=procs.fake_url, timeout=REQUEST_TIMEOUT_S) as fake,
    ):
        template = await pipeline(api)
        # Warm-up, not counted: the server's first model call, lazy imports, connection pools.
        warm = await schedule(api, template, "w", 2)
        warm_args = argparse.Namespace(**{**vars(args), "turns": 2})
        await run_step(procs, room, fake, warm, "w", warm_args)
        await model_quiet(fake)
        assert procs.viva is not None
        cpu_idle = cpu_seconds(procs.viva.pid)
        await asyncio.sleep(IDLE_S)
        # What the server burns doing nothing (the in-process worker's polls), per second.
        idle_cpu = (cpu_seconds(procs.viva.pid) - cpu_idle) / IDLE_S
        idle = rss_mb(procs.viva.pid)
        ending = "left open" if args.leave_open else "then End (scoring runs)"
        print(
            f"idle server RSS after warm-up: {idle:.0f} MiB; {args.turns} answers per interview, {ending}; "
            f"think {args.think_min:g}-{args.think_max:g} s, starts spread over {args.stagger:g} s",
            flush=True,
        )
        print(header(), flush=True)
        steps: list[Step] = []
        for i, n in enumerate(args.steps):
            tokens = await schedule(api, template, f"s{i}", n)
            await asyncio.sleep(args.settle)  # the invite emails and webhooks queued by scheduling
            step = await run_step(procs, room, fake, tokens, f"s{i}", args)
            await model_quiet(fake)
            steps.append(step)
            print(row(step), flush=True)
            for error in step.errors[:5]:
                print(f"      {error}", flush=True)
            if args.verbose:
                worst = sorted(zip(step.added_ms, step.before_ms, step.after_ms, strict=True))[-3:]
                for a, b, c in reversed(worst):
                    print(
                        f"      slowest: added {a:.1f} ms = to LLM {b:.1f} ms + relay {c:.1f} ms", flush=True
                    )
            if step.unmatched:
                print(f"      {step.unmatched} answer turns had no matching model request", flush=True)
            if not step.ok and not args.no_stop:
                break
        return idle, idle_cpu, steps


def summary(idle: float, idle_cpu: float, steps: list[Step]) -> None:
    if any(s.disturbed for s in steps):
        print(
            f"! other processes used more than {BUSY_OTHERS:g} cores during the step: its latency "
            "says as much about them as about the server"
        )
    print()
    good = [s for s in steps if s.ok]
    if good:
        best = max(good, key=lambda s: s.n)
        print(
            f"largest N with p95 server-added latency < {GOAL_MS:g} ms: {best.n} "
            f"(p50 {percentile(best.added_ms, 50):.1f} ms, p95 {percentile(best.added_ms, 95):.1f} ms)"
        )
        seen, own = percentile(best.seen_ms, 95), statistics.median(best.own_ms)
        print(
            f"  the candidate's first word at p95: {seen:.0f} ms = {seen / own:.2f}x the model's own "
            f"first token ({own:.0f} ms)"
        )
    else:
        print(f"no N kept p95 server-added latency under {GOAL_MS:g} ms")
    bad = [s for s in steps if not s.ok]
    if bad:
        first = bad[0]
        why = (
            f"{len(first.errors)} errors"
            if first.errors
            else f"p95 {percentile(first.added_ms, 95):.1f} ms"
            if first.added_ms
            else "no timings"
        )
        print(f"first N over the goal: {first.n} ({why})")
    # The largest N run gives the steadiest per-interview figures, whatever its latency.
    big = max(steps, key=lambda s: s.n)
    print(
        f"memory per active interview at N={big.n}: {big.per_interview_mb:.2f} MiB over the RSS just "
        f"before the step ({big.rss_before_mb:.0f} -> peak {big.rss_peak_mb:.0f} MiB), "
        f"{(big.rss_peak_mb - idle) / big.n:.2f} MiB over the idle RSS after warm-up ({idle:.0f} MiB)"
    )
    busy_cpu = big.cpu_s["server"] - idle_cpu * big.wall_s
    print(
        f"server CPU at N={big.n} beyond idle ({idle_cpu * 1000:.0f} ms/s): {busy_cpu / big.n * 1000:.0f} ms "
        f"per interview, {busy_cpu / max(1, big.llm_calls) * 1000:.1f} ms per model call "
        f"({big.llm_calls} calls)"
    )
    cpu = ", ".join(f"{k} {v / big.wall_s:.2f}" for k, v in big.cpu_s.items())
    print(
        f"CPU at N={big.n} in cores over {big.wall_s:.0f} s: {cpu}; the server waited for a CPU "
        f"{big.server_wait_s / big.wall_s:.0%} of the time; machine busy {big.busy:.0%}"
    )


def steps_arg(value: str) -> list[int]:
    try:
        steps = [int(v) for v in value.split(",") if v.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError("a comma-separated list of integers") from None
    if not steps or any(not 1 <= n <= 1000 for n in steps):
        raise argparse.ArgumentTypeError("each N must be between 1 and 1000")
    return steps


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    target = parser.add_mutually_exclusive_group()
    target.add_argument("--database-url", help="default: a fresh SQLite file in a temp directory")
    target.add_argument("--postgres", action="store_true", help=f"use {DEFAULT_POSTGRES} (emptied first)")
    parser.add_argument(
        "--steps", type=steps_arg, default=steps_arg(DEFAULT_STEPS), help=f"N values ({DEFAULT_STEPS})"
    )
    parser.add_argument("--turns", type=int, default=6, help="answers per interview (default 6)")
    parser.add_argument("--think-min", type=float, default=1.0, help="candidate think time, s (default 1)")
    parser.add_argument("--think-max", type=float, default=2.0, help="(default 2)")
    parser.add_argument(
        "--stagger", type=float, default=2.0, help="starts spread over this many s (default 2)"
    )
    parser.add_argument("--settle", type=float, default=1.0, help="pause before each step, s (default 1)")
    parser.add_argument("--no-stop", action="store_true", help="run every step even past the goal")
    parser.add_argument(
        "--leave-open",
        action="store_true",
        help="candidates do not press End: no session completes, so no scoring job runs",
    )
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--verbose", action="store_true", help="print each step's slowest turns")
    parser.add_argument("--serve-fake", type=int, metavar="PORT", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve_fake:
        serve_fake(args.serve_fake)
        return
    if not 1 <= args.turns <= 50 or not 0 <= args.think_min <= args.think_max:
        parser.error("--turns 1..50, 0 <= --think-min <= --think-max")

    LOG_DIR.mkdir(parents=True, exist_ok=True)
    workdir = Path(tempfile.mkdtemp(prefix="interview_load-", dir=LOG_DIR))
    url = DEFAULT_POSTGRES if args.postgres else args.database_url
    try:
        if url is None:
            url = f"sqlite:///{workdir / 'viva.db'}"
        elif url.startswith("postgres"):
            fresh_postgres(url)
        print(f"database {url}", flush=True)
        print(
            f"fake LLM: first token after {FIRST_TOKEN_S * 1000:.0f} ms, then {TOKENS_PER_S:g} tokens/s "
            f"({len(REPLY.split())} words a reply); {os.cpu_count()} CPUs",
            flush=True,
        )
        with servers() as procs:
            procs.start_fake()
            procs.start_viva(url, workdir)
            idle, idle_cpu, steps = asyncio.run(bench(procs, args))
        summary(idle, idle_cpu, steps)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
