"""The seccomp deny-list every sandbox runs under, compiled once to the BPF bwrap loads.

Namespaces already keep candidate code away from the network, the host's processes and
files; this filter closes the kernel interfaces that have a history of escapes or that no
test solution needs: tracing other processes, BPF, keyrings, io_uring, new namespaces,
mounting, module loading and the like. Denied calls fail with EPERM (ENOSYS where a
runtime probes and falls back: io_uring, clone3), so interpreters start normally."""

from __future__ import annotations

import errno
import socket
import tempfile
from functools import lru_cache

DENIED = (
    "ptrace",
    "process_vm_readv",
    "process_vm_writev",
    "kcmp",
    "pidfd_getfd",
    "bpf",
    "perf_event_open",
    "userfaultfd",
    "keyctl",
    "add_key",
    "request_key",
    "unshare",
    "setns",
    "mount",
    "umount2",
    "pivot_root",
    "chroot",
    "move_mount",
    "open_tree",
    "fsopen",
    "fsconfig",
    "fsmount",
    "fspick",
    "mount_setattr",
    "init_module",
    "finit_module",
    "delete_module",
    "kexec_load",
    "kexec_file_load",
    "reboot",
    "swapon",
    "swapoff",
    "acct",
    "quotactl",
    "syslog",
    "vhangup",
    "open_by_handle_at",
    "name_to_handle_at",
    "lookup_dcookie",
    "fanotify_init",
    "iopl",
    "ioperm",
    "uselib",
    "personality",
    "settimeofday",
    "clock_settime",
    "clock_adjtime",
    "adjtimex",
    "sethostname",
    "setdomainname",
)
PROBED = ("io_uring_setup", "io_uring_enter", "io_uring_register", "clone3")
"""Answered ENOSYS: glibc falls back from clone3 to clone, libuv from io_uring to threads."""
CLONE_NAMESPACE_FLAGS = (
    0x10000000 | 0x00020000 | 0x20000000 | 0x40000000 | 0x08000000 | 0x04000000 | 0x02000000
)
"""CLONE_NEWUSER | NEWNS | NEWPID | NEWNET | NEWIPC | NEWUTS | NEWCGROUP."""


@lru_cache(maxsize=1)
def program() -> bytes:
    """The compiled filter (raw BPF for `bwrap --seccomp FD`)."""
    import pyseccomp as sc  # type: ignore[import-untyped]  # ctypes over the system's libseccomp; loaded only where sandboxes run

    f = sc.SyscallFilter(defaction=sc.ALLOW)
    for name in DENIED:
        f.add_rule(sc.ERRNO(errno.EPERM), name)
    for name in PROBED:
        f.add_rule(sc.ERRNO(errno.ENOSYS), name)
    for bit in range(32):
        flag = 1 << bit
        if CLONE_NAMESPACE_FLAGS & flag:
            f.add_rule(sc.ERRNO(errno.EPERM), "clone", sc.Arg(0, sc.MASKED_EQ, flag, flag))
    # Only local (AF_UNIX) sockets: the sandbox has no network, and this says so early.
    f.add_rule(sc.ERRNO(errno.EACCES), "socket", sc.Arg(0, sc.NE, socket.AF_UNIX))
    with tempfile.TemporaryFile() as out:
        f.export_bpf(out)
        out.seek(0)
        return out.read()
