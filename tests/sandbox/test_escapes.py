"""The escape suite: hostile programs in every language, each shown to be contained.

Each program defines `attack(...)`, which tries one way out and returns what it got; the test
then checks both what the program saw and the host itself (the listener that must not be
reached, the files that must not appear, the processes that must not survive). TypeScript runs
the JavaScript programs (they are valid TypeScript) through the esbuild path."""

from __future__ import annotations

import asyncio
import json
import secrets
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from viva.sandbox.limits import MAX_OUTPUT_BYTES

ROOT = Path(__file__).resolve().parents[2]
SERVER_FILES = [
    str(ROOT / "src" / "viva" / "config.py"),
    str(ROOT / "pyproject.toml"),
    "/root",
    str(ROOT),
    "/work",
    "/etc/hostname",
    "/var/lib/viva",
]

PY: dict[str, str] = {
    "loopback_socket": """
import socket
def attack(port):
    out = []
    for host in ("127.0.0.1", "localhost", "::1"):
        try:
            s = socket.create_connection((host, port), timeout=1)
            out.append("connected")
        except OSError as e:
            out.append(type(e).__name__)
    return out
""",
    "external_socket": """
import socket
def attack():
    try:
        socket.create_connection(("1.1.1.1", 53), timeout=1)
        return "connected"
    except OSError as e:
        return type(e).__name__
""",
    "shadow": """
def attack():
    found = []
    for path in ("/etc/shadow", "/etc/passwd", "/proc/1/root/etc/shadow"):
        try:
            found.append(open(path).read()[:50])
        except OSError as e:
            found.append(type(e).__name__)
    return found
""",
    "environment": """
import os
def attack():
    seen = dict(os.environ)
    for path in ("/proc/1/environ", "/proc/self/environ"):
        try:
            seen[path] = open(path, "rb").read().decode(errors="replace")
        except OSError as e:
            seen[path] = type(e).__name__
    return seen
""",
    "server_files": """
import os
def attack(paths):
    out = {}
    for p in paths:
        try:
            out[p] = os.listdir(p) if os.path.isdir(p) else open(p).read()[:80]
        except OSError as e:
            out[p] = type(e).__name__
    return out
""",
    "write_outside": """
import os
def attack(name):
    wrote = []
    for d in ("/", "/usr", "/usr/lib", "/etc", "/proc", "/dev", "/opt", "/var", os.path.dirname(os.__file__)):
        try:
            with open(os.path.join(d, name), "w") as f:
                f.write("pwned")
            wrote.append(d)
        except OSError:
            pass
    return wrote
""",
    "fork_bomb": """
import os
def attack():
    n = 0
    while True:
        try:
            if os.fork() == 0:
                while True:
                    pass
            n += 1
        except OSError:
            return n
""",
    "memory_bomb": """
def attack():
    hog = []
    while True:
        hog.append(bytearray(32 << 20))
""",
    "cpu_spin": """
def attack():
    x = 0
    while True:
        x += 1
""",
    "sleeper": """
import time
def attack():
    time.sleep(60)
    return "woke"
""",
    "flood_output": """
import sys
def attack():
    line = "x" * 1023 + "\\n"
    for _ in range(20000):
        sys.stdout.write(line)
    return "done"
""",
    "detached_child": """
import subprocess
def attack(token):
    subprocess.Popen(["/usr/bin/sleep", token], start_new_session=True,
                     stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    import os
    if os.fork() == 0:
        os.setsid()
        os.execv("/usr/bin/sleep", ["sleep", token])
    return "spawned"
""",
    "signal_parent": """
import os, signal
def attack():
    done = []
    for target in (os.getppid(), 1, -1):
        try:
            os.kill(target, signal.SIGKILL)
            done.append(target)
        except OSError as e:
            done.append(type(e).__name__)
    return done
""",
    "other_runs_files": """
import os, glob
def attack(secret):
    with open("/tmp/planted-" + secret, "w") as f:
        f.write(secret)
    found = []
    for pattern in ("/tmp/*", "/dev/shm/*", "/proc/*/root/tmp/*", "/proc/*/cwd/*"):
        found += glob.glob(pattern)
    return found
""",
    "forge_stdout": """
import sys, os, json
def attack():
    frame = json.dumps({"t": "done", "i": 0, "ok": True, "value": "expected-secret"}).encode()
    sys.stdout.write('{"t": "done", "i": 0, "ok": true, "value": "expected-secret"}\\n')
    sys.stdout.flush()
    os.write(1, len(frame).to_bytes(4, "big") + frame)
    return "wrong"
""",
    "forge_result_pipe": """
import os, json
def attack(i):
    if i == 0:
        for fd in range(3, 64):
            for frame in ({"t": "done", "i": 0, "ok": True, "value": "guess"},
                          {"t": "start", "i": 1}, {"t": "done", "i": 1, "ok": True, "value": "guess"},
                          {"t": "end"}):
                body = json.dumps(frame).encode()
                try:
                    os.write(fd, len(body).to_bytes(4, "big") + body)
                except OSError:
                    pass
            try:
                os.write(fd, b"\\xff\\xff\\xff\\xffgarbage")
            except OSError:
                pass
    return "guess" if i < 2 else "right-" + str(i)
""",
    "tamper_harness": """
import json, os, time, builtins, sys
json.dumps = lambda *a, **k: '"forged"'
json.JSONEncoder.encode = lambda self, o: '"forged"'
time.perf_counter = lambda: 0.0
builtins.isinstance = lambda *a: True
import __main__
for name in list(vars(__main__)):
    if not name.startswith("__"):
        setattr(__main__, name, None)
def attack(i):
    return "right-" + str(i) if i > 0 else "wrong"
""",
    "symlinks": """
import os
def attack():
    out = []
    for target, link in (("/proc/1/root/etc/shadow", "/tmp/a"), ("/", "/tmp/b"), ("/proc/self/root/../../..", "/tmp/c")):
        try:
            os.symlink(target, link)
        except OSError as e:
            out.append(type(e).__name__)
    for path in ("/tmp/a", "/tmp/b/root", "/tmp/c/etc/shadow", "/proc/self/root/../../etc/shadow"):
        try:
            out.append(os.listdir(path) if os.path.isdir(path) else open(path).read()[:40])
        except OSError as e:
            out.append(type(e).__name__)
    return out
""",
    "kernel_interfaces": """
import ctypes, os
libc = ctypes.CDLL(None, use_errno=True)
def attack():
    out = {}
    for name, flag in (("newuser", 0x10000000), ("newns", 0x00020000), ("newnet", 0x40000000)):
        r = libc.unshare(flag)
        out["unshare_" + name] = ctypes.get_errno() if r != 0 else "ok"
    r = libc.ptrace(0, 0, 0, 0)
    out["ptrace"] = ctypes.get_errno() if r != 0 else "ok"
    r = libc.syscall(425, 8, ctypes.c_void_p(0))  # io_uring_setup
    out["io_uring"] = ctypes.get_errno() if r < 0 else "ok"
    r = libc.syscall(321, 0, 0, 0)  # bpf
    out["bpf"] = ctypes.get_errno() if r < 0 else "ok"
    r = libc.syscall(250, 0, 0, 0, 0, 0)  # keyctl
    out["keyctl"] = ctypes.get_errno() if r < 0 else "ok"
    out["uid"] = os.getuid()
    return out
""",
    "fill_disk": """
def attack():
    out = {}
    for path, size in (("/dev/shm/x", 4 << 20), ("/tmp/x", 64 << 20)):
        try:
            with open(path, "wb") as f:
                for _ in range(size >> 20):
                    f.write(b"\\0" * (1 << 20))
            out[path] = "wrote"
        except OSError as e:
            out[path] = type(e).__name__
    return out
""",
}

