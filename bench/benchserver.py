"""Starting the real `viva serve` for a benchmark: a subprocess on a free loopback port, with a
fresh database in its own work directory, and the API key it prints on first start."""

from __future__ import annotations

import asyncio
import os
import re
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx

from viva import quickstart

START_TIMEOUT_S = 60.0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_until(proc: subprocess.Popen[bytes], url: str, what: str) -> None:
    """Poll `url` until it answers 200; exits the benchmark if `proc` dies or it takes too long."""
    deadline = time.monotonic() + START_TIMEOUT_S
    while True:
        if proc.poll() is not None:
            raise SystemExit(f"{what} exited with {proc.returncode} before it was ready")
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        if time.monotonic() > deadline:
            raise SystemExit(f"{what} not ready after {START_TIMEOUT_S:.0f} s")
        time.sleep(0.1)


def start_viva(
    database_url: str, workdir: Path, log: Path, env: dict[str, str]
) -> tuple[subprocess.Popen[bytes], str, str]:
    """`viva serve` on a fresh database: (process, base URL, the first-start API key)."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    # Only the benchmark's own settings: nothing VIVA_* from the shell that started it.
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("VIVA_")}
    full_env |= {
        "VIVA_DATABASE_URL": database_url,
        "VIVA_PUBLIC_URL": base,
        "VIVA_SECRET_KEY_FILE": str(workdir / "secret.key"),
        # The limiter still runs on every request; a benchmark's load must not be refused by it.
        "VIVA_RATE_LIMIT_PER_MINUTE": "100000",
        "VIVA_LOG_LEVEL": "warning",
        **env,
    }
    viva = Path(sys.executable).parent / "viva"
    command = [str(viva)] if viva.exists() else [sys.executable, "-m", "viva.cli"]
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [*command, "serve", "--host", "127.0.0.1", "--port", str(port)],
            env=full_env,
            cwd=workdir,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        wait_until(proc, f"{base}/readyz", f"viva serve (see {log})")
        found = re.search(r"API key\s*:\s*(\S+)", log.read_text(errors="replace"))
        if found is None:
            raise SystemExit(f"no first-start API key in {log}: is the database fresh?")
    except BaseException:
        stop(proc)
        raise
    return proc, base, found.group(1)


@contextmanager
def viva_serve(database_url: str, workdir: Path, log: Path, env: dict[str, str]) -> Iterator[tuple[str, str]]:
    """`start_viva` for a `with` block: yields (base URL, API key); on failure prints the log's tail."""
    proc, base, key = start_viva(database_url, workdir, log, env)
    try:
        yield base, key
    except BaseException:
        tail = log.read_text(errors="replace").splitlines()[-15:]
        print(f"{log}, last lines:", *tail, sep="\n  ", file=sys.stderr)
        raise
    finally:
        stop(proc)


def stop(proc: subprocess.Popen[bytes] | None) -> None:
    if proc is not None and proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


# --- scheduling through the API


async def pipeline(api: httpx.AsyncClient) -> str:
    """An agent profile, a template and one technical stage; returns the template id."""

    async def post(path: str, body: dict[str, Any]) -> str:
        r = await api.post(path, json=body)
        if r.status_code != 201:
            raise SystemExit(f"POST {path} answered {r.status_code}: {r.text}")
        return str(r.json()["data"]["id"])

    profile = await post(
        "/api/v1/agent-profiles",
        quickstart.PROFILE,
    )
    template = await post(
        "/api/v1/evaluation-templates",
        {
            "template_name": "Senior Backend Engineer",
            "use_case": "hiring",
            "skills": ["Go", "PostgreSQL"],
            "default_duration_minutes": 45,
        },
    )
    await post(
        "/api/v1/evaluation-stages",
        {
            "evaluation_template_id": template,
            "agent_profile_id": profile,
            "type": "technical",
            "stage_name": "Technical Screen",
        },
    )
    return template


async def schedule(api: httpx.AsyncClient, template: str, label: str, count: int) -> list[str]:
    """`count` participants, each with a session on the stage; returns their join tokens."""
    gate = asyncio.Semaphore(8)

    async def one(i: int) -> str:
        async with gate:
            r = await api.post(
                "/api/v1/participants",
                json={
                    "name": f"Candidate {label}-{i}",
                    "email": f"candidate-{label}-{i}@example.com",
                    "evaluation_template_id": template,
                },
            )
            if r.status_code != 201:
                raise SystemExit(f"POST /participants answered {r.status_code}: {r.text}")
            body = {
                "candidate_id": r.json()["data"]["id"],
                "evaluation_template_id": template,
                "stage": "screen",
            }
            r = await api.post("/api/v1/sessions", json=body)
            if r.status_code != 200:
                raise SystemExit(f"POST /sessions answered {r.status_code}: {r.text}")
            return str(r.json()["data"]["join_url"]).rsplit("/join/", 1)[1]

    return list(await asyncio.gather(*(one(i) for i in range(count))))
