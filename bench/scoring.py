"""Scoring latency: how long after `session.completed` does `session.scored` reach a webhook
receiver, with the built-in grader and with an LLM grader that takes 2 s per call?

For each path a fresh `viva serve` (one process, its in-process job worker on) runs on a fresh
database, with a webhook endpoint subscribed to `session.completed` and `session.scored` on a
loopback receiver. Interviews are played one at a time through the candidate room by
`viva.interview.simulate` (the "strong" persona); when one completes, the benchmark waits for
its `session.scored` webhook before starting the next. Per session it takes:

- start: the `session.completed` event's `occurred_at` (the completing transaction's clock);
- end: the arrival of the `session.scored` webhook at the receiver (time.time(), same host);
- for the LLM path, the reference measured in the same run: the fake LLM's own time for that
  session's grader request(s), from the request's arrival to the last byte of its response.

The LLM is the tests' fake OpenAI-compatible server. Only grader requests (recognised by the
grader's system prompt) wait 2 s before answering, with a valid grader reply built from the
prompt's rubric and transcript; the interviewer's streamed turns are answered at once, so the
interviews themselves stay quick. Prints, per path, median/p95 of start -> end and where it went
(job pickup, grading, delivery), and for the LLM path the overhead: (end - start - LLM's own) /
LLM's own. Targets: built-in p95 < 2 s; LLM median overhead < 10 % of the LLM's own time.
One more, untimed, LLM session times an API read and write while its grader call is in flight
(on SQLite they wait for the call: the scoring job holds the write lock through it).

    .venv/bin/python bench/scoring.py                                # SQLite, 5 sessions per path
    .venv/bin/python bench/scoring.py --sessions 10 --poll-seconds 0.05
    .venv/bin/python bench/scoring.py --postgres                     # PostgreSQL bench_scoring

docs/benchmarks.md describes it and records figures. Logs go to $TMPDIR/viva-bench/scoring-*.log.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import re
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import benchserver  # bench/benchserver.py, beside this script
import httpx
from benchdb import fresh_postgres  # bench/benchdb.py, beside this script
from sqlalchemy import make_url

from viva import quickstart

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # the tests' fake LLM and webhook receiver

from tests.fixtures.fake_openai import FakeLLMServer, RecordedRequest, Reply  # noqa: E402
from tests.fixtures.live import serve_asgi  # noqa: E402
from tests.webhooks.receiver import Received, Receiver, serve  # noqa: E402

from viva.interview.simulate import simulate  # noqa: E402

LLM_DELAY_S = 2.0
GOAL_BUILTIN_S = 2.0
GOAL_OVERHEAD = 0.10
GRADER_MARK = "You are an impartial interview assessor"  # the grader's system prompt begins so
DEFAULT_POSTGRES = "postgresql://postgres@127.0.0.1:5432/bench_scoring"
LOG_DIR = Path(tempfile.gettempdir()) / "viva-bench"
CLK_TCK = os.sysconf("SC_CLK_TCK")
SCORED_TIMEOUT_S = 60.0
MAX_TURNS = 30  # the simulator ends the interview itself after this many answers

INTERVIEWER_REPLY = "Thank you, that helps. Could you walk me through how you measured the result?"
RUBRIC_LINE = re.compile(r'^- "(.+)" \(weight ', re.MULTILINE)
CANDIDATE_LINE = re.compile(r"^\[turn (\d+)\] Candidate: (.+)$", re.MULTILINE)


# --- the fake LLM ---------------------------------------------------------------------------------


def llm_reply(request: RecordedRequest) -> str | Reply:
    """Interviewer turns: a short question at once. Grader requests: after LLM_DELAY_S, a valid
    grader reply naming every rubric dimension, citing the start of a candidate turn."""
    system = request.messages[0]["content"] if request.messages else ""
    if not system.startswith(GRADER_MARK):
        return INTERVIEWER_REPLY
    prompt = request.prompt_text
    answers = CANDIDATE_LINE.findall(prompt)
    dimensions = []
    for i, name in enumerate(RUBRIC_LINE.findall(prompt)):
        citations = []
        if answers:
            turn, said = answers[i % len(answers)]
            citations = [{"turn": int(turn), "quote": " ".join(said.split()[:8])}]
        dimensions.append(
            {
                "name": name,
                "score": 7.5,
                "reasoning": f"The answers on {name} were specific and gave numbers. They were clear.",
                "citations": citations,
            }
        )
    body = {
        "dimensions": dimensions,
        "summary": "Specific, measured answers. Probe failure handling next.",
        "improvement_feedback": "Say more about what you would do differently next time.",
    }
    return Reply(text=json.dumps(body), first_token_delay=LLM_DELAY_S)


@dataclass(frozen=True)
class LLMCall:
    started: float  # time.time() when the request reached the fake
    finished: float  # when the last byte of its response was handed to the server

    @property
    def seconds(self) -> float:
        return self.finished - self.started


class TimedGrader:
    """ASGI wrapper around the fake: notes the wall-clock span of every grader request and
    counts those in flight (their body read, their response not yet sent)."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.calls: list[LLMCall] = []
        self.in_flight = 0

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.time()
        body = bytearray()

        grading = False

        async def receive_body() -> Any:
            nonlocal grading
            message = await receive()
            if message["type"] == "http.request":
                body.extend(message.get("body", b""))
                if not message.get("more_body", False) and GRADER_MARK.encode() in body:
                    grading = True
                    self.in_flight += 1
            return message

        async def send_timed(message: Any) -> None:
            await send(message)
            if message["type"] == "http.response.body" and not message.get("more_body", False) and grading:
                self.calls.append(LLMCall(started, time.time()))
                self.in_flight -= 1

        await self.app(scope, receive_body, send_timed)