JS: dict[str, str] = {
    "loopback_socket": """
const net = require("net");
async function attack(port) {
  const out = [];
  for (const host of ["127.0.0.1", "localhost", "::1"]) {
    out.push(await new Promise((resolve) => {
      const s = net.connect({ host, port });
      s.on("connect", () => resolve("connected"));
      s.on("error", (e) => resolve(e.code || String(e)));
      setTimeout(() => resolve("timeout"), 1000);
    }));
  }
  return out;
}
""",
    "external_socket": """
const net = require("net");
function attack() {
  return new Promise((resolve) => {
    const s = net.connect({ host: "1.1.1.1", port: 53 });
    s.on("connect", () => resolve("connected"));
    s.on("error", (e) => resolve(e.code || String(e)));
    setTimeout(() => resolve("timeout"), 1000);
  });
}
""",
    "shadow": """
const fs = require("fs");
function attack() {
  return ["/etc/shadow", "/etc/passwd", "/proc/1/root/etc/shadow"].map((p) => {
    try { return fs.readFileSync(p, "utf8").slice(0, 50); } catch (e) { return e.code; }
  });
}
""",
    "environment": """
const fs = require("fs");
function attack() {
  const seen = Object.assign({}, process.env);
  for (const p of ["/proc/1/environ", "/proc/self/environ"]) {
    try { seen[p] = fs.readFileSync(p, "utf8"); } catch (e) { seen[p] = e.code; }
  }
  return seen;
}
""",
    "server_files": """
const fs = require("fs");
function attack(paths) {
  const out = {};
  for (const p of paths) {
    try { out[p] = fs.statSync(p).isDirectory() ? fs.readdirSync(p) : fs.readFileSync(p, "utf8").slice(0, 80); }
    catch (e) { out[p] = e.code; }
  }
  return out;
}
""",
    "write_outside": """
const fs = require("fs");
const path = require("path");
function attack(name) {
  const wrote = [];
  for (const d of ["/", "/usr", "/usr/lib", "/etc", "/proc", "/dev", "/opt", "/var", path.dirname(process.execPath)]) {
    try { fs.writeFileSync(path.join(d, name), "pwned"); wrote.push(d); } catch (e) {}
  }
  return wrote;
}
""",
    "fork_bomb": """
const cp = require("child_process");
function attack() {
  let n = 0;
  for (let i = 0; i < 500; i++) {
    try { cp.spawn(process.execPath, ["-e", "for(;;){}"], { stdio: "ignore" }).on("error", () => {}); n++; } catch (e) { break; }
  }
  for (;;) {}
}
""",
    "memory_bomb": """
function attack() {
  const hog = [];
  for (;;) hog.push(new Array(1 << 20).fill(Math.random()));
}
""",
    "cpu_spin": """
function attack() { let x = 0; for (;;) x++; }
""",
    "sleeper": """
function attack() { return new Promise((r) => setTimeout(() => r("woke"), 60000)); }
""",
    "flood_output": """
function attack() {
  const line = "x".repeat(1023) + "\\n";
  for (let i = 0; i < 20000; i++) process.stdout.write(line);
  for (let i = 0; i < 2000; i++) console.error(line);
  return "done";
}
""",
    "detached_child": """
const cp = require("child_process");
function attack(token) {
  const child = cp.spawn("/usr/bin/sleep", [token], { detached: true, stdio: "ignore" });
  child.unref();
  return "spawned";
}
""",
    "signal_parent": """
function attack() {
  const done = [];
  for (const target of [process.ppid, 1, -1]) {
    try { process.kill(target, "SIGKILL"); done.push(target); } catch (e) { done.push(e.code); }
  }
  return done;
}
""",
    "other_runs_files": """
const fs = require("fs");
function attack(secret) {
  fs.writeFileSync("/tmp/planted-" + secret, secret);
  const found = [];
  for (const d of ["/tmp", "/dev/shm"]) {
    try { for (const f of fs.readdirSync(d)) found.push(d + "/" + f); } catch (e) {}
  }
  for (const pid of fs.readdirSync("/proc").filter((p) => /^\\d+$/.test(p))) {
    try { for (const f of fs.readdirSync(`/proc/${pid}/root/tmp`)) found.push(`/proc/${pid}/root/tmp/${f}`); } catch (e) {}
  }
  return found;
}
""",
    "forge_stdout": """
const fs = require("fs");
function attack() {
  const body = Buffer.from(JSON.stringify({ t: "done", i: 0, ok: true, value: "expected-secret" }));
  const head = Buffer.alloc(4); head.writeUInt32BE(body.length);
  console.log(JSON.stringify({ t: "done", i: 0, ok: true, value: "expected-secret" }));
  fs.writeSync(1, Buffer.concat([head, body]));
  return "wrong";
}
""",
    "forge_result_pipe": """
const fs = require("fs");
function attack(i) {
  if (i === 0) {
    for (let fd = 3; fd < 64; fd++) {
      for (const frame of [{ t: "done", i: 0, ok: true, value: "guess" }, { t: "start", i: 1 },
                           { t: "done", i: 1, ok: true, value: "guess" }, { t: "end" }]) {
        const body = Buffer.from(JSON.stringify(frame));
        const head = Buffer.alloc(4); head.writeUInt32BE(body.length);
        try { fs.writeSync(fd, Buffer.concat([head, body])); } catch (e) {}
      }
      try { fs.writeSync(fd, Buffer.from([255, 255, 255, 255, 1, 2, 3])); } catch (e) {}
    }
  }
  return i < 2 ? "guess" : "right-" + i;
}
""",
    "tamper_harness": """
JSON.stringify = () => '"forged"';
JSON.parse = () => "forged";
Buffer.from = () => { throw new Error("no"); };
require("fs").writeSync = () => 0;
process.stdout.write = () => true;
Object.prototype.toJSON = function () { return "forged"; };
function attack(i) { return i > 0 ? "right-" + i : "wrong"; }
""",
    "symlinks": """
const fs = require("fs");
function attack() {
  const out = [];
  for (const [target, link] of [["/proc/1/root/etc/shadow", "/tmp/a"], ["/", "/tmp/b"], ["/proc/self/root/../../..", "/tmp/c"]]) {
    try { fs.symlinkSync(target, link); } catch (e) { out.push(e.code); }
  }
  for (const p of ["/tmp/a", "/tmp/b/root", "/tmp/c/etc/shadow", "/proc/self/root/../../etc/shadow"]) {
    try { out.push(fs.statSync(p).isDirectory() ? fs.readdirSync(p) : fs.readFileSync(p, "utf8").slice(0, 40)); }
    catch (e) { out.push(e.code); }
  }
  return out;
}
""",
    "kernel_interfaces": """
const cp = require("child_process");
function attack() {
  const out = {};
  for (const [name, args] of [["unshare_user", ["-U", "true"]], ["unshare_net", ["-n", "true"]], ["unshare_mount", ["-m", "true"]]]) {
    const r = cp.spawnSync("/usr/bin/unshare", args, { encoding: "utf8" });
    out[name] = r.status === 0 ? "ok" : (r.stderr || String(r.error)).trim().slice(0, 100);
  }
  out.uid = process.getuid();
  return out;
}
""",
    "fill_disk": """
const fs = require("fs");
function attack() {
  const out = {};
  for (const [p, mb] of [["/dev/shm/x", 4], ["/tmp/x", 64]]) {
    try { const fd = fs.openSync(p, "w"); const chunk = Buffer.alloc(1 << 20); for (let i = 0; i < mb; i++) fs.writeSync(fd, chunk); out[p] = "wrote"; }
    catch (e) { out[p] = e.code; }
  }
  return out;
}
""",
}
assert PY.keys() == JS.keys() and len(PY) >= 15


