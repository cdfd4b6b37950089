"""One sandboxed process: bubblewrap under rlimits, as an unprivileged user, talking frames.

The process gets three pipes: the job on its stdin, result frames on fd 3 (a private pipe
nothing else writes to), and its raw stdout/stderr, which are kept (capped) only for
diagnosing a crash. `kill()` ends the whole sandbox: bwrap runs with --die-with-parent in its
own PID namespace, so when it dies the kernel kills every process the code started."""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
from dataclasses import dataclass, field
from itertools import count
from typing import Any

import orjson

from viva.sandbox import cgroups, seccomp
from viva.sandbox.limits import Limits
from viva.sandbox.runtime import Runtime

MAX_FRAME_BYTES = 4 * 1024 * 1024
"""A result frame larger than this is refused (and its test fails as an error)."""
RAW_TAIL_BYTES = 64 * 1024
SANDBOX_UID = 1000
"""The uid the code sees inside its user namespace (mapped to the unprivileged host uid)."""
_uids = count()


class SandboxUnavailable(Exception):
    """The sandbox itself could not be created or broke its protocol (not the code's fault)."""


class ProtocolViolation(Exception):
    """What came over the result pipe was not a well-formed frame."""


@dataclass
class Host:
    """How this server starts sandboxes."""

    bwrap: str
    prlimit: str
    setpriv: str
    uid_base: int = 60000
    uid_count: int = 1000
    cgroup: cgroups.Controller | None = None
    as_root: bool = field(default_factory=lambda: os.geteuid() == 0)

    @classmethod
    def detect(cls, uid_base: int = 60000, use_cgroups: bool = True) -> Host:
        bwrap, prlimit, setpriv = shutil.which("bwrap"), shutil.which("prlimit"), shutil.which("setpriv")
        if not bwrap or not prlimit or not setpriv:
            raise SandboxUnavailable("bubblewrap or util-linux is not installed (run `make setup`)")
        return cls(
            bwrap=bwrap,
            prlimit=prlimit,
            setpriv=setpriv,
            uid_base=uid_base,
            cgroup=cgroups.Controller.detect() if use_cgroups else None,
        )

    def next_uid(self) -> int:
        # A uid of its own per sandbox: rlimits on processes count per uid, and no two
        # sandboxes can signal or ptrace each other even in theory.
        return self.uid_base + next(_uids) % self.uid_count


def bwrap_args(runtime: Runtime, limits: Limits, seccomp_fd: int, uid: int) -> list[str]:
    # fmt: off
    args = [
        "--unshare-all", "--unshare-user", "--disable-userns", "--cap-drop", "ALL",
        "--new-session", "--die-with-parent", "--clearenv",
        "--uid", str(uid), "--gid", str(uid), "--hostname", "sandbox",
        "--ro-bind", "/usr", "/usr",
        "--symlink", "usr/lib", "/lib", "--symlink", "usr/lib64", "/lib64", "--symlink", "usr/bin", "/bin",
        "--proc", "/proc", "--dev", "/dev",
        # bwrap's tmpfs has no size limit of its own.
        "--size", str(1 << 20), "--tmpfs", "/dev/shm",
        "--size", str(limits.tmpfs_mb << 20), "--perms", "0700", "--tmpfs", "/tmp",
        "--chdir", "/tmp",
        "--setenv", "HOME", "/tmp", "--setenv", "PATH", "/usr/bin:/bin", "--setenv", "LANG", "C.UTF-8",
    ]
    # fmt: on
    for mount in runtime.mounts:
        if mount.source is None:
            args += ["--tmpfs", mount.dest]
        else:
            args += ["--ro-bind", mount.source, mount.dest]
    # Last, once every mount point exists: the sandbox's own root and /dev become read-only, so
    # /tmp (bounded) is the only place to write and there is no unbounded tmpfs to fill.
    return [*args, "--remount-ro", "/", "--remount-ro", "/dev", "--seccomp", str(seccomp_fd)]


def rlimit_args(host: Host, limits: Limits, data_limit: bool) -> list[str]:
    args = [
        host.prlimit,
        f"--cpu={limits.cpu_seconds}",
        f"--nproc={limits.processes}",
        f"--nofile={limits.open_files}",
        f"--fsize={limits.file_size_mb << 20}",
        "--core=0",
    ]
    if data_limit:
        # Heap and anonymous mappings; Node can't start under an address-space limit, but V8's
        # reservations are not writable until used, so this one works for both runtimes.
        args.append(f"--data={(limits.memory_mb + 64) << 20}")
    return args + ["--"]