# --- viva serve -----------------------------------------------------------------------------------


@contextmanager
def viva_serve(
    name: str, database_url: str, workdir: Path, env_extra: dict[str, str]
) -> Iterator[tuple[str, str]]:
    """`viva serve` on a free loopback port; yields (base URL, the first-start API key)."""
    env = {"VIVA_ALLOW_PRIVATE_URLS": "true", **env_extra}  # the receiver is on loopback
    with benchserver.viva_serve(database_url, workdir, LOG_DIR / f"scoring-{name}.log", env) as served:
        yield served


# --- through the API ------------------------------------------------------------------------------


async def post(api: httpx.AsyncClient, path: str, body: dict[str, Any]) -> dict[str, Any]:
    r = await api.post(path, json=body)
    if r.status_code not in (200, 201):
        raise SystemExit(f"POST {path} answered {r.status_code}: {r.text}")
    return dict(r.json()["data"])


async def setup(api: httpx.AsyncClient, hook_url: str) -> str:
    """The webhook endpoint, an agent profile, a template and one stage; returns the template id."""
    await post(
        api, "/api/v1/webhook-endpoints", {"url": hook_url, "events": ["session.completed", "session.scored"]}
    )
    profile = await post(
        api,
        "/api/v1/agent-profiles",
        quickstart.PROFILE,
    )
    template = await post(
        api,
        "/api/v1/evaluation-templates",
        {"template_name": "Senior Backend Engineer", "use_case": "hiring", "skills": ["Go", "PostgreSQL"]},
    )
    await post(
        api,
        "/api/v1/evaluation-stages",
        {
            "evaluation_template_id": template["id"],
            "agent_profile_id": profile["id"],
            "type": "technical",
            "stage_name": "Technical Screen",
            "duration_minutes": 15,
        },
    )
    return str(template["id"])


async def schedule(api: httpx.AsyncClient, template: str, n: int) -> tuple[str, str]:
    """A participant and a session on the stage; returns (session id, join URL)."""
    participant = await post(
        api,
        "/api/v1/participants",
        {"name": f"Candidate {n}", "email": f"candidate-{n}@example.com", "evaluation_template_id": template},
    )
    session = await post(
        api,
        "/api/v1/sessions",
        {"candidate_id": participant["id"], "evaluation_template_id": template, "stage": "technical"},
    )
    return str(session["id"]), str(session["join_url"])


# --- the measurements -----------------------------------------------------------------------------


def iso_seconds(value: str) -> float:
    return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()


