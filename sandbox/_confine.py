"""Confining a worker process once it has imported everything it will ever need.

Order: resource limits, then dropping root (if we are root), then a seccomp filter. The filter is
a deny-list built with libseccomp through the ``pyseccomp`` ctypes binding: every listed system
call fails with EPERM (a clean OSError in Python, never a dead worker), everything else is
allowed, calls from a foreign architecture kill the process, and no-new-privileges is set.
Without libseccomp or pyseccomp the worker still runs, with the rlimits only, and says so.
"""

from __future__ import annotations

import errno
import mmap
import os
import resource
import sys
import termios
from dataclasses import dataclass
from typing import Any

# What the filter denies, by purpose. User code cannot make system calls at all; this is what
# stands if an interpreter bug ever let it, and it also stops trusted code from reaching out.
DENIED_SYSCALLS: dict[str, tuple[str, ...]] = {
    "process creation and program execution": (
        "fork", "vfork", "clone", "clone3", "execve", "execveat"),
    "network": ("socket", "socketpair", "connect", "bind", "listen", "accept", "accept4"),
    # all opens, reads included: after the warm-up a worker needs no file, and nothing outside the
    # sandbox should be read, not only not written
    "opening, creating and changing files": (
        "open", "openat", "openat2", "creat", "open_by_handle_at", "name_to_handle_at", "truncate",
        "ftruncate", "rename", "renameat", "renameat2", "unlink", "unlinkat", "mkdir", "mkdirat", "rmdir",
        "link", "linkat", "symlink", "symlinkat", "chmod", "fchmod", "fchmodat", "chown", "fchown",
        "lchown", "fchownat", "mknod", "mknodat", "utime", "utimes", "futimesat", "utimensat",
        "setxattr", "lsetxattr", "fsetxattr", "removexattr", "lremovexattr", "fremovexattr",
        "memfd_create", "chroot", "pivot_root", "mount", "umount2", "swapon", "swapoff"),
    "other processes": (
        "ptrace", "process_vm_readv", "process_vm_writev", "kill", "tkill", "pidfd_open",
        "pidfd_send_signal", "pidfd_getfd", "kcmp"),
    "system state": (
        "reboot", "kexec_load", "kexec_file_load", "init_module", "finit_module", "delete_module",
        "sethostname", "setdomainname", "settimeofday", "clock_settime", "clock_adjtime", "adjtimex",
        "acct", "quotactl", "syslog", "ioperm", "iopl", "personality", "unshare", "setns"),
    "kernel attack surface": (
        "bpf", "perf_event_open", "userfaultfd", "keyctl", "add_key", "request_key", "io_uring_setup",
        "io_uring_enter", "io_uring_register", "fanotify_init", "lookup_dcookie"),
}
# Denied only with certain arguments:
#   mmap/mprotect/pkey_mprotect with PROT_EXEC (no new executable memory: nothing here JITs),
#   ioctl TIOCSTI (would push keystrokes into the terminal the worker's stderr may share),
#   prlimit64 on another process.
CONDITIONAL_RULES = ("mmap+PROT_EXEC", "mprotect+PROT_EXEC", "pkey_mprotect+PROT_EXEC", "ioctl TIOCSTI",
                     "prlimit64 pid!=0")

NOBODY = 65534
MAX_OPEN_FILES = 16


@dataclass(frozen=True, slots=True)
class ConfineReport:
    seccomp: bool
    detail: str
    privileges_dropped: bool


def confine(memory_soft: int, memory_hard: int) -> ConfineReport:
    """Apply rlimits, drop root, load the seccomp filter (in that order)."""
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))  # a SIGXCPU death must not write a core file
    resource.setrlimit(resource.RLIMIT_AS, (memory_soft, memory_hard))
    resource.setrlimit(resource.RLIMIT_NOFILE, (MAX_OPEN_FILES, MAX_OPEN_FILES))
    # imported while we may still read the interpreter's files (root's home may be closed to nobody)
    binding = _import_seccomp()
    dropped = _drop_root()
    if hasattr(resource, "RLIMIT_NPROC"):
        # no fork even without seccomp (ignored for root, hence after dropping it)
        resource.setrlimit(resource.RLIMIT_NPROC, (0, 0))
    seccomp, detail = _load_seccomp(binding) if not isinstance(binding, str) else (False, binding)
    return ConfineReport(seccomp, detail, dropped)


def _drop_root() -> bool:
    if os.geteuid() != 0:
        return False
    try:
        os.setgroups([])
        os.setgid(NOBODY)
        os.setuid(NOBODY)
    except OSError:
        # a container may run us as a root without CAP_SETUID; seccomp and rlimits still apply
        return False
    return True


def _import_seccomp() -> Any:
    """The pyseccomp module, or why there is none."""
    if not sys.platform.startswith("linux"):
        return f"seccomp is Linux-only (platform {sys.platform})"
    try:
        import pyseccomp  # type: ignore[import-untyped,import-not-found,unused-ignore]
    except (ImportError, RuntimeError, OSError) as exc:  # RuntimeError: libseccomp not found
        return f"pyseccomp/libseccomp unavailable: {exc}"
    return pyseccomp


def _load_seccomp(sc: Any) -> tuple[bool, str]:
    try:
        syscall_filter, skipped = _build_filter(sc)
        syscall_filter.load()
    except OSError as exc:
        return False, f"loading the seccomp filter failed: {exc}"
    detail = "libseccomp via pyseccomp"
    if skipped:
        detail += f" (not on this architecture: {', '.join(skipped)})"
    return True, detail


def _build_filter(sc: Any) -> tuple[Any, list[str]]:
    deny = sc.ERRNO(errno.EPERM)
    syscall_filter = sc.SyscallFilter(sc.ALLOW)
    syscall_filter.set_attr(sc.Attr.ACT_BADARCH, sc.KILL_PROCESS)
    syscall_filter.set_attr(sc.Attr.CTL_NNP, 1)
    skipped: list[str] = []

    def rule(name: str, *args: Any) -> None:
        number = sc.resolve_syscall(sc.Arch.NATIVE, name)
        if number < 0:  # e.g. `open` does not exist on aarch64
            skipped.append(name)
            return
        syscall_filter.add_rule(deny, number, *args)

    for names in DENIED_SYSCALLS.values():
        for name in names:
            rule(name)
    exec_flag = sc.Arg(2, sc.MASKED_EQ, mmap.PROT_EXEC, mmap.PROT_EXEC)
    for name in ("mmap", "mprotect", "pkey_mprotect"):
        rule(name, exec_flag)
    rule("ioctl", sc.Arg(1, sc.EQ, termios.TIOCSTI))
    rule("prlimit64", sc.Arg(0, sc.NE, 0))
    return syscall_filter, skipped