class Sandbox:
    """A started sandbox. Single use: one job, then it is killed."""

    def __init__(
        self,
        proc: asyncio.subprocess.Process,
        frames: asyncio.StreamReader,
        transport: asyncio.BaseTransport,
        group: cgroups.Group | None,
    ) -> None:
        self.proc = proc
        self._frames = frames
        self._transport = transport
        self.group = group
        self._stderr = bytearray()
        self._drain = asyncio.ensure_future(self._keep_stderr())

    @classmethod
    async def start(cls, host: Host, runtime: Runtime, extra_args: list[str], limits: Limits) -> Sandbox:
        result_r, result_w = os.pipe()
        loop = asyncio.get_running_loop()
        try:
            # The harness is told which fd is its private result pipe (the last argument).
            proc = await _spawn(
                host, runtime, [*extra_args, str(result_w)], limits, (result_w,), stdout=False
            )
        except BaseException:
            os.close(result_r)
            raise
        finally:
            os.close(result_w)
        reader = asyncio.StreamReader(limit=MAX_FRAME_BYTES + 16, loop=loop)
        transport, _ = await loop.connect_read_pipe(
            lambda: asyncio.StreamReaderProtocol(reader, loop=loop), os.fdopen(result_r, "rb", buffering=0)
        )
        group = host.cgroup.create(limits) if host.cgroup else None
        return cls(proc, reader, transport, group)

    async def _keep_stderr(self) -> None:
        assert self.proc.stderr is not None
        with contextlib.suppress(Exception):
            while chunk := await self.proc.stderr.read(65536):
                self._stderr += chunk
                del self._stderr[:-RAW_TAIL_BYTES]

    @property
    def raw_stderr(self) -> str:
        return self._stderr.decode("utf-8", "replace")

    async def frame(self, wait: float | None) -> dict[str, Any] | None:
        """The next result frame, None when the process closed the pipe (it died or exited).
        Raises TimeoutError after `wait` seconds, ProtocolViolation on a malformed frame."""
        async with asyncio.timeout(wait):
            try:
                head = await self._frames.readexactly(4)
            except asyncio.IncompleteReadError as exc:
                if exc.partial:
                    raise ProtocolViolation("a truncated frame header") from exc
                return None
            size = int.from_bytes(head, "big")
            if size > MAX_FRAME_BYTES:
                raise ProtocolViolation(f"a result of {size} bytes, over the {MAX_FRAME_BYTES} limit")
            try:
                body = await self._frames.readexactly(size)
            except asyncio.IncompleteReadError as exc:
                raise ProtocolViolation("a truncated frame") from exc
        try:
            value = orjson.loads(body)
        except orjson.JSONDecodeError as exc:
            raise ProtocolViolation("a frame that is not JSON") from exc
        if not isinstance(value, dict):
            raise ProtocolViolation("a frame that is not an object")
        return value

    async def send_job(self, job: dict[str, Any]) -> None:
        assert self.proc.stdin is not None
        body = orjson.dumps(job)
        self.proc.stdin.write(len(body).to_bytes(4, "big") + body)
        with contextlib.suppress(ConnectionError):
            await self.proc.stdin.drain()
            self.proc.stdin.close()

    def attach(self) -> None:
        """Move the started process tree into its cgroup (before any candidate code runs)."""
        if self.group is not None:
            self.group.add_tree(self.proc.pid)

    def oom_kills(self) -> int:
        """How many of this sandbox's processes the kernel killed for memory so far."""
        return self.group.oom_kills() if self.group else 0

    async def kill(self) -> int | None:
        """End the whole sandbox and wait for it; returns the exit status."""
        if self.proc.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                self.proc.kill()
        if self.proc.stdin is not None:
            self.proc.stdin.close()
        with contextlib.suppress(Exception):
            await asyncio.wait_for(self.proc.wait(), 5)
        self._transport.close()
        with contextlib.suppress(Exception):
            await asyncio.wait_for(self._drain, 1)
        if self.group is not None:
            self.group.remove()
        return self.proc.returncode


async def _spawn(
    host: Host, runtime: Runtime, args: list[str], limits: Limits, pass_fds: tuple[int, ...], *, stdout: bool
) -> asyncio.subprocess.Process:
    """Start `runtime` with `args` in a new sandbox, under rlimits, as the sandbox user."""
    filter_r, filter_w = os.pipe()
    os.write(filter_w, seccomp.program())  # a few hundred bytes: fits the pipe buffer
    os.close(filter_w)
    uid = host.next_uid() if host.as_root else None
    # As root, drop to an unprivileged uid before bwrap: as uid 0 the code would run as host root
    # inside the namespaces and the process rlimit would not apply. setpriv does it after exec:
    # asking subprocess for user= makes Python fork() the whole server (milliseconds of CPU for a
    # large process) instead of vfork().
    drop = (
        [host.setpriv, f"--reuid={uid}", f"--regid={uid}", "--clear-groups", "--"] if uid is not None else []
    )
    argv = [
        *drop,
        *rlimit_args(host, limits, data_limit=True),
        host.bwrap,
        *bwrap_args(runtime, limits, filter_r, SANDBOX_UID),
        *runtime.argv,
        *args,
    ]
    try:
        return await asyncio.create_subprocess_exec(
            *argv,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE if stdout else asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.PIPE,
            pass_fds=(filter_r, *pass_fds),
            env={},
        )
    except OSError as exc:
        raise SandboxUnavailable(f"could not start the sandbox: {exc}") from exc
    finally:
        os.close(filter_r)