def program(language: str, name: str) -> str:
    return PY[name] if language == "python" else JS[name]


def host_processes(needle: str) -> list[str]:
    out = subprocess.run(["ps", "-eo", "pid,uid,args"], capture_output=True, text=True).stdout
    return [line for line in out.splitlines() if needle in line and "ps -eo" not in line]


async def attack(
    run: Any, language: str, name: str, *args: Any, expected: Any = "contained", **body: Any
) -> dict[str, Any]:
    body.setdefault("time_limit_ms", 3000)
    body.setdefault("memory_limit_mb", 128)
    return await run(
        language,
        program(language, name),
        entrypoint="attack",
        test_cases=[{"input": list(args), "expected_output": expected}],
        **body,
    )


def value(data: dict[str, Any]) -> Any:
    result = data["results"][0]
    assert result["status"] in ("passed", "failed"), result  # the program ran and said what it saw
    return result["actual_output"]


LANGS = pytest.mark.parametrize("language", ["python", "javascript", "typescript"])


@pytest.fixture(scope="module")
def listener():
    """A TCP server on the host's loopback that records every connection made to it."""
    accepted: list[Any] = []
    srv = socket.socket()
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind(("127.0.0.1", 0))
    srv.listen()
    srv.settimeout(0.2)
    stop = threading.Event()

    def loop() -> None:
        while not stop.is_set():
            try:
                accepted.append(srv.accept())
            except OSError:
                pass

    t = threading.Thread(target=loop, daemon=True)
    t.start()
    yield srv.getsockname()[1], accepted
    stop.set()
    t.join()
    srv.close()


