"""Code execution: one batched request against the floor and against a sandbox per test.

For a Python and a JavaScript solution with 20 test cases, measured in the same run:
  (a) one batched request end to end over HTTP against the real `viva serve`
      (POST /api/v1/code-executions: every test in one sandboxed process);
  (b) the floor: the bare interpreter running the same solution and tests once, no sandbox;
  (c) one sandboxed process per test case, as Judge0 and Piston run tests (a fresh sandbox
      started for each test, through the same sandbox code);
and then the sustained rate of 10-test submissions per second, Python and TypeScript, from
concurrent clients over HTTP. Goals: a/b <= 1.5, c/a >= 15, >= 40 Python/s, >= 25 TypeScript/s.

    .venv/bin/python bench/code_execution.py [--repeat 30] [--seconds 10] [--clients 8]

docs/benchmarks.md describes it and records the latest figures.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
from benchserver import start_viva, stop  # bench/benchserver.py, beside this script

from viva.config import Settings
from viva.sandbox.limits import Limits
from viva.sandbox.process import Host
from viva.sandbox.runner import Runner, TestInput

LOG_DIR = Path(tempfile.gettempdir()) / "viva-bench"
TESTS = 20
# How many pairs i < j have nums[i] + nums[j] == k (one pass with a counter).
PY = """\
def solve(nums, k):
    seen, pairs = {}, 0
    for n in nums:
        pairs += seen.get(k - n, 0)
        seen[n] = seen.get(n, 0) + 1
    return pairs
