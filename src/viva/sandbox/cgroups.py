"""Memory, process and CPU limits per sandbox through cgroups, where the host delegates them.

rlimits always apply; a cgroup adds what they can't express: memory of the whole process tree,
a hard cap on processes in the tree, and a share of the CPU. Both cgroup v2 (one unified
tree) and v1 (a tree per controller) are handled. Each sandbox gets a group of its own under
this server's group; after a crash, the group's OOM counter says whether memory killed it.
When no writable hierarchy is found, `detect()` returns None and rlimits carry on alone."""

from __future__ import annotations

import contextlib
import os
from dataclasses import dataclass
from itertools import count
from pathlib import Path

from viva.sandbox.limits import Limits

ROOT = Path("/sys/fs/cgroup")
CPU_PERIOD_US = 10_000
"""One core's worth per period. A short period: Node's start-up runs several threads at once,
and over the default 100 ms period a throttled burst stalls a run for tens of milliseconds."""
_names = count()


def _own_path(controller: str | None) -> str:
    for line in Path("/proc/self/cgroup").read_text().splitlines():
        _, names, path = line.split(":", 2)
        if (controller is None and names == "") or (controller and controller in names.split(",")):
            return path.lstrip("/")
    return ""


def _writable(path: Path) -> bool:
    try:
        probe = path / f"viva-probe-{os.getpid()}"
        probe.mkdir()
        probe.rmdir()
        return True
    except OSError:
        return False


@dataclass
class Group:
    dirs: dict[str, Path]  # controller ("unified", "memory", "pids", "cpu") → directory

    def add_tree(self, pid: int) -> None:
        pids = _tree(pid)
        for directory in dict.fromkeys(self.dirs.values()):
            for p in pids:
                with contextlib.suppress(OSError):  # a process that already exited
                    (directory / "cgroup.procs").write_text(str(p))

    def oom_kills(self) -> int:
        directory = self.dirs.get("unified") or self.dirs.get("memory")
        for name in ("memory.events", "memory.oom_control"):
            if directory is None:
                continue
            with contextlib.suppress(OSError, ValueError):
                for line in (directory / name).read_text().splitlines():
                    key, _, value = line.partition(" ")
                    if key == "oom_kill":
                        return int(value)
        return 0

    def remove(self) -> None:
        for directory in dict.fromkeys(self.dirs.values()):
            with contextlib.suppress(OSError):
                directory.rmdir()


def _tree(pid: int) -> list[int]:
    found, todo = [], [pid]
    while todo:
        p = todo.pop()
        found.append(p)
        with contextlib.suppress(OSError):
            for task in os.listdir(f"/proc/{p}/task"):
                children = Path(f"/proc/{p}/task/{task}/children").read_text().split()
                todo.extend(int(c) for c in children)
    return found


@dataclass
class Controller:
    parents: dict[str, Path]
    version: int

    @classmethod
    def detect(cls) -> Controller | None:
        unified = ROOT / "cgroup.controllers"
        if unified.exists():
            base = ROOT / _own_path(None)
            enabled = set((base / "cgroup.controllers").read_text().split()) if base.exists() else set()
            if {"memory", "pids"} <= enabled and _writable(base):
                parent = base / "viva-sandbox"
                parent.mkdir(exist_ok=True)
                with contextlib.suppress(OSError):
                    (parent / "cgroup.subtree_control").write_text("+memory +pids +cpu")
                return cls({"unified": parent}, 2)
            return None
        parents: dict[str, Path] = {}
        for controller in ("memory", "pids", "cpu"):
            base = ROOT / controller / _own_path(controller)
            if base.exists() and _writable(base):
                parent = base / "viva-sandbox"
                parent.mkdir(exist_ok=True)
                parents[controller] = parent
        return cls(parents, 1) if {"memory", "pids"} <= parents.keys() else None

    def create(self, limits: Limits) -> Group | None:
        name = f"sbx-{os.getpid()}-{next(_names)}"
        memory = (limits.memory_mb + 64) << 20
        try:
            if self.version == 2:
                d = self.parents["unified"] / name
                d.mkdir()
                (d / "memory.max").write_text(str(memory))
                with contextlib.suppress(OSError):
                    (d / "memory.swap.max").write_text("0")
                (d / "pids.max").write_text(str(limits.processes))
                with contextlib.suppress(OSError):
                    (d / "cpu.max").write_text(f"{CPU_PERIOD_US} {CPU_PERIOD_US}")
                return Group({"unified": d})
            dirs = {}
            for controller, parent in self.parents.items():
                d = parent / name
                d.mkdir()
                dirs[controller] = d
            (dirs["memory"] / "memory.limit_in_bytes").write_text(str(memory))
            with contextlib.suppress(OSError):
                (dirs["memory"] / "memory.memsw.limit_in_bytes").write_text(str(memory))
            (dirs["pids"] / "pids.max").write_text(str(limits.processes))
            if "cpu" in dirs:
                with contextlib.suppress(OSError):
                    (dirs["cpu"] / "cpu.cfs_period_us").write_text(str(CPU_PERIOD_US))
                    (dirs["cpu"] / "cpu.cfs_quota_us").write_text(str(CPU_PERIOD_US))
            return Group(dirs)
        except OSError:
            return None
