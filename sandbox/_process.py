"""Starting a worker process and talking to it (parent side).

Workers are started with ``subprocess`` (fork+exec), never by forking the parent: the parent is a
threaded gRPC server, and a fork of it would inherit locks held by other threads. The interpreter
runs isolated (``-I -S``: no environment variables, user site or .pth files) with an explicit
``sys.path`` and an empty environment, so nothing of the parent's configuration or secrets
reaches it.
"""

from __future__ import annotations

import contextlib
import fcntl
import importlib.util
import os
import select
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import orjson

from sandbox._errors import WorkerStartError
from sandbox._framing import read_frame, write_frame

_PACKAGE_DIR = Path(__file__).resolve().parent
_BOOTSTRAP = (
    "import sys, types\n"
    "import os\n"
    "sys.path[:0] = sys.argv[2].split(os.pathsep)\n"
    "package = types.ModuleType('sandbox')\n"
    "package.__path__ = [sys.argv[1]]\n"
    "sys.modules['sandbox'] = package\n"
    "from sandbox._worker import main\n"
    "main(sys.argv[3:])\n"
)
_PIPE_SIZE = 1 << 20


def _import_paths() -> list[str]:
    """Directories holding the third-party packages a worker imports (found, not imported, here)."""
    paths: list[str] = []
    for name in ("RestrictedPython", "orjson", "pyseccomp"):
        spec = importlib.util.find_spec(name)
        if spec is None or spec.origin is None:
            continue
        origin = Path(spec.origin)
        directory = str(origin.parent.parent if origin.name == "__init__.py" else origin.parent)
        if directory not in paths:
            paths.append(directory)
    return paths


@dataclass(frozen=True, slots=True)
class WorkerSettings:
    cache_size: int
    memory_soft: int
    memory_hard: int
    start_timeout_s: float


@dataclass(frozen=True, slots=True)
class ReadyReport:
    """What a worker says about itself once confined."""

    pid: int
    seccomp: bool
    seccomp_detail: str
    privileges_dropped: bool


class WorkerProcess:
    """One running worker: its process, its two pipes, and how it ended."""

    def __init__(self, settings: WorkerSettings, progress_fd: int) -> None:
        request_read, self._request_fd = os.pipe()
        self._reply_fd, reply_write = os.pipe()
        for fd in (self._request_fd, self._reply_fd):
            _widen_pipe(fd)
        config = orjson.dumps({"cache_size": settings.cache_size, "memory_soft": settings.memory_soft,
                               "memory_hard": settings.memory_hard}).decode()
        argv = [sys.executable, "-I", "-S", "-X", "utf8", "-c", _BOOTSTRAP, str(_PACKAGE_DIR),
                os.pathsep.join(_import_paths()), str(request_read), str(reply_write),
                str(progress_fd), config]
        try:
            self._process = subprocess.Popen(
                argv, pass_fds=(request_read, reply_write, progress_fd), stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL, cwd="/", env={}, close_fds=True)
        except OSError as exc:
            os.close(self._request_fd)
            os.close(self._reply_fd)
            raise WorkerStartError(f"cannot start a sandbox worker: {exc}") from exc
        finally:
            os.close(request_read)
            os.close(reply_write)
        self._closed = False
        self._start_timeout_s = settings.start_timeout_s

    @property
    def pid(self) -> int:
        return self._process.pid

    def await_ready(self) -> ReadyReport:
        """Wait for the worker's ready message (sent once it is confined)."""
        timeout_s = self._start_timeout_s
        deadline = time.monotonic() + timeout_s
        poller = select.poll()
        poller.register(self._reply_fd, select.POLLIN)
        while not poller.poll(max(0, int((deadline - time.monotonic()) * 1000))):
            if time.monotonic() >= deadline:
                self.kill()
                raise WorkerStartError(f"sandbox worker did not start within {timeout_s} s")
        try:
            info = orjson.loads(read_frame(self._reply_fd))
        except (EOFError, OSError, orjson.JSONDecodeError) as exc:
            self.kill()
            raise WorkerStartError(f"sandbox worker failed to start (exit status {self.wait()})") from exc
        return ReadyReport(info["pid"], info["seccomp"], info["seccomp_detail"], info["privileges_dropped"])

    def exchange(self, payload: bytes, max_reply: int) -> bytearray | None:
        """Send one request and wait for its reply; ``None`` if the worker died meanwhile.

        A reply larger than ``max_reply`` (more than the limits allow a worker to send) means a
        broken worker: it is killed and treated as dead.
        """
        try:
            write_frame(self._request_fd, payload)
            return read_frame(self._reply_fd, max_reply)
        except (OSError, EOFError):
            return None
        except ValueError:
            self.kill()
            return None

    def kill(self) -> None:
        """SIGKILL the worker (safe to call at any time, from any thread)."""
        with contextlib.suppress(OSError):
            self._process.kill()

    def wait(self) -> int:
        """Reap the worker (killing it first); its return code (negative: the signal that ended it)."""
        if self._process.poll() is None:
            self.kill()
        returncode = self._process.wait()
        self._close_pipes()
        return returncode

    def stop(self, timeout_s: float) -> None:
        """Ask the worker to exit (EOF on its request pipe), then kill it if it does not."""
        self._close_pipes()
        try:
            self._process.wait(timeout_s)
        except subprocess.TimeoutExpired:
            self.kill()
            self._process.wait()

    def _close_pipes(self) -> None:
        if not self._closed:
            self._closed = True
            os.close(self._request_fd)
            os.close(self._reply_fd)


def _widen_pipe(fd: int) -> None:
    # fewer wake-ups per large batch; best effort (Linux only, capped by /proc/sys/fs/pipe-max-size)
    if hasattr(fcntl, "F_SETPIPE_SZ"):
        with contextlib.suppress(OSError):
            fcntl.fcntl(fd, fcntl.F_SETPIPE_SZ, _PIPE_SIZE)