@LANGS
async def test_no_socket_reaches_the_hosts_loopback(run, language, listener):
    port, accepted = listener
    seen = value(await attack(run, language, "loopback_socket", port))
    assert "connected" not in seen
    assert accepted == []


@LANGS
async def test_no_network_at_all(run, language):
    assert value(await attack(run, language, "external_socket")) != "connected"


@LANGS
async def test_host_secrets_files_are_not_there(run, language):
    seen = value(await attack(run, language, "shadow"))
    assert not any(isinstance(s, str) and "root:" in s for s in seen), seen


@LANGS
async def test_the_servers_environment_is_not_visible(run, language, monkeypatch):
    marker = "viva-secret-" + secrets.token_hex(8)
    monkeypatch.setenv("VIVA_PROBE_SECRET", marker)
    monkeypatch.setenv("NODE_OPTIONS", "--require /nonexistent.js")  # would break Node if it leaked
    seen = value(await attack(run, language, "environment"))
    assert marker not in json.dumps(seen)
    assert {k for k in seen if not k.startswith("/proc")} <= {"HOME", "PATH", "LANG", "PWD"}


@LANGS
async def test_the_servers_files_are_not_visible(run, language):
    seen = value(await attack(run, language, "server_files", SERVER_FILES))
    interpreter = Path(sys.base_prefix)
    for path, got in seen.items():
        if language == "python" and interpreter.is_relative_to(path) and interpreter != Path(path):
            # The way down to the interpreter's own (read-only) prefix, and nothing beside it.
            assert got == [interpreter.relative_to(path).parts[0]], (path, got)
        else:
            assert got in ("ENOENT", "FileNotFoundError", "EACCES", "PermissionError"), (path, got)