@dataclass
class Sample:
    """One session, times as time.time() seconds (occurred_at to the millisecond)."""

    completed_at: float  # the session.completed event's occurred_at
    completed_arrived: float  # its webhook at the receiver
    scored_at: float  # the session.scored event's occurred_at
    scored_arrived: float  # its webhook at the receiver
    turns: int
    calls: list[LLMCall] = field(default_factory=list)  # the grader requests in between

    @property
    def total(self) -> float:
        return self.scored_arrived - self.completed_at

    @property
    def llm(self) -> float:
        return sum(c.seconds for c in self.calls)

    @property
    def overhead(self) -> float:
        return self.total - self.llm

    @property
    def to_grader(self) -> float:
        """Completion -> the grader's first request (job pickup, transcript, prompt)."""
        return self.calls[0].started - self.completed_at if self.calls else math.nan

    @property
    def after_grader(self) -> float:
        """The grader's last response -> session.scored emitted (parse, maths, store)."""
        return self.scored_at - self.calls[-1].finished if self.calls else math.nan

    @property
    def grading(self) -> float:
        """Completion -> session.scored emitted (pickup and the whole scoring job but its commit)."""
        return self.scored_at - self.completed_at

    @property
    def delivery(self) -> float:
        """session.scored emitted -> its webhook at the receiver (commit, delivery job, POST)."""
        return self.scored_arrived - self.scored_at


def machine_cpu() -> tuple[float, float]:
    """(busy, total) CPU seconds of the whole machine so far, from /proc/stat."""
    values = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = values[3] + values[4]  # idle + iowait
    return (sum(values[:8]) - idle) / CLK_TCK, sum(values[:8]) / CLK_TCK


def percentile(values: list[float], p: float) -> float:
    """Nearest-rank percentile (with few samples, p95 is the largest: the cautious reading)."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)]


class Hooks:
    """The receiver's webhooks by (event, session id); each body is parsed once, so waiting for
    one costs the benchmark's process (which also runs the receiver and the fake) next to nothing."""

    def __init__(self, receiver: Receiver) -> None:
        self.receiver = receiver
        self.seen = 0
        self.found: dict[tuple[str, str], Received] = {}

    def get(self, event: str, session_id: str) -> Received | None:
        new = self.receiver.snapshot()[self.seen :]
        self.seen += len(new)
        for r in new:
            body = r.json
            self.found.setdefault((body["event"], body["data"]["session"]["id"]), r)
        return self.found.get((event, session_id))


async def one_session(
    api: httpx.AsyncClient, hooks: Hooks, grader: TimedGrader | None, template: str, n: int
) -> Sample:
    session_id, join_url = await schedule(api, template, n)
    result = await simulate(join_url, "strong", max_turns=MAX_TURNS, seed=n)
    if result.status != "completed":
        raise SystemExit(f"session {session_id} ended {result.status} ({result.end_reason}): {result.error}")
    deadline = time.monotonic() + SCORED_TIMEOUT_S
    while (scored := hooks.get("session.scored", session_id)) is None or (
        completed := hooks.get("session.completed", session_id)
    ) is None:
        if time.monotonic() > deadline:
            raise SystemExit(f"no session.scored webhook for {session_id} after {SCORED_TIMEOUT_S:.0f} s")
        await asyncio.sleep(0.02)
    sample = Sample(
        completed_at=iso_seconds(completed.json["occurred_at"]),
        completed_arrived=completed.at,
        scored_at=iso_seconds(scored.json["occurred_at"]),
        scored_arrived=scored.at,
        turns=len(result.turns),
    )
    card = scored.json["data"]["scorecard"]
    if grader is not None:
        sample.calls = [
            c for c in grader.calls if sample.completed_at - 0.001 <= c.started <= sample.scored_at
        ]
        if card["engine"]["method"] != "llm" or not sample.calls:
            raise SystemExit(
                f"session {session_id} was not scored by the LLM: {card['engine']} {card['summary']}"
            )
    elif card["engine"]["method"] != "heuristic":
        raise SystemExit(f"session {session_id} was scored by {card['engine']}, not the built-in grader")
    return sample


@dataclass
class PathResult:
    name: str
    samples: list[Sample]
    busy: float = math.nan  # share of the machine's CPU busy during the timed sessions (anyone's)
    during: tuple[float, float] = (math.nan, math.nan)  # API read, write (ms) while the grader waits
    after: tuple[float, float] = (math.nan, math.nan)  # the same once the session is scored


