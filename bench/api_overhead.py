"""API overhead: one list page over real HTTP against the same query run directly.

With 100,000 participants in one workspace, times `GET /api/v1/participants?pageSize=100&page=500`
end to end against uvicorn (one worker, a subprocess on a loopback port), and, in the same
run, the reference: the repository's select of that page plus its count, the rows turned
into dicts and encoded with orjson. Prints both medians and their ratio (goal: <= 3).

    .venv/bin/python bench/api_overhead.py                      # SQLite (temp file)
    .venv/bin/python bench/api_overhead.py --database-url postgresql://postgres@127.0.0.1:5432/viva_bench
    .venv/bin/python bench/api_overhead.py --both               # SQLite, then PostgreSQL

docs/benchmarks.md describes it and records the latest figures.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import orjson
from benchserver import free_port, wait_until  # bench/benchserver.py, beside this script
from sqlalchemy import create_engine, delete, func, insert, make_url, pool, select, text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from viva import schema
from viva.auth import service as auth_service
from viva.db import make_engine, make_sessionmaker
from viva.errors import NotFound
from viva.kit.clock import isoformat
from viva.kit.crypto import new_id
from viva.kit.pagination import Page, PageRequest
from viva.models import Participant
from viva.participants.repository import ParticipantRepository
from viva.workspaces import service as workspaces_service

PARTICIPANTS = 100_000
PAGE = PageRequest(page=500, page_size=100)
PATH = f"/api/v1/participants?pageSize={PAGE.page_size}&page={PAGE.page}"
WORKSPACE_SLUG = "bench"
BATCH = 5_000
GOAL_RATIO = 3.0
DEFAULT_SQLITE = Path(tempfile.gettempdir()) / "viva-bench" / "api_overhead.db"
DEFAULT_POSTGRES = "postgresql://postgres@127.0.0.1:5432/viva_bench"
REQUEST_TIMEOUT_S = 30.0


@dataclass(frozen=True)
class Result:
    backend: str
    requests: int
    http_ms: list[float]
    direct_ms: list[float]

    @property
    def http_median(self) -> float:
        return statistics.median(self.http_ms)

    @property
    def direct_median(self) -> float:
        return statistics.median(self.direct_ms)

    @property
    def overhead(self) -> float:
        """Median of the per-round differences: pairs share the machine's load at that moment,
        so this is steadier than the difference of the two medians."""
        return statistics.median(h - d for h, d in zip(self.http_ms, self.direct_ms, strict=True))

    @property
    def ratio(self) -> float:
        return self.http_median / self.direct_median


# --- database -------------------------------------------------------------------------------


def ensure_postgres_database(url: str) -> None:
    """Create the benchmark's own database if missing; refuse the shared test database."""
    parsed = make_url(schema.sync_url(url))
    name = parsed.database
    if not name or name in ("test", "postgres", "template0", "template1"):
        raise SystemExit(f"refusing to benchmark in database {name!r}; use e.g. viva_bench")
    engine = create_engine(
        parsed.set(database="postgres"), poolclass=pool.NullPool, isolation_level="AUTOCOMMIT"
    )
    try:
        with engine.connect() as conn:
            exists = conn.scalar(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name})
            if not exists:
                conn.execute(text(f'CREATE DATABASE "{name}"'))
    finally:
        engine.dispose()


def participant_rows(workspace_id: uuid.UUID, start: int, stop: int) -> Iterator[dict[str, Any]]:
    """Rows for a core insert, shaped like what the API stores (column names, not attributes)."""
    base = datetime(2026, 1, 1, tzinfo=UTC)
    for i in range(start, stop):
        email = f"candidate{i:06d}@example.com"
        created = base + timedelta(seconds=i)  # distinct and increasing: a stable page order
        yield {
            "id": new_id(),
            "workspace_id": workspace_id,
            "evaluation_template_id": None,
            "name": f"Candidate {i:06d}",
            "email": email,
            "dedupe_key": f"-:{email}",
            "external_id": f"ext-{i}",
            "phone": "+1 555 0100",
            "tags": ["backend", f"batch-{i // BATCH}"],
            "profile": {
                "title": "Software Engineer",
                "organization": "Example Corp",
                "experienceLevel": "senior",
                "location": "Berlin",
            },
            "background": {
                "skills": ["Python", "PostgreSQL"],
                "education": "BSc Computer Science",
                "languages": ["English", "German"],
            },
            "resume_url": None,
            "resume_status": "none",
            "resume_error": None,
            "metadata": {"source": "bench", "n": i},
            "status": "active",
            "created_at": created,
            "updated_at": created,
        }