"""
JS = """\
function solve(nums, k) {
  const seen = new Map();
  let pairs = 0;
  for (const n of nums) {
    pairs += seen.get(k - n) || 0;
    seen.set(n, (seen.get(n) || 0) + 1);
  }
  return pairs;
}
"""
TS = JS.replace("solve(nums, k)", "solve(nums: number[], k: number): number").replace(
    "new Map()", "new Map<number, number>()"
)


def cases(n: int) -> list[tuple[list[Any], int]]:
    out = []
    for i in range(n):
        nums = [(i * 7 + j * 13) % 97 for j in range(200)]
        k = 90 + i
        want = sum(1 for a in range(len(nums)) for b in range(a + 1, len(nums)) if nums[a] + nums[b] == k)
        out.append(([nums, k], want))
    return out


def body(language: str, code: str, n: int) -> dict[str, Any]:
    return {
        "language": language,
        "code": code,
        "entrypoint": "solve",
        "test_cases": [{"input": args, "expected_output": want} for args, want in cases(n)],
    }


# --- (b) the floor --------------------------------------------------------------------------------


def floor_command(language: str) -> list[str]:
    tests = json.dumps(cases(TESTS))
    if language == "python":
        script = (
            f"import json\n{PY}\nfor args, want in json.loads({tests!r}):\n    assert solve(*args) == want\n"
        )
        return [os.path.realpath(sys.executable), "-I", "-S", "-c", script]
    check = "if (JSON.stringify(solve(...args)) !== JSON.stringify(want)) throw new Error('wrong');"
    script = f"{JS}\nfor (const [args, want] of {tests}) {{ {check} }}\n"
    return [os.path.realpath(shutil.which("node") or "node"), "-e", script]


def time_floor(language: str, repeat: int) -> list[float]:
    command = floor_command(language)
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        subprocess.run(command, check=True, env={}, stdout=subprocess.DEVNULL)
        times.append((time.perf_counter() - t) * 1000)
    return times


# --- (a) one batched request over HTTP ---------------------------------------------------------------


async def time_http(client: httpx.AsyncClient, language: str, code: str, repeat: int) -> list[float]:
    times = []
    payload = body(language, code, TESTS)
    for _ in range(repeat):
        t = time.perf_counter()
        r = await client.post("/api/v1/code-executions", json=payload)
        elapsed = (time.perf_counter() - t) * 1000
        data = r.json()["data"]
        if r.status_code != 200 or data["passed"] != TESTS:
            raise SystemExit(f"{language}: {r.status_code} {r.text[:500]}")
        times.append(elapsed)
        await asyncio.sleep(0.05)  # let the pool refill, as between a candidate's clicks
    return times


# --- (c) one sandboxed process per test ------------------------------------------------------------


async def time_per_test(language: str, code: str, repeat: int) -> list[float]:
    settings = Settings()
    runner = Runner(
        Host.detect(uid_base=settings.sandbox_uid_base), Path(settings.sandbox_runtime_dir), pool_size=0
    )
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        for i, (args, _want) in enumerate(cases(TESTS)):
            result = await runner.run(
                language,
                code,
                [TestInput(i, args)],
                mode="function",
                entrypoint="solve",  # type: ignore[arg-type]
                limits=Limits(),
                deadline=time.monotonic() + 15,
            )
            if not result.runs or result.runs[0].status != "ok":
                raise SystemExit(f"per-test sandbox failed: {result}")
        times.append((time.perf_counter() - t) * 1000)
    await runner.close()
    return times


# --- sustained throughput ------------------------------------------------------------------------------


async def throughput(
    client: httpx.AsyncClient, language: str, code: str, seconds: float, clients: int
) -> tuple[float, int, float]:
    payload = body(language, code, 10)
    done = 0
    failed = 0
    latencies: list[float] = []
    stop_at = time.monotonic() + seconds

    async def worker() -> None:
        nonlocal done, failed
        while time.monotonic() < stop_at:
            t = time.perf_counter()
            r = await client.post("/api/v1/code-executions", json=payload)
            if r.status_code == 200 and r.json()["data"]["passed"] == 10:
                done += 1
                latencies.append((time.perf_counter() - t) * 1000)
            else:
                failed += 1

    started = time.monotonic()
    await asyncio.gather(*(worker() for _ in range(clients)))
    elapsed = time.monotonic() - started
    p95 = statistics.quantiles(latencies, n=20)[-1] if len(latencies) >= 20 else float("nan")
    return done / elapsed, failed, p95


def med(values: list[float]) -> float:
    return statistics.median(values)


async def run(args: argparse.Namespace) -> int:
    workdir = Path(tempfile.mkdtemp(prefix="viva-bench-code-"))
    proc, base, key = start_viva(
        f"sqlite:///{workdir / 'viva.db'}",
        workdir,
        LOG_DIR / "code_execution-server.log",
        {
            "VIVA_RUN_WORKER": "false",
            "VIVA_SANDBOX_POOL_SIZE": str(args.pool),
            "VIVA_SANDBOX_CONCURRENCY": str(args.concurrency),
        },
    )
    ok = True
    try:
        limits = httpx.Limits(max_connections=64)
        async with httpx.AsyncClient(
            base_url=base, headers={"x-api-key": key}, timeout=30, limits=limits
        ) as client:
            await time_http(client, "python", PY, 3)  # warm-up: pools, the runtime mirror
            await time_http(client, "javascript", JS, 3)
            print(f"{TESTS} test cases per request, median of {args.repeat}; goals: a/b <= 1.5, c/a >= 15\n")
            print(
                f"{'language':<11} {'(a) HTTP batched':>17} {'(b) bare floor':>15} {'(c) sandbox/test':>17} "
                f"{'a/b':>6} {'c/a':>6}"
            )
            for language, code in (("python", PY), ("javascript", JS)):
                a = med(await time_http(client, language, code, args.repeat))
                b = med(time_floor(language, args.repeat))
                c = med(await time_per_test(language, code, max(3, args.repeat // 5)))
                ok &= a / b <= 1.5 and c / a >= 15
                print(f"{language:<11} {a:>14.1f} ms {b:>12.1f} ms {c:>14.1f} ms {a / b:>6.2f} {c / a:>6.1f}")
            print(
                f"\nsustained: {args.clients} clients, {args.seconds:.0f} s each, "
                "10 test cases per submission"
            )
            for language, code, goal in (("python", PY, 40), ("typescript", TS, 25)):
                rate, failed, p95 = await throughput(client, language, code, args.seconds, args.clients)
                ok &= rate >= goal and failed == 0
                print(
                    f"{language:<11} {rate:>6.1f} submissions/s (goal >= {goal}), "
                    f"p95 {p95:.0f} ms, {failed} failed"
                )
    finally:
        stop(proc)
        shutil.rmtree(workdir, ignore_errors=True)
    print("\nall goals met" if ok else "\nsome goals missed")
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--repeat", type=int, default=30)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--pool", type=int, default=2, help="VIVA_SANDBOX_POOL_SIZE of the server")
    parser.add_argument("--concurrency", type=int, default=8, help="VIVA_SANDBOX_CONCURRENCY of the server")
    return asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    raise SystemExit(main())