async def timed_request(api: httpx.AsyncClient, n: int) -> tuple[float, float]:
    """Milliseconds for one small API read (a list page), then one write (a new participant)."""
    started = time.perf_counter()
    r = await api.get("/api/v1/participants?pageSize=1")
    if r.status_code != 200:
        raise SystemExit(f"GET /participants answered {r.status_code}: {r.text}")
    read = time.perf_counter()
    await post(api, "/api/v1/participants", {"name": f"Probe {n}", "email": f"probe-{n}@example.com"})
    return (read - started) * 1000, (time.perf_counter() - read) * 1000


async def stall_probe(
    api: httpx.AsyncClient, hooks: Hooks, grader: TimedGrader, template: str, n: int
) -> tuple[tuple[float, float], tuple[float, float]]:
    """Untimed session: does a grader call in flight hold up the rest of the app? Times an API
    read and a write 0.1 s into the grader's LLM call, then again once the session is scored."""
    session_id, join_url = await schedule(api, template, n)
    candidate = asyncio.create_task(simulate(join_url, "strong", max_turns=MAX_TURNS, seed=n))
    deadline = time.monotonic() + SCORED_TIMEOUT_S
    while grader.in_flight == 0:
        if time.monotonic() > deadline or candidate.done() and hooks.get("session.scored", session_id):
            raise SystemExit("the grader never called the LLM")
        await asyncio.sleep(0.005)
    await asyncio.sleep(0.1)
    during = await timed_request(api, 2 * n)
    await candidate
    while hooks.get("session.scored", session_id) is None:
        if time.monotonic() > deadline:
            raise SystemExit(f"no session.scored webhook for {session_id}")
        await asyncio.sleep(0.02)
    return during, await timed_request(api, 2 * n + 1)


async def run_path(
    name: str, base: str, key: str, receiver: Receiver, grader: TimedGrader | None, sessions: int, warmup: int
) -> PathResult:
    async with httpx.AsyncClient(base_url=base, headers={"x-api-key": key}, timeout=60) as api:
        template = await setup(api, receiver.url)
        hooks = Hooks(receiver)
        for n in range(warmup):
            await one_session(api, hooks, grader, template, n)
        samples = []
        cpu_before = machine_cpu()
        for n in range(warmup, warmup + sessions):
            sample = await one_session(api, hooks, grader, template, n)
            samples.append(sample)
            extra = f", LLM {sample.llm:.3f} s in {len(sample.calls)} call(s)" if grader else ""
            print(f"  {name} session {n - warmup + 1}: {sample.total:.3f} s{extra}", flush=True)
        cpu_after = machine_cpu()
        busy = (cpu_after[0] - cpu_before[0]) / (cpu_after[1] - cpu_before[1])
        result = PathResult(name, samples, busy)
        if grader is not None:
            result.during, result.after = await stall_probe(api, hooks, grader, template, warmup + sessions)
    return result


def ms(values: list[float]) -> str:
    return f"{statistics.median(values) * 1000:7.0f} / {percentile(values, 95) * 1000:7.0f} ms"


