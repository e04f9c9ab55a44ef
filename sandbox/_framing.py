"""Length-prefixed frames over a pipe: a 4-byte little-endian length, then the payload."""

from __future__ import annotations

import os
import struct

_LENGTH = struct.Struct("<I")
MAX_FRAME = 2**32 - 1


def write_frame(fd: int, *parts: bytes) -> None:
    """Write one frame made of ``parts`` (gathered by writev, so the payload is not copied)."""
    size = sum(len(p) for p in parts)
    if size > MAX_FRAME:
        raise ValueError(f"frame of {size} bytes is too large")
    buffers: list[bytes | memoryview] = [_LENGTH.pack(size), *parts]
    while buffers:
        written = os.writev(fd, buffers)
        # a blocking pipe may still take a large frame in several pieces
        while buffers and written >= len(buffers[0]):
            written -= len(buffers[0])
            buffers.pop(0)
        if buffers and written:
            buffers[0] = memoryview(buffers[0])[written:]


def read_frame(fd: int, max_size: int = MAX_FRAME) -> bytearray:
    """Read one frame's payload; raises ``EOFError`` if the pipe closes first, ``ValueError`` if too large."""
    header = _read_exact(fd, _LENGTH.size)
    (size,) = _LENGTH.unpack(header)
    if size > max_size:
        raise ValueError(f"frame of {size} bytes exceeds {max_size}")
    return _read_exact(fd, size)


def _read_exact(fd: int, size: int) -> bytearray:
    buffer = bytearray(size)
    view = memoryview(buffer)
    got = 0
    while got < size:
        n = os.readv(fd, [view[got:]])
        if n == 0:
            raise EOFError("pipe closed")
        got += n
    return buffer