@LANGS
async def test_nothing_is_written_outside_the_work_dir(run, language):
    name = "viva-escape-" + secrets.token_hex(6)
    assert value(await attack(run, language, "write_outside", name)) == []
    for d in ("/", "/usr", "/usr/lib", "/etc", "/opt", "/var", "/tmp"):
        assert not (Path(d) / name).exists()


@LANGS
async def test_a_fork_bomb_is_contained_and_leaves_nothing_behind(run, language):
    before = time.monotonic()
    data = await attack(run, language, "fork_bomb", time_limit_ms=1500)
    assert data["results"][0]["status"] in ("timeout", "error", "failed")
    assert time.monotonic() - before < 10
    deadline = time.monotonic() + 5  # the sandbox is ended in the background, just after the results
    while host_processes("for(;;){}") and time.monotonic() < deadline:  # noqa: ASYNC110 - polls the host
        await asyncio.sleep(0.05)
    assert host_processes("for(;;){}") == []


@LANGS
async def test_a_memory_bomb_hits_the_memory_limit(run, language):
    data = await attack(run, language, "memory_bomb", time_limit_ms=8000)
    assert data["results"][0]["status"] == "memory_limit"


@LANGS
async def test_a_cpu_spin_hits_the_time_limit(run, language):
    data = await attack(run, language, "cpu_spin", time_limit_ms=300)
    assert data["results"][0]["status"] == "timeout"
    assert data["duration_ms"] < 5000


