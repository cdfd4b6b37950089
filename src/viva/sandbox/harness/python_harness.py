# Runs inside the sandbox as `python -I -S -c <this file> <result fd>`: reads one job from fd 0
# and runs the tests in a forked worker process, so candidate code never runs in the process
# that reports. For each test the worker executes the module afresh and hands back its outcome
# over a pipe of its own (as marshal data, which no Python-level override can alter); this
# process re-encodes it and writes the frame to the private result pipe, which the worker has
# closed before running any candidate code. When a worker dies mid-test, the next test gets a
# new one, forked from this pristine process. Expected outputs never reach the sandbox at all.
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
_MAX_VALUE = [2 * 1024 * 1024]  # the job's max_value: JSON bytes of a value that is judged at all
_nonce = [None]  # the job's, set before candidate code runs; every frame after ready carries it


def _send(frame):
    if _nonce[0] is not None:
        frame["n"] = _nonce[0]
    body = _encode(frame).encode("utf-8", "surrogatepass")
    data = len(body).to_bytes(4, "big") + body
    while data:
        data = data[_write(_RESULT_FD, data) :]


def _read_exact(fd, n):
    chunks = []
    while n:
        chunk = _read(fd, n)
        if not chunk:
            return None
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


def _worker(code, job, go, back):
    """In the forked worker: for each test index read from `go`, run it, send (kind, payload)."""
    _os.close(_RESULT_FD)
    read, send, dumps, exit_, open_, dup2, os_open, close = (
        _os.read,
        _os.write,
        _mdumps,
        _os._exit,
        open,
        _os.dup2,
        _os.open,
        _os.close,
    )
    tests = {t["i"]: t for t in job["tests"]}
    while True:
        raw = read(go, 4)
        if len(raw) < 4:
            exit_(0)
        test = tests[int.from_bytes(raw, "big")]
        try:
            if job["mode"] == "stdin":
                fd = os_open("/tmp/.stdin", _os.O_RDONLY)  # this test's input, written by the parent
                dup2(fd, 0)
                close(fd)
                _sys.stdin = open_(0, "r", closefd=False)
            ns = {
                "__name__": "__main__" if job["mode"] == "stdin" else "solution",
                "__builtins__": __builtins__,
            }
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
            data = dumps((test["i"], *outcome))
        except (ValueError, RecursionError):
            data = dumps(
                (
                    test["i"],
                    "error",
                    f"the function returned a {type(outcome[1]).__name__}, which JSON "
                    "can't carry; return lists, dicts, strings, numbers, booleans or None",
                )
            )
        data = len(data).to_bytes(4, "big") + data
        while data:
            data = data[send(back, data) :]


_INTERFERED = (False, "interfered", "The program interfered with the test harness")


def _too_large(size):
    return (
        False,
        "error",
        f"The function returned a value of about {size} bytes; "
        f"the limit is {_MAX_VALUE[0] >> 20} MiB of JSON",
    )


def _outcome(raw, index):
    """What the worker said about test `index`, checked: (ok, kind, value-or-message)."""
    try:
        said, kind, payload = _mloads(raw)
    except Exception:
        return _INTERFERED
    if said != index:
        return _INTERFERED
    if kind == "ok":
        try:
            text = _encode(payload)
            if len(text) > _MAX_VALUE[0]:  # characters: a lower bound of its bytes
                return _too_large(len(text.encode("utf-8", "surrogatepass")))
            return True, "ok", _decode(text)
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
    return _INTERFERED


class _Worker:
    def __init__(self, code, job):
        go_r, self.go = _os.pipe()
        self.back, back_w = _os.pipe()
        self.pid = _os.fork()
        if self.pid == 0:
            _os.close(self.go)
            _os.close(self.back)
            _worker(code, job, go_r, back_w)
        _os.close(go_r)
        _os.close(back_w)

    def run(self, index):
        """The worker's raw answer for test `index`, None when it died on the way, or its size
        (an int, unread) when it is too large to be a value worth judging."""
        try:
            _write(self.go, index.to_bytes(4, "big"))
        except OSError:
            return None
        head = _read_exact(self.back, 4)
        if head is None:
            return None
        size = int.from_bytes(head, "big")
        # marshal is about as compact as JSON for strings and larger for numbers: a worker's
        # answer over 4x the value limit can't be a value under it, and is never read.
        if size > 4 * _MAX_VALUE[0]:
            return size
        return _read_exact(self.back, size)

    def end(self):
        """Stop the worker; its wait status."""
        for fd in (self.go, self.back):
            try:
                _os.close(fd)
            except OSError:
                pass
        try:
            _os.kill(self.pid, 9)
        except OSError:
            pass
        return _os.waitpid(self.pid, 0)[1]


def main():
    out = _capture_file("/tmp/.stdout")
    err = _capture_file("/tmp/.stderr")
    _send({"t": "ready"})
    size = _read_exact(0, 4)
    job = _decode(_read_exact(0, int.from_bytes(size or b"\0\0\0\0", "big")).decode("utf-8"))
    _nonce[0] = job.pop("nonce")
    limit = job["max_output"]
    _MAX_VALUE[0] = job["max_value"]
    _os.dup2(out, 1)
    _os.dup2(err, 2)
    try:
        code = compile(job["code"], "solution.py", "exec")
    except BaseException as exc:
        _send({"t": "compile_error", "message": _traceback(exc)})
        _exit(0)
    worker = None
    for test in job["tests"]:
        for fd in (out, err):
            _os.ftruncate(fd, 0)
            _os.lseek(fd, 0, 0)
        if job["mode"] == "stdin":
            fd = _capture_file("/tmp/.stdin")
            data = test["input"].encode("utf-8")
            while data:
                data = data[_write(fd, data) :]
            _os.close(fd)
        if worker is None:
            worker = _Worker(code, job)
        _send({"t": "start", "i": test["i"]})
        raw = worker.run(test["i"])
        if raw is None:  # the worker died during the test
            status = worker.end()
            worker = None
            ok, kind = False, "crash"
            payload = (
                f"The program crashed (signal {_os.WTERMSIG(status)})"
                if _os.WIFSIGNALED(status)
                else f"The program exited during the test (status {_os.WEXITSTATUS(status)})"
            )
        else:
            ok, kind, payload = _too_large(raw) if isinstance(raw, int) else _outcome(raw, test["i"])
            if kind == "interfered" or isinstance(raw, int):  # what is left in its pipe: a new worker
                worker.end()
                worker = None
                kind = "error"
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
