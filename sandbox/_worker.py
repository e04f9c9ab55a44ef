"""A worker process: warm up, confine itself, then serve requests from the parent until EOF.

Started by ``_process`` as ``python -I -S -c <bootstrap>``; the bootstrap registers the ``sandbox``
package without running its ``__init__`` (which pulls in the parent-side pool, threads and
asyncio: start-up time and attack surface a worker does not need).
"""

from __future__ import annotations

import contextlib
import gc
import importlib
import os
import signal
import sys

import orjson

from sandbox._confine import confine
from sandbox._framing import read_frame, write_frame
from sandbox._progress import ProgressWord
from sandbox._protocol import ExitCode
from sandbox._runtime import WorkerRuntime

# Codecs user code may plausibly ask for; importing them needs files, which are closed to us later.
_CODECS = ("idna", "utf_16", "utf_32", "latin_1", "ascii", "cp1252", "unicode_escape", "raw_unicode_escape",
           "utf_8_sig")


def main(argv: list[str]) -> None:
    """``argv``: request fd, reply fd, progress fd, JSON settings."""
    request_fd, reply_fd, progress_fd = (int(a) for a in argv[:3])
    settings = orjson.loads(argv[3])
    # Ctrl-C in a terminal reaches the whole process group; the parent decides when workers stop
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    progress = ProgressWord.attach(progress_fd)
    os.close(progress_fd)
    runtime = WorkerRuntime(settings["cache_size"], settings["memory_hard"])
    _warm_up()
    report = confine(settings["memory_soft"], settings["memory_hard"])
    # start-up objects live forever: keep them out of every future collection
    gc.freeze()
    write_frame(reply_fd, orjson.dumps({"pid": os.getpid(), "seccomp": report.seccomp,
                                        "seccomp_detail": report.detail,
                                        "privileges_dropped": report.privileges_dropped}))
    _serve(runtime, progress, request_fd, reply_fd)


def _serve(runtime: WorkerRuntime, progress: ProgressWord, request_fd: int, reply_fd: int) -> None:
    while True:
        try:
            frame = read_frame(request_fd)
        except EOFError:
            os._exit(ExitCode.DONE)
        try:
            parts, retire = runtime.handle(frame, progress)
        except MemoryError:
            # outside a user call's own accounting: the parent blames the call in progress
            os._exit(ExitCode.OUT_OF_MEMORY)
        del frame
        try:
            write_frame(reply_fd, *parts)
        except OSError:
            os._exit(ExitCode.DONE)
        if retire:
            os._exit(ExitCode.DONE)


def _warm_up() -> None:
    """Touch everything that loads lazily (modules, codecs, OpenSSL, time zone) while files are open to us."""
    import datetime
    import hashlib
    import hmac
    import time
    import uuid

    importlib.import_module("_strptime")  # datetime.strptime imports it on first use
    for codec in _CODECS:
        "x".encode(codec)
    time.localtime()
    time.strptime("2024-01-02", "%Y-%m-%d")
    datetime.datetime.strptime("2024-01-02", "%Y-%m-%d").astimezone()
    for name in sorted(hashlib.algorithms_available):
        with contextlib.suppress(ValueError, TypeError):  # unsupported here, or a shake
            hashlib.new(name, b"x").digest()
    hashlib.pbkdf2_hmac("sha256", b"x", b"y", 1)
    hmac.new(b"k", b"m", "sha256").hexdigest()
    uuid.uuid4()


if __name__ == "__main__":
    main(sys.argv[1:])