@LANGS
async def test_sleeping_past_the_limit_is_a_timeout(run, language):
    data = await attack(run, language, "sleeper", time_limit_ms=300)
    assert data["results"][0]["status"] == "timeout"
    assert data["duration_ms"] < 5000


@LANGS
async def test_an_output_flood_is_capped_and_marked(run, language):
    data = await attack(run, language, "flood_output", expected="done", time_limit_ms=8000)
    result = data["results"][0]
    assert len(result["stdout"].encode()) <= MAX_OUTPUT_BYTES
    assert result["stdout_truncated"] is True
    assert len((result["stderr"] or "").encode()) <= MAX_OUTPUT_BYTES


@LANGS
async def test_a_detached_child_does_not_outlive_the_run(run, language):
    token = f"{secrets.randbelow(10**6) + 1000}.{secrets.randbelow(1000)}"
    await attack(run, language, "detached_child", token)
    deadline = time.monotonic() + 3
    while host_processes(f"sleep {token}") and time.monotonic() < deadline:  # noqa: ASYNC110 - polls the host
        await asyncio.sleep(0.05)
    assert host_processes(f"sleep {token}") == []


@LANGS
async def test_signalling_the_parent_touches_nothing_outside(run, language):
    canary = await asyncio.create_subprocess_exec("sleep", "30")
    try:
        data = await run(
            language,
            program(language, "signal_parent"),
            entrypoint="attack",
            test_cases=[{"input": [], "expected_output": None}, {"input": [], "expected_output": None}],
        )
        assert canary.returncode is None  # a host process, same machine, untouched
        # Each test was run and reported (killing its own sandbox ends that sandbox only)...
        for result in data["results"]:
            assert result["status"] in ("passed", "failed", "error"), result
            assert "not run" not in (result["error"] or "").lower(), result
        # ...and the runner carries on with the next request as if nothing had happened.
        after = await run(
            language,
            PY["cpu_spin"] if language == "python" else JS["cpu_spin"],
            entrypoint="attack",
            time_limit_ms=200,
            test_cases=[{"input": [], "expected_output": 1}],
        )
        assert after["results"][0]["status"] == "timeout"
        ok = await run(
            language,
            "def attack():\n    return 7\n" if language == "python" else "function attack() { return 7 }",
            entrypoint="attack",
            test_cases=[{"input": [], "expected_output": 7}],
        )
        assert ok["status"] == "passed"
    finally:
        canary.kill()
        await canary.wait()


@LANGS
async def test_concurrent_runs_cannot_see_each_others_files(run, language):
    secrets_ = [secrets.token_hex(6) for _ in range(4)]
    results = await asyncio.gather(*(attack(run, language, "other_runs_files", s) for s in secrets_))
    for mine, data in zip(secrets_, results, strict=True):
        found = " ".join(value(data))
        for theirs in secrets_:
            if theirs != mine:
                assert theirs not in found