async def seed(sessions: async_sessionmaker[AsyncSession], count: int) -> tuple[uuid.UUID, str]:
    """Make sure the bench workspace holds exactly `count` participants; return its id and
    a new API key.

    A fresh key each run because a key's secret is shown once and never stored."""
    async with sessions() as db:
        try:
            workspace = await workspaces_service.get_workspace(db, WORKSPACE_SLUG)
        except NotFound:
            workspace = await workspaces_service.create_workspace(db, WORKSPACE_SLUG, "Bench")
        have = await db.scalar(
            select(func.count()).select_from(Participant).where(Participant.workspace_id == workspace.id)
        )
        if have != count:
            print(f"  seeding {count:,} participants (found {have:,})...", flush=True)
            started = time.perf_counter()
            table = Participant.metadata.tables[Participant.__tablename__]
            conn = await db.connection()
            await conn.execute(delete(table).where(table.c.workspace_id == workspace.id))
            for start in range(0, count, BATCH):
                rows = list(participant_rows(workspace.id, start, min(start + BATCH, count)))
                await conn.execute(insert(table), rows)
            print(f"  seeded in {time.perf_counter() - started:.1f} s", flush=True)
        _, secret = await auth_service.create_api_key(db, workspace, "bench", ["candidates.read"])
        await db.commit()
        return workspace.id, secret


async def settle(engine: AsyncEngine) -> None:
    """On PostgreSQL, what autovacuum does some time after a bulk load: fresh statistics
    and a visibility map, without which the page's COUNT(*) cannot use an index-only scan
    and costs several times more. Done every run so figures don't depend on its timing."""
    if engine.dialect.name != "postgresql":
        return
    async with engine.connect() as conn:
        autocommit = await conn.execution_options(isolation_level="AUTOCOMMIT")
        await autocommit.execute(text("VACUUM ANALYZE participants"))


# --- the reference: the endpoint's query and encoding without HTTP or FastAPI --------------


def to_dict(p: Participant) -> dict[str, Any]:
    # Deliberately not participants.service.to_read: the reference must leave out the
    # Pydantic work the endpoint does, so this restates the same fields as a plain dict.
    return {
        "id": p.id,
        "name": p.name,
        "email": p.email,
        "evaluation_template_id": p.evaluation_template_id,
        "external_id": p.external_id,
        "phone": p.phone,
        "tags": p.tags,
        "profile": p.profile,
        "background": p.background,
        "resume_url": p.resume_url,
        "resume_status": p.resume_status,
        "resume_error": p.resume_error,
        "metadata": p.metadata_,
        "status": p.status,
        "created_at": isoformat(p.created_at),
        "updated_at": isoformat(p.updated_at),
    }


async def direct_page(sessions: async_sessionmaker[AsyncSession], ws_id: uuid.UUID) -> bytes:
    """One page exactly as the endpoint queries it (a session per call, like a request)."""
    async with sessions() as db:
        repo = ParticipantRepository(db, ws_id)
        page: Page[Participant] = await repo.paginate(repo.filtered(), PAGE)
        body = {"data": [to_dict(p) for p in page.items], "meta": page.meta()}
        await db.commit()
    return orjson.dumps(body)


# --- the server -----------------------------------------------------------------------------


@contextmanager
def server(database_url: str) -> Iterator[str]:
    """uvicorn with one worker on a free loopback port; yields its base URL.

    Its output goes to a log file (an error renders a long traceback); on failure the
    tail is printed."""
    port = free_port()
    env = {
        **os.environ,
        "VIVA_DATABASE_URL": database_url,
        # The limiter still runs on every request; it just must not refuse the warm-up.
        "VIVA_RATE_LIMIT_PER_MINUTE": "100000",
        "VIVA_LOG_LEVEL": "warning",
    }
    cmd = [
        sys.executable,
        "-m",
        "uvicorn",
        "--factory",
        "viva.app:create_app",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--workers",
        "1",
        "--log-level",
        "warning",
        "--no-access-log",
    ]
    log_path = DEFAULT_SQLITE.parent / "uvicorn.log"
    log_path.parent.mkdir(parents=True, exist_ok=True)
    base = f"http://127.0.0.1:{port}"
    with log_path.open("wb") as log:
        proc = subprocess.Popen(cmd, env=env, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT)
        try:
            wait_until(proc, f"{base}/readyz", "uvicorn")
            yield base
        except BaseException:
            tail = log_path.read_text(errors="replace").splitlines()[-15:]
            print(f"uvicorn log ({log_path}), last lines:", *tail, sep="\n  ", file=sys.stderr)
            raise
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


