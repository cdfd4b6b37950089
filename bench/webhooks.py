"""Webhook delivery: how fast do `viva worker` processes get committed events to a receiver?

On PostgreSQL, with 4 `viva worker` processes (each VIVA_WORKER_CONCURRENCY=8) and a
receiver on loopback (a minimal ASGI app under uvicorn, in its own process):

1. burst: 5,000 events committed in one transaction while the workers wait; prints
   deliveries/s (first commit to last receipt) and the commit-to-receipt latency p50/p95;
2. steady: events committed one per transaction at a fixed rate below capacity; prints
   commit-to-receipt p50/p95 when nothing is queued (what a single webhook waits);
3. the reference, in the same run: the receiver's own ceiling, a plain loop of POSTs of
   the same bodies at the same concurrency (workers x concurrency), workers stopped.

It also reads the CPU each side used during the burst (/proc), so a poor figure comes
with where the time went. docs/benchmarks.md describes it and records figures.

    .venv/bin/python bench/webhooks.py
    .venv/bin/python bench/webhooks.py --events 5000 --workers 4 --concurrency 8 --steady 1000 --rate 50
    .venv/bin/python bench/webhooks.py --database-url postgresql://postgres@127.0.0.1:5432/viva_bench_webhooks

The database (default viva_bench_webhooks) is created if missing and emptied every run;
the benchmark refuses `test`, `postgres` and the template databases.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
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
import orjson
from benchdb import fresh_postgres  # bench/benchdb.py, beside this script
from cryptography.fernet import Fernet
from sqlalchemy import create_engine, func, make_url, pool, select, text

from viva import schema
from viva.db import make_engine, make_sessionmaker
from viva.events import service as events
from viva.kit.secretbox import SecretBox
from viva.models import WebhookDelivery
from viva.webhooks import service as webhooks
from viva.webhooks.schemas import EndpointCreate
from viva.workspaces import service as workspaces

DEFAULT_URL = "postgresql://postgres@127.0.0.1:5432/viva_bench_webhooks"
LOG_DIR = Path(tempfile.gettempdir()) / "viva-bench"
CLK_TCK = os.sysconf("SC_CLK_TCK")
START_TIMEOUT_S = 60.0
DRAIN_TIMEOUT_S = 300.0


# --- the receiver (runs in its own process: `bench/webhooks.py --serve-receiver PORT`) ---------


def receiver_app() -> Any:
    """Notes (webhook-id, arrival time) for each POST /hook and answers 200 at once.
    GET /_receipts hands the notes over; POST /_reset forgets them."""
    receipts: list[tuple[str, float]] = []

    async def app(scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        more = True
        while more:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            more = message.get("more_body", False)
        path = scope["path"]
        body = b'{"received":true}'
        if path == "/hook":
            headers = dict(scope["headers"])
            receipts.append((headers.get(b"webhook-id", b"").decode(), time.time()))
        elif path == "/_receipts":
            body = orjson.dumps(receipts)
        elif path == "/_count":
            body = str(len(receipts)).encode()
        elif path == "/_reset":
            receipts.clear()
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode()),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})

    return app


def serve_receiver(port: int) -> None:
    import uvicorn

    uvicorn.run(
        receiver_app(), host="127.0.0.1", port=port, log_level="warning", access_log=False, lifespan="off"
    )


# --- processes ---------------------------------------------------------------------------------


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def machine_cpu() -> tuple[float, float]:
    """(busy, total) CPU seconds of the whole machine so far, from /proc/stat."""
    values = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = values[3] + values[4]  # idle + iowait
    total = sum(values[:8])
    return (total - idle) / CLK_TCK, total / CLK_TCK


def cpu_seconds(pid: int) -> float:
    """User + system CPU a process has used so far (0 if it is gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return 0.0
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


@dataclass
class Processes:
    receiver: subprocess.Popen[bytes] | None = None
    workers: list[subprocess.Popen[bytes]] = field(default_factory=list)
    logs: list[Path] = field(default_factory=list)

    def stop_workers(self) -> None:
        for proc in self.workers:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for proc in self.workers:
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()

    def stop(self) -> None:
        self.stop_workers()
        if self.receiver is not None and self.receiver.poll() is None:
            self.receiver.terminate()
            self.receiver.wait(timeout=10)


@contextmanager
def processes() -> Iterator[Processes]:
    procs = Processes()
    try:
        yield procs
    except BaseException:
        for log in procs.logs:
            tail = log.read_text(errors="replace").splitlines()[-10:] if log.exists() else []
            print(f"{log}, last lines:", *tail, sep="\n  ", file=sys.stderr)
        raise
    finally:
        procs.stop()


def start_receiver(procs: Processes) -> str:
    port = free_port()
    log = LOG_DIR / "webhooks-receiver.log"
    procs.logs.append(log)
    with log.open("wb") as out:
        procs.receiver = subprocess.Popen(
            [sys.executable, __file__, "--serve-receiver", str(port)],
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + START_TIMEOUT_S
    while True:
        try:
            if httpx.get(f"{base}/_count", timeout=2).status_code == 200:
                return base
        except httpx.TransportError:
            pass
        if procs.receiver.poll() is not None or time.monotonic() > deadline:
            raise SystemExit("the receiver did not start")
        time.sleep(0.05)


def start_workers(procs: Processes, count: int, env: dict[str, str]) -> None:
    viva = Path(sys.executable).parent / "viva"
    command = [str(viva), "worker"] if viva.exists() else [sys.executable, "-m", "viva.cli", "worker"]
    for n in range(count):
        log = LOG_DIR / f"webhooks-worker-{n}.log"
        procs.logs.append(log)
        with log.open("wb") as out:
            procs.workers.append(
                subprocess.Popen(
                    command, env=env, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT
                )
            )
    deadline = time.monotonic() + START_TIMEOUT_S
    for proc, log in zip(procs.workers, procs.logs[-count:], strict=True):
        while "worker_started" not in log.read_text(errors="replace"):
            if proc.poll() is not None or time.monotonic() > deadline:
                raise SystemExit(f"worker did not start (see {log})")
            time.sleep(0.05)


# --- database ----------------------------------------------------------------------------------


def fresh_database(url: str) -> None:
    """Create the benchmark's database if missing, empty it, migrate it to head."""
    if make_url(schema.sync_url(url)).get_backend_name() != "postgresql":
        raise SystemExit("this benchmark runs on PostgreSQL (several worker processes)")
    fresh_postgres(url)
    schema.upgrade(url)


def backend_pids(url: str) -> list[int]:
    """PostgreSQL server processes serving this database (the workers' connections)."""
    parsed = make_url(schema.sync_url(url))
    engine = create_engine(parsed, poolclass=pool.NullPool)
    try:
        with engine.connect() as conn:
            rows = conn.execute(
                text("SELECT pid FROM pg_stat_activity WHERE datname = :n AND pid <> pg_backend_pid()"),
                {"n": parsed.database},
            )
            return [int(r[0]) for r in rows]
    finally:
        engine.dispose()


# --- the run -------------------------------------------------------------------------------------


@dataclass
class Phase:
    name: str
    committed: dict[str, float]  # event id -> commit time (time.time())
    received: dict[str, float]  # event id -> first arrival
    requests: int
    started: float
    finished: float

    @property
    def latencies_ms(self) -> list[float]:
        return sorted((self.received[e] - t) * 1000 for e, t in self.committed.items())

    def pct(self, p: float) -> float:
        lat = self.latencies_ms
        return lat[min(len(lat) - 1, int(round(p / 100 * (len(lat) - 1))))]

    @property
    def rate(self) -> float:
        return len(self.committed) / (self.finished - self.started)


class Bench:
    def __init__(self, url: str, receiver: str, key: str) -> None:
        self.url = url
        self.receiver = receiver
        self.box = SecretBox(key)
        self.engine = make_engine(url)
        self.sessions = make_sessionmaker(self.engine)
        self.workspace_id: Any = None
        self.http = httpx.AsyncClient(base_url=receiver, timeout=30)
        self.machine_at_commit = (0.0, 0.0)

    async def setup(self) -> None:
        async with self.sessions() as db:
            workspace = await workspaces.create_workspace(db, "bench", "Bench")
            await webhooks.create(
                db, workspace.id, EndpointCreate(url=f"{self.receiver}/hook"), self.box, allow_private=True
            )
            await db.commit()
            self.workspace_id = workspace.id

    async def emit(self, count: int, offset: int = 0) -> list[str]:
        """`count` events (and their deliveries) in one transaction; returns their ids."""
        async with self.sessions() as db:
            ids = []
            for n in range(count):
                session = {"id": f"bench-{offset + n}", "status": "scheduled", "candidate_id": "c"}
                event = await events.emit(db, self.workspace_id, "session.created", {"session": session})
                ids.append(event.id)
            await db.commit()
        return ids

    async def receipts(self) -> list[tuple[str, float]]:
        r = await self.http.get("/_receipts")
        return [(str(i), float(t)) for i, t in orjson.loads(r.content)]

    async def wait_for(self, count: int) -> None:
        deadline = time.monotonic() + DRAIN_TIMEOUT_S
        while int((await self.http.get("/_count")).text) < count:
            if time.monotonic() > deadline:
                raise SystemExit(f"deliveries still missing after {DRAIN_TIMEOUT_S:.0f} s")
            await asyncio.sleep(0.02)

    async def collect(self, name: str, committed: dict[str, float], started: float) -> Phase:
        await self.wait_for(len(committed))
        got = await self.receipts()
        first: dict[str, float] = {}
        for event_id, at in got:
            first.setdefault(event_id, at)
        missing = set(committed) - set(first)
        if missing:
            raise SystemExit(f"{len(missing)} events never arrived")
        await self.http.post("/_reset")
        return Phase(name, committed, first, len(got), started, max(first[e] for e in committed))

    async def burst(self, count: int) -> Phase:
        ids = await self.emit(count)
        committed = time.time()
        self.machine_at_commit = machine_cpu()
        return await self.collect("burst", dict.fromkeys(ids, committed), committed)

    async def machine_busy(self) -> float:
        """Share of the machine's CPU time that was busy (anyone's) from the commit to now."""
        busy, total = machine_cpu()
        return (busy - self.machine_at_commit[0]) / (total - self.machine_at_commit[1])

    async def steady(self, count: int, rate: float) -> Phase:
        committed: dict[str, float] = {}
        started = time.time()
        for n in range(count):
            due = started + n / rate
            await asyncio.sleep(max(0.0, due - time.time()))
            [event_id] = await self.emit(1, offset=100_000 + n)
            committed[event_id] = time.time()
        return await self.collect("steady", committed, started)

    async def check_database(self, expected: int) -> None:
        async with self.sessions() as db:
            done = await db.scalar(
                select(func.count()).select_from(WebhookDelivery).where(WebhookDelivery.status == "succeeded")
            )
        if done != expected:
            raise SystemExit(f"{done} deliveries succeeded in the database, expected {expected}")

    async def reset(self) -> None:
        await self.http.post("/_reset")

    async def a_body(self) -> bytes:
        async with self.sessions() as db:
            payload = await db.scalar(select(WebhookDelivery.payload).limit(1))
        return (payload or "{}").encode()

    async def close(self) -> None:
        await self.http.aclose()
        await self.engine.dispose()


# --- the reference: the receiver alone, under plain POST loops ---------------------------------

CEILING_HEADERS = {
    "content-type": "application/json",
    "webhook-id": "evt_ceiling",
    "webhook-signature": "v1," + "A" * 44,
    "user-agent": "Viva-Webhooks/1",
}


async def post_loop(url: str, count: int, concurrency: int, body: bytes, start_at: float) -> float:
    """`count` POSTs of `body` to `url`, `concurrency` at a time, with httpx (the workers'
    client) from this process, starting at wall time `start_at`. Returns the finish time."""
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    headers = {**CEILING_HEADERS, "webhook-timestamp": str(int(time.time()))}
    async with httpx.AsyncClient(limits=limits, timeout=30) as client:
        todo = iter(range(concurrency * 4))

        async def loop() -> None:
            for _ in todo:
                (await client.post(url, content=body, headers=headers)).raise_for_status()

        await asyncio.gather(*(loop() for _ in range(concurrency)))  # connect and warm up
        await asyncio.sleep(max(0.0, start_at - time.time()))
        todo = iter(range(count))
        await asyncio.gather(*(loop() for _ in range(concurrency)))
    return time.time()


def ceiling(receiver: str, count: int, clients: int, concurrency: int, body: bytes) -> float:
    """Requests/s the receiver takes from `clients` processes (like the workers), each
    running `concurrency` POST loops; warm-up requests are not counted."""
    body_file = LOG_DIR / "webhooks-body.json"
    body_file.write_bytes(body)
    start_at = time.time() + 3.0  # after every client has imported and warmed up
    share = [count // clients + (1 if n < count % clients else 0) for n in range(clients)]
    procs = [
        subprocess.Popen(
            [
                sys.executable,
                __file__,
                "--post-loop",
                f"{receiver}/hook",
                str(n),
                str(concurrency),
                str(body_file),
                repr(start_at),
            ],
            stdout=subprocess.PIPE,
        )
        for n in share
    ]
    finished = []
    for proc in procs:
        out, _ = proc.communicate(timeout=DRAIN_TIMEOUT_S)
        if proc.returncode != 0:
            raise SystemExit("a POST loop failed")
        finished.append(float(out))
    if time.time() < start_at:
        raise SystemExit("POST loops finished before the agreed start")
    return count / (max(finished) - start_at)


def run(args: argparse.Namespace) -> None:
    LOG_DIR.mkdir(parents=True, exist_ok=True)
    print(f"database {args.database_url}", flush=True)
    fresh_database(args.database_url)
    key = Fernet.generate_key().decode()
    env = {
        **os.environ,
        "VIVA_DATABASE_URL": args.database_url,
        "VIVA_SECRET_KEY": key,
        "VIVA_ALLOW_PRIVATE_URLS": "true",
        "VIVA_WORKER_CONCURRENCY": str(args.concurrency),
        "VIVA_WORKER_POLL_SECONDS": str(args.poll_seconds),
        "VIVA_LOG_LEVEL": "info",  # the bench waits for each worker's worker_started line
    }
    with processes() as procs, asyncio.Runner() as runner:
        receiver = start_receiver(procs)
        bench = Bench(args.database_url, receiver, key)
        try:
            runner.run(bench.setup())
            start_workers(procs, args.workers, env)
            print(
                f"{args.workers} workers x concurrency {args.concurrency}, poll {args.poll_seconds} s",
                flush=True,
            )

            # Warm-up: every worker connects and has run the delivery path.
            warm = runner.run(bench.emit(50 * args.workers, offset=-100_000))
            runner.run(bench.collect("warm-up", dict.fromkeys(warm, time.time()), time.time()))

            pids = {"workers": [p.pid for p in procs.workers], "receiver": [procs.receiver.pid]}  # type: ignore[union-attr]
            pg = backend_pids(args.database_url)
            before = {k: sum(map(cpu_seconds, v)) for k, v in pids.items()}
            pg_before = {pid: cpu_seconds(pid) for pid in pg}
            me_before = time.process_time()
            print(f"burst: committing {args.events:,} events in one transaction...", flush=True)
            burst = runner.run(bench.burst(args.events))
            cpu = {k: sum(map(cpu_seconds, v)) - before[k] for k, v in pids.items()}
            busy = runner.run(bench.machine_busy())
            cpu["postgres (the workers' backends)"] = sum(cpu_seconds(p) - pg_before[p] for p in pg)
            cpu["this process (emit + commit)"] = time.process_time() - me_before

            steady = None
            if args.steady:
                print(
                    f"steady: {args.steady:,} events at {args.rate:g}/s, one per transaction...", flush=True
                )
                steady = runner.run(bench.steady(args.steady, args.rate))
            runner.run(bench.check_database(len(warm) + args.events + args.steady))
            body = runner.run(bench.a_body())
            procs.stop_workers()

            total = args.workers * args.concurrency
            print(f"ceiling: {args.events:,} plain POSTs to the receiver, {total} at a time...", flush=True)
            runner.run(bench.reset())
            ceilings = {
                f"1 process x {total}": ceiling(receiver, args.events, 1, total, body),
                f"{args.workers} processes x {args.concurrency}": ceiling(
                    receiver, args.events, args.workers, args.concurrency, body
                ),
            }
        finally:
            runner.run(bench.close())

    report(args, burst, steady, ceilings, cpu, busy)


def report(
    args: argparse.Namespace,
    burst: Phase,
    steady: Phase | None,
    ceilings: dict[str, float],
    cpu: dict[str, float],
    busy: float,
) -> None:
    print()
    print(f"Webhook delivery, PostgreSQL, {args.workers} `viva worker` x concurrency {args.concurrency}")
    header = f"{'phase':<8}{'events':>8}{'requests':>10}{'deliveries/s':>14}{'p50':>11}{'p95':>11}{'max':>11}"
    print(header)
    print("-" * len(header))
    for phase in (burst, steady):
        if phase is None:
            continue
        print(
            f"{phase.name:<8}{len(phase.committed):>8,}{phase.requests:>10,}{phase.rate:>14.0f}"
            f"{phase.pct(50):>8.0f} ms{phase.pct(95):>8.0f} ms{phase.latencies_ms[-1]:>8.0f} ms"
        )
    print("receiver ceiling, plain httpx POST loops (no database), same concurrency:")
    for shape, rate in ceilings.items():
        print(
            f"  {shape:<22}{rate:>8,.0f} requests/s   burst deliveries/s : ceiling = {burst.rate / rate:.2f}"
        )
    print()
    wall = burst.finished - burst.started
    print(
        f"CPU during the burst ({wall:.1f} s wall, {os.cpu_count()} CPUs, "
        f"machine busy {busy:.0%} from the commit to the last receipt, other users included):"
    )
    for name, seconds in cpu.items():
        print(f"  {name:<36}{seconds:>7.1f} s  {seconds / len(burst.committed) * 1000:>6.2f} ms/delivery")
    if steady is not None:
        poll = f"VIVA_WORKER_POLL_SECONDS={args.poll_seconds:g}"
        print(f"(steady latency includes the workers' idle poll, {poll})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", default=DEFAULT_URL)
    parser.add_argument("--events", type=int, default=5000, help="events in the burst (default 5000)")
    parser.add_argument("--workers", type=int, default=4, help="viva worker processes (default 4)")
    parser.add_argument("--concurrency", type=int, default=8, help="jobs per worker at once (default 8)")
    parser.add_argument(
        "--poll-seconds", type=float, default=0.5, help="VIVA_WORKER_POLL_SECONDS (default 0.5)"
    )
    parser.add_argument("--steady", type=int, default=500, help="events in the steady phase (0: skip)")
    parser.add_argument("--rate", type=float, default=50.0, help="steady phase events per second")
    parser.add_argument("--serve-receiver", type=int, metavar="PORT", help=argparse.SUPPRESS)
    parser.add_argument("--post-loop", nargs=5, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve_receiver:
        serve_receiver(args.serve_receiver)
        return
    if args.post_loop:
        url, count, concurrency, body_file, start_at = args.post_loop
        body = Path(body_file).read_bytes()
        print(asyncio.run(post_loop(url, int(count), int(concurrency), body, float(start_at))))
        return
    if not 1 <= args.events <= 100_000 or not 1 <= args.workers <= 32:
        parser.error("--events 1..100000, --workers 1..32")
    run(args)


if __name__ == "__main__":
    main()
