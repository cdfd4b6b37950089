# Runs inside the sandbox as `python -I -S -c <this file> <result fd>`: reads one job from fd 0
# and runs each test in a forked child, so every test starts from pristine interpreter state
# and candidate code never runs in the process that reports. The child hands back its outcome
# over a pipe of its own (as marshal data, which no Python-level override can alter); this
# process re-encodes it and writes the frame to the private result pipe, which the child has
# closed before running any candidate code. Expected outputs never reach the sandbox at all.
import json as _json
import marshal as _marshal
import os as _os
import sys as _sys

_write = _os.write
_read = _os.read
_encode = _json.JSONEncoder(ensure_ascii=False, allow_nan=False, separators=(",", ":")).encode
_decode = _json.JSONDecoder().decode
_mdumps = _marshal.dumps
_mloads = _marshal.loads
_exit = _os._exit
_RESULT_FD = int(_sys.argv[-1])  # the private pipe the server reads
_MAX_RESULT = 4 * 1024 * 1024


_nonce = [None]  # the job's, set before candidate code runs; every frame after ready carries it


def _send(frame):
    if _nonce[0] is not None:
        frame["n"] = _nonce[0]
    body = _encode(frame).encode("utf-8", "surrogatepass")
    data = len(body).to_bytes(4, "big") + body
    while data:
        data = data[_write(_RESULT_FD, data) :]


def _read_exact(n):
    chunks = []
    while n:
        chunk = _read(0, n)
        if not chunk:
            _exit(3)
        chunks.append(chunk)
        n -= len(chunk)
    return b"".join(chunks)


def _capture_file(name):
    return _os.open(name, _os.O_RDWR | _os.O_CREAT | _os.O_TRUNC, 0o600)


def _drain(fd, limit):
    _os.lseek(fd, 0, 0)
    data = b""
    while len(data) <= limit:
        chunk = _read(fd, limit + 1 - len(data))
        if not chunk:
            break
        data += chunk
    return data[:limit].decode("utf-8", "replace"), len(data) > limit


def _traceback(exc):
    import traceback

    tb = exc.__traceback__
    while tb is not None and tb.tb_frame.f_code.co_filename != "solution.py":
        tb = tb.tb_next  # the harness's own frames say nothing to the candidate
    if tb is None:
        return "".join(traceback.format_exception_only(type(exc), exc))
    return "".join(traceback.format_exception(type(exc), exc, tb))


def _entry(ns, name):
    fn = ns.get(name)
    if callable(fn):
        return fn
    cls = ns.get("Solution")  # LeetCode style: class Solution with the method
    if isinstance(cls, type) and callable(getattr(cls, name, None)):
        return getattr(cls(), name)
    raise NameError(f"the code defines no function named {name!r}")


def _child(code, job, test, pipe):
    """In the forked child: run the test, send (kind, payload) back, exit."""
    _os.close(_RESULT_FD)
    send = _os.write
    dumps = _mdumps
    exit_ = _os._exit
    try:
        _sys.stdin = open(0, closefd=False)
        _sys.stdout = open(1, "w", closefd=False)
        _sys.stderr = open(2, "w", closefd=False)
        ns = {"__name__": "__main__" if job["mode"] == "stdin" else "solution", "__builtins__": __builtins__}
        if job["mode"] == "stdin":
            try:
                exec(code, ns)
            except SystemExit as exc:
                if exc.code not in (None, 0):
                    raise
            outcome = ("ok", None)
        else:
            exec(code, ns)
            result = _entry(ns, job["entrypoint"])(*test["input"])
            if hasattr(result, "__await__"):
                import asyncio

                result = asyncio.run(result)
            outcome = ("ok", result)
    except MemoryError:
        outcome = ("memory", "MemoryError: the memory limit was reached")
    except BaseException as exc:
        try:
            outcome = ("error", _traceback(exc))
        except BaseException:
            outcome = ("error", "the code raised an exception that could not be described")
    for stream in (_sys.stdout, _sys.stderr):
        try:
            stream.flush()
        except BaseException:
            pass
    try:
        data = dumps(outcome)
    except (ValueError, RecursionError):
        data = dumps(
            (
                "error",
                f"the function returned a {type(outcome[1]).__name__}, which JSON can't carry; "
                "return lists, dicts, strings, numbers, booleans or None",
            )
        )
    while data:
        data = data[send(pipe, data) :]
    exit_(0)


def _outcome(raw, status):
    """What the child said, checked: (ok, kind, value-or-message)."""
    try:
        kind, payload = _mloads(raw)
    except Exception:
        if _os.WIFSIGNALED(status):
            return False, "crash", f"The program crashed (signal {_os.WTERMSIG(status)})"
        return False, "error", "The program interfered with the test harness"
    if kind == "ok":
        try:
            return True, "ok", _decode(_encode(payload))
        except (TypeError, ValueError):
            return (
                False,
                "error",
                (
                    f"the function returned a {type(payload).__name__} (or holds one), which JSON "
                    "can't carry; return lists, dicts, strings, numbers, booleans or None"
                ),
            )
    if kind in ("memory", "error") and isinstance(payload, str):
        return False, kind, payload
    return False, "error", "The program interfered with the test harness"


def main():
    out = _capture_file("/tmp/.stdout")
    err = _capture_file("/tmp/.stderr")
    _send({"t": "ready"})
    job = _decode(_read_exact(int.from_bytes(_read_exact(4), "big")).decode("utf-8"))
    _nonce[0] = job.pop("nonce")
    limit = job["max_output"]
    _os.dup2(out, 1)
    _os.dup2(err, 2)
    try:
        code = compile(job["code"], "solution.py", "exec")
    except BaseException as exc:
        _send({"t": "compile_error", "message": _traceback(exc)})
        _exit(0)
    for test in job["tests"]:
        for fd in (out, err):
            _os.ftruncate(fd, 0)
            _os.lseek(fd, 0, 0)
        if job["mode"] == "stdin":
            fd = _capture_file("/tmp/.stdin")
            data = test["input"].encode("utf-8")
            while data:
                data = data[_write(fd, data) :]
            _os.lseek(fd, 0, 0)
            _os.dup2(fd, 0)
            _os.close(fd)
        r, w = _os.pipe()
        _send({"t": "start", "i": test["i"]})
        pid = _os.fork()
        if pid == 0:
            _os.close(r)
            _child(code, job, test, w)
        _os.close(w)
        raw = b""
        while len(raw) <= _MAX_RESULT:
            chunk = _read(r, 65536)
            if not chunk:
                break
            raw += chunk
        _os.close(r)
        try:
            _os.kill(pid, 9)  # its own children die with the sandbox; this one ends now
        except OSError:
            pass
        _, status = _os.waitpid(pid, 0)
        ok, kind, payload = (
            _outcome(raw, status)
            if len(raw) <= _MAX_RESULT
            else (False, "error", "The result is larger than 4 MiB")
        )
        frame = {"t": "done", "i": test["i"], "ok": ok, "value": payload if ok else None}
        if not ok:
            frame["kind"] = kind
            frame["error"] = payload
        frame["stdout"], frame["stdout_truncated"] = _drain(out, limit)
        frame["stderr"], frame["stderr_truncated"] = _drain(err, limit)
        if job["mode"] == "stdin" and ok:
            frame["value"] = frame["stdout"]
        _send(frame)
    _send({"t": "end"})
    _exit(0)


main()