# --- the run --------------------------------------------------------------------------------


def timed(fn: Callable[[], object]) -> float:
    started = time.perf_counter()
    fn()
    return (time.perf_counter() - started) * 1000


def run_backend(database_url: str, requests: int, warmup: int) -> Result:
    backend = make_url(schema.sync_url(database_url)).get_backend_name()
    print(f"{backend}: {database_url}", flush=True)
    if backend == "postgresql":
        ensure_postgres_database(database_url)
    schema.upgrade(database_url)

    with asyncio.Runner() as runner:
        engine: AsyncEngine = make_engine(database_url)
        sessions = make_sessionmaker(engine)
        try:
            ws_id, secret = runner.run(seed(sessions, PARTICIPANTS))
            runner.run(settle(engine))

            def direct() -> bytes:
                return runner.run(direct_page(sessions, ws_id))

            with (
                server(database_url) as base,
                httpx.Client(
                    base_url=base, headers={"x-api-key": secret}, timeout=REQUEST_TIMEOUT_S
                ) as client,
            ):

                def over_http() -> bytes:
                    response = client.get(PATH)
                    if response.status_code != 200:
                        raise SystemExit(f"GET {PATH} answered {response.status_code}")
                    return response.content

                # Both paths must produce the same document, or the ratio compares unlike work.
                if orjson.loads(over_http()) != orjson.loads(direct()):
                    raise SystemExit("HTTP response and direct reference differ")
                for _ in range(warmup):
                    over_http()
                    direct()
                http_ms: list[float] = []
                direct_ms: list[float] = []
                # Interleaved so drift on a busy machine hits both sides alike.
                for _ in range(requests):
                    http_ms.append(timed(over_http))
                    direct_ms.append(timed(direct))
        finally:
            runner.run(engine.dispose())
    return Result(backend, requests, http_ms, direct_ms)


def print_table(results: list[Result]) -> None:
    header = (
        f"{'database':<11}{'rows':>9}{'n':>5}{'HTTP median':>14}{'direct median':>16}"
        f"{'overhead':>12}{'ratio':>8}  goal <= {GOAL_RATIO:g}"
    )
    print()
    print(f"GET {PATH} with {PARTICIPANTS:,} participants")
    print(header)
    print("-" * len(header))
    for r in results:
        verdict = "met" if r.ratio <= GOAL_RATIO else "MISSED"
        print(
            f"{r.backend:<11}{PARTICIPANTS:>9,}{r.requests:>5}{r.http_median:>11.2f} ms"
            f"{r.direct_median:>13.2f} ms{r.overhead:>9.2f} ms"
            f"{r.ratio:>7.2f}x  {verdict}"
        )


def bounded(low: int, high: int) -> Callable[[str], int]:
    def parse(value: str) -> int:
        number = int(value)
        if not low <= number <= high:
            raise argparse.ArgumentTypeError(f"must be between {low} and {high}")
        return number

    return parse


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    target = parser.add_mutually_exclusive_group()
    target.add_argument("--database-url", help=f"default: a SQLite file at {DEFAULT_SQLITE}")
    target.add_argument("--both", action="store_true", help=f"SQLite, then PostgreSQL at {DEFAULT_POSTGRES}")
    parser.add_argument(
        "--requests",
        type=bounded(5, 200),
        default=40,
        metavar="N",
        help="timed requests per side (5-200, default 40)",
    )
    parser.add_argument(
        "--warmup", type=bounded(0, 50), default=5, metavar="N", help="untimed rounds first (0-50, default 5)"
    )
    args = parser.parse_args(argv)

    sqlite_url = f"sqlite:///{DEFAULT_SQLITE}"
    urls = [sqlite_url, DEFAULT_POSTGRES] if args.both else [args.database_url or sqlite_url]
    results = [run_backend(url, args.requests, args.warmup) for url in urls]
    print_table(results)
    return 0


if __name__ == "__main__":
    sys.exit(main())