@LANGS
async def test_results_cannot_be_forged_through_stdout(run, language):
    data = await attack(run, language, "forge_stdout", expected="expected-secret")
    assert data["results"][0]["status"] == "failed"
    assert data["results"][0]["actual_output"] == "wrong"


@LANGS
async def test_results_cannot_be_forged_on_the_result_pipe(run, language):
    data = await run(
        language,
        program(language, "forge_result_pipe"),
        entrypoint="attack",
        test_cases=[
            {"input": [0], "expected_output": "secret-0"},
            {"input": [1], "expected_output": "secret-1", "hidden": True},
            {"input": [2], "expected_output": "right-2"},
        ],
    )
    statuses = [r["status"] for r in data["results"]]
    assert statuses[0] != "passed" and statuses[1] != "passed"
    assert statuses[2] == "passed"  # the batch carried on in a fresh sandbox


@LANGS
async def test_tampering_with_the_harness_changes_nothing(run, language):
    data = await run(
        language,
        program(language, "tamper_harness"),
        entrypoint="attack",
        test_cases=[
            {"input": [0], "expected_output": "forged"},
            {"input": [1], "expected_output": "right-1"},
            {"input": [2], "expected_output": "right-2"},
        ],
    )
    assert [r["status"] for r in data["results"]] == ["failed", "passed", "passed"], data


@LANGS
async def test_symlinks_lead_nowhere(run, language):
    seen = json.dumps(value(await attack(run, language, "symlinks")))
    assert "root:" not in seen
    assert "pyproject" not in seen and "viva" not in seen


@LANGS
async def test_namespaces_tracing_and_dangerous_syscalls_are_refused(run, language):
    seen = value(await attack(run, language, "kernel_interfaces"))
    assert seen.pop("uid") != 0
    assert "ok" not in seen.values(), seen


@LANGS
async def test_shared_memory_and_tmp_are_small(run, language):
    seen = value(await attack(run, language, "fill_disk"))
    assert seen["/dev/shm/x"] != "wrote"
    assert seen["/tmp/x"] != "wrote"


async def test_sandboxed_code_runs_as_an_unprivileged_host_uid(runner):
    sandbox = await runner._take("python", runner.base.memory_mb)
    try:
        uids = []
        from viva.sandbox.cgroups import _tree

        for pid in _tree(sandbox.proc.pid):
            status = Path(f"/proc/{pid}/status").read_text()  # noqa: ASYNC240 - procfs, instant
            uids.append(int(next(line for line in status.splitlines() if line.startswith("Uid:")).split()[1]))
        assert uids and all(uid != 0 for uid in uids), uids
    finally:
        await sandbox.kill()


def test_no_two_sandboxes_share_a_uid_even_across_processes(runner, tmp_path):
    """Leases are flocks on files, so another server process on the host gets other uids."""
    from viva.sandbox.process import Host

    if not runner.host.as_root:
        pytest.skip("as another user every sandbox runs as that user, in its own user namespace")
    mine = [runner.host.lease_uid() for _ in range(5)]
    try:
        other = Host(
            bwrap="", prlimit="", setpriv="", uid_base=runner.host.uid_base, lock_dir=runner.host.lock_dir
        )
        theirs = [other.lease_uid() for _ in range(5)]
        assert len({lease.uid for lease in mine + theirs}) == 10
        probe = subprocess.run(
            [
                sys.executable,
                "-c",
                "import fcntl, os, sys; fd = os.open(sys.argv[1], os.O_RDWR);"
                "fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)",
                str(runner.host.lock_dir / str(mine[0].uid)),
            ],
            capture_output=True,
            text=True,
        )
        assert probe.returncode != 0 and "BlockingIOError" in probe.stderr  # another process can't take it
        for lease in theirs:
            lease.release()
    finally:
        for lease in mine:
            lease.release()
