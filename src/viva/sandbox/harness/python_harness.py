# Runs inside the sandbox as `python -I -S -c <this file>`: reads one job from fd 0, runs each
# test in a fresh module namespace and reports on fd 3 in length-prefixed JSON frames.
# Expected outputs never reach this process; the server compares results outside the sandbox.
# Everything the harness relies on is bound to a local name before candidate code runs, so
# code that replaces json.dumps, os.write or time.perf_counter cannot change what it reports.
import json as _json
import os as _os
import sys as _sys
import time as _time

_write = _os.write
_read = _os.read
_dup2 = _os.dup2
_open = _os.open
_close = _os.close
_lseek = _os.lseek
_ftruncate = _os.ftruncate
_perf = _time.perf_counter
_encode = _json.JSONEncoder(ensure_ascii=False, allow_nan=False, separators=(",", ":")).encode
_decode = _json.JSONDecoder().decode
_exit = _os._exit
_exec = exec
_isinstance = isinstance
_MemoryError = MemoryError
_BaseException = BaseException
_SystemExit = SystemExit
_RESULT_FD = int(_sys.argv[-1])  # the private pipe the server reads


def _send(frame):
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
    return _open(name, _os.O_RDWR | _os.O_CREAT | _os.O_TRUNC, 0o600)


def _drain(fd, limit):
    _lseek(fd, 0, 0)
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
    return (
        "".join(traceback.format_exception(type(exc), exc, tb))
        if tb
        else "".join(traceback.format_exception_only(type(exc), exc))
    )


def _entry(ns, name):
    fn = ns.get(name)
    if callable(fn):
        return fn
    cls = ns.get("Solution")  # LeetCode style: class Solution with the method
    if _isinstance(cls, type) and callable(getattr(cls, name, None)):
        return getattr(cls(), name)
    raise NameError(f"the code defines no function named {name!r}")


def _run_test(code, job, test):
    ns = {"__name__": "__main__" if job["mode"] == "stdin" else "solution", "__builtins__": __builtins__}
    if job["mode"] == "stdin":
        fd = _capture_file("/tmp/.stdin")
        data = test["input"].encode("utf-8")
        while data:
            data = data[_write(fd, data) :]
        _lseek(fd, 0, 0)
        _dup2(fd, 0)
        _close(fd)
        _sys.stdin = open(0, closefd=False)
        try:
            _exec(code, ns)
        except _SystemExit as exc:
            if exc.code not in (None, 0):
                raise
        return None
    _exec(code, ns)
    fn = _entry(ns, job["entrypoint"])
    result = fn(*test["input"])
    if hasattr(result, "__await__"):
        import asyncio

        result = asyncio.run(result)
    try:
        _encode(result)
    except (TypeError, ValueError):
        # A value JSON can't carry is the candidate's error, not the harness's.
        raise TypeError(
            f"the function returned a {type(result).__name__}, which JSON can't carry; "
            "return lists, dicts, strings, numbers, booleans or None"
        ) from None
    return result


def main():
    out = _capture_file("/tmp/.stdout")
    err = _capture_file("/tmp/.stderr")
    _send({"t": "ready"})
    job = _decode(_read_exact(int.from_bytes(_read_exact(4), "big")).decode("utf-8"))
    limit = job["max_output"]
    _dup2(out, 1)
    _dup2(err, 2)
    try:
        code = compile(job["code"], "solution.py", "exec")
    except _BaseException as exc:
        _send({"t": "compile_error", "message": _traceback(exc)})
        _exit(0)
    for test in job["tests"]:
        _send({"t": "start", "i": test["i"]})
        _ftruncate(out, 0)
        _ftruncate(err, 0)
        _lseek(out, 0, 0)
        _lseek(err, 0, 0)
        _sys.stdout = open(1, "w", closefd=False)
        _sys.stderr = open(2, "w", closefd=False)
        frame = {"t": "done", "i": test["i"], "ok": True, "value": None}
        started = _perf()
        try:
            frame["value"] = _run_test(code, job, test)
        except _MemoryError:
            frame.update(ok=False, kind="memory", error="MemoryError: the memory limit was reached")
        except _BaseException as exc:
            frame.update(ok=False, kind="error", error=_traceback(exc))
        frame["ms"] = (_perf() - started) * 1000
        for stream in (_sys.stdout, _sys.stderr):
            try:
                stream.flush()
            except _BaseException:
                pass
        frame["stdout"], frame["stdout_truncated"] = _drain(out, limit)
        frame["stderr"], frame["stderr_truncated"] = _drain(err, limit)
        if job["mode"] == "stdin" and frame["ok"]:
            frame["value"] = frame["stdout"]
        try:
            _send(frame)
        except _BaseException as exc:
            frame.update(ok=False, kind="error", value=None, error=f"could not report the result: {exc}")
            _send(frame)
    _send({"t": "end"})
    _exit(0)


main()
