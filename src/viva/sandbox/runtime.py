"""Where each language's interpreter is, as the sandbox user can see it.

Interpreters run by absolute path (a version-manager shim on PATH costs tens of milliseconds
a start). The sandbox user is unprivileged, so it must be able to reach every file it runs:
when the server's CPython (or the esbuild binary) lives under a directory that user may not
enter, such as /root/.pyenv, the files are mirrored once, by hard link when possible, into
`runtime_dir`, which holds nothing else. Nothing of the server's own (its virtualenv, its
site-packages, the checkout) is ever bound into a sandbox."""

from __future__ import annotations

import hashlib
import os
import shutil
import stat
import sys
import sysconfig
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

_SKIP_STDLIB = {
    "site-packages",
    "test",
    "idlelib",
    "tkinter",
    "turtledemo",
    "ensurepip",
    "lib2to3",
    "__phello__",
}
ESBUILD = Path(__file__).parent / "_bin" / "esbuild"
"""Copied here by frontend/build.mjs from the pinned npm package at setup."""
ESBUILD_IN_SANDBOX = "/opt/esbuild"


class RuntimeMissing(Exception):
    """A language's interpreter is not installed on this host."""


@dataclass(frozen=True)
class Mount:
    source: str | None  # on the host; None: an empty private tmpfs hides `dest`
    dest: str  # inside the sandbox


@dataclass(frozen=True)
class Runtime:
    argv: tuple[str, ...]  # the interpreter, by its path inside the sandbox
    mounts: tuple[Mount, ...]


def _reachable(path: Path) -> bool:
    """Whether a user with no relation to the file's owner can read `path` (others' bits)."""
    try:
        for parent in list(path.parents)[::-1]:
            if not os.stat(parent).st_mode & stat.S_IXOTH:
                return False
        return bool(os.stat(path).st_mode & stat.S_IROTH)
    except OSError:
        return False


def _link_or_copy(src: str, dst: str) -> None:
    try:
        os.link(src, dst)
    except OSError:
        shutil.copy2(src, dst)


def _mirror(dest: Path, build: Callable[[Path], None]) -> Path:
    """Build a directory once with `build`, then make it readable by everyone, writable by none."""
    if dest.exists():
        return dest
    for parent in list(dest.parents)[::-1]:
        if parent.exists() and not os.stat(parent).st_mode & stat.S_IXOTH:
            raise RuntimeMissing(f"{parent} is closed to the sandbox user; set VIVA_SANDBOX_RUNTIME_DIR")
    dest.parent.mkdir(parents=True, exist_ok=True)
    os.chmod(dest.parent, 0o755)
    staging = dest.with_name(dest.name + f".tmp{os.getpid()}")
    shutil.rmtree(staging, ignore_errors=True)
    build(staging)
    for root, _dirs, files in os.walk(staging):
        os.chmod(root, 0o755)
        for name in files:
            p = os.path.join(root, name)
            if not os.path.islink(p):
                os.chmod(p, (os.stat(p).st_mode & 0o755) | 0o444)
    try:
        os.rename(staging, dest)  # atomic: a concurrent start sees all of it or none
    except OSError:
        shutil.rmtree(staging, ignore_errors=True)  # another process finished first
    return dest


def python(runtime_dir: Path) -> Runtime:
    """The server's own CPython, at its own prefix, without its virtualenv or site-packages."""
    prefix = Path(sys.base_prefix)
    version = f"python{sys.version_info.major}.{sys.version_info.minor}"
    binary = Path(os.path.realpath(sys.executable))
    if not binary.is_relative_to(prefix):
        binary = prefix / "bin" / version
    argv = (str(binary), "-I", "-S", "-B")
    site = prefix / "lib" / version / "site-packages"
    if prefix == Path("/usr"):
        return Runtime(argv, ())  # /usr is bound anyway; -S keeps dist-packages off sys.path
    if _reachable(binary):
        return Runtime(argv, (Mount(str(prefix), str(prefix)), Mount(None, str(site))))

    def build(root: Path) -> None:
        (root / "bin").mkdir(parents=True)
        _link_or_copy(str(binary), str(root / "bin" / binary.name))
        libdir = Path(sysconfig.get_config_var("LIBDIR") or prefix / "lib")
        (root / "lib").mkdir()
        for lib in libdir.glob("libpython*.so*"):
            _link_or_copy(str(lib), str(root / "lib" / lib.name))
        shutil.copytree(
            prefix / "lib" / version,
            root / "lib" / version,
            symlinks=True,
            copy_function=_link_or_copy,
            ignore=lambda _d, names: [n for n in names if n in _SKIP_STDLIB],
        )

    tag = f"python-{sys.version.split()[0]}-{hashlib.sha256(str(prefix).encode()).hexdigest()[:12]}"
    mirror = _mirror(runtime_dir / tag, build)
    return Runtime(argv, (Mount(str(mirror), str(prefix)),))


def node(runtime_dir: Path) -> Runtime:
    """Node.js, with the esbuild binary beside it when installed (the harness transpiles
    TypeScript with it inside the same sandbox)."""
    found = shutil.which("node")
    if not found:
        raise RuntimeMissing("Node.js is not installed on this server")
    binary = os.path.realpath(found)
    tools = esbuild(runtime_dir).mounts if ESBUILD.exists() else ()
    if not binary.startswith("/usr/"):
        return Runtime(("/opt/node/bin/node",), (Mount(binary, "/opt/node/bin/node"), *tools))
    return Runtime((binary,), tools)


def esbuild(runtime_dir: Path) -> Runtime:
    """The pinned esbuild binary that transpiles TypeScript."""
    if not ESBUILD.exists():
        raise RuntimeMissing("esbuild is not installed; run `make setup`")
    binary = ESBUILD.resolve()
    if not _reachable(binary):
        digest = hashlib.sha256(binary.read_bytes()).hexdigest()[:12]

        def build(root: Path) -> None:
            root.mkdir(parents=True)
            shutil.copy2(binary, root / "esbuild")

        binary = _mirror(runtime_dir / f"esbuild-{digest}", build) / "esbuild"
    return Runtime((ESBUILD_IN_SANDBOX,), (Mount(str(binary), ESBUILD_IN_SANDBOX),))