def report(builtin: PathResult | None, llm: PathResult | None, poll: float) -> None:
    print()
    print(f"median / p95 over the sessions (VIVA_WORKER_POLL_SECONDS={poll:g}, {os.cpu_count()} CPUs):")
    if builtin is not None:
        s = builtin.samples
        turns = statistics.median(x.turns for x in s)
        print(f"built-in grader, {len(s)} sessions, {turns:.0f} turns each, machine {builtin.busy:.0%} busy:")
        print(f"  completed -> session.scored at the receiver   {ms([x.total for x in s])}")
        print(f"    completed -> session.scored emitted         {ms([x.grading for x in s])}")
        print(f"    emitted -> delivered                        {ms([x.delivery for x in s])}")
        own = [x.completed_arrived - x.completed_at for x in s]
        print(f"  (completed -> its own webhook delivered        {ms(own)})")
        worst = percentile([x.total for x in s], 95)
        verdict = "met" if worst < GOAL_BUILTIN_S else "NOT met"
        print(f"  target: p95 < {GOAL_BUILTIN_S:g} s: {verdict}")
    if llm is not None:
        s = llm.samples
        print(
            f"LLM grader (fake, {LLM_DELAY_S:g} s per call), {len(s)} sessions, machine {llm.busy:.0%} busy:"
        )
        print(f"  completed -> session.scored at the receiver   {ms([x.total for x in s])}")
        print(f"  the LLM's own time (reference)                {ms([x.llm for x in s])}")
        print(f"  overhead = total - LLM's own                  {ms([x.overhead for x in s])}")
        print(f"    completed -> grader request at the LLM      {ms([x.to_grader for x in s])}")
        print(f"    grader reply -> session.scored emitted      {ms([x.after_grader for x in s])}")
        print(f"    emitted -> delivered                        {ms([x.delivery for x in s])}")
        own = [x.completed_arrived - x.completed_at for x in s]
        print(f"  (completed -> its own webhook delivered        {ms(own)})")
        (r1, w1), (r2, w2) = llm.during, llm.after
        print(f"  GET, then POST /participants 0.1 s into a grader call: {r1:.0f}, {w1:.0f} ms")
        print(f"    the same once scored: {r2:.0f}, {w2:.0f} ms")
        ratios = [x.overhead / x.llm for x in s]
        p50, p95 = statistics.median(ratios), percentile(ratios, 95)
        print(f"  overhead / LLM's own: median {p50:.1%}, p95 {p95:.1%}")
        verdict = "met" if p50 < GOAL_OVERHEAD else "NOT met"
        print(f"  target: median overhead < {GOAL_OVERHEAD:.0%} of the LLM's own time: {verdict}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sessions", type=int, default=5, help="timed sessions per path (default 5)")
    parser.add_argument("--warmup", type=int, default=1, help="untimed sessions first (default 1)")
    parser.add_argument(
        "--poll-seconds", type=float, default=0.5, help="VIVA_WORKER_POLL_SECONDS (default 0.5, Viva's own)"
    )
    parser.add_argument("--only", choices=("builtin", "llm"), help="run one path")
    parser.add_argument("--keep", action="store_true", help="keep each path's SQLite file and secret key")
    where = parser.add_mutually_exclusive_group()
    where.add_argument("--database-url", help="a PostgreSQL URL (default: a fresh SQLite file per path)")
    where.add_argument("--postgres", action="store_true", help=f"use {DEFAULT_POSTGRES}")
    args = parser.parse_args()
    if not 1 <= args.sessions <= 200 or not 0 <= args.warmup <= 10 or args.poll_seconds <= 0:
        parser.error("--sessions 1..200, --warmup 0..10, --poll-seconds > 0")
    postgres = DEFAULT_POSTGRES if args.postgres else args.database_url
    LOG_DIR.mkdir(parents=True, exist_ok=True)
    common = {"VIVA_WORKER_POLL_SECONDS": f"{args.poll_seconds:g}", "VIVA_RUN_WORKER": "true"}
    results: dict[str, PathResult] = {}
    with ExitStack() as stack:
        receiver = stack.enter_context(serve(Receiver()))
        fake = FakeLLMServer(default=llm_reply)
        grader = TimedGrader(fake.app)
        fake.root_url = stack.enter_context(serve_asgi(grader, timeout_graceful_shutdown=2))
        stack.callback(fake._closing.set)
        paths = {
            "builtin": ({"VIVA_LLM_PROVIDER": "builtin"}, None),
            "llm": (
                {
                    "VIVA_LLM_PROVIDER": "openai",
                    "VIVA_LLM_BASE_URL": fake.base_url,
                    "VIVA_LLM_MODEL": "fake-grader",
                    "VIVA_LLM_API_KEY": "x",
                },
                grader,
            ),
        }
        for name, (env, timed) in paths.items():
            if args.only and args.only != name:
                continue
            workdir = Path(tempfile.mkdtemp(prefix=f"scoring-{name}-", dir=LOG_DIR))
            try:
                if postgres:
                    fresh_postgres(postgres)
                url = postgres or f"sqlite:///{workdir / 'viva.db'}"
                print(f"{name}: viva serve on {make_url(url).get_backend_name()}", flush=True)
                with viva_serve(name, url, workdir, {**common, **env}) as (base, key):
                    results[name] = asyncio.run(
                        run_path(name, base, key, receiver, timed, args.sessions, args.warmup)
                    )
            finally:
                if args.keep:
                    print(f"  kept {workdir}")
                else:
                    shutil.rmtree(workdir, ignore_errors=True)
    report(results.get("builtin"), results.get("llm"), args.poll_seconds)


if __name__ == "__main__":
    main()
