"""Hashing the way the reference's npm packages hash (one implementation for every destination)."""

from __future__ import annotations

import hashlib
import math
from typing import Any

from transformer._errors import UnexpectedError

from ._js import to_number, to_string


def sha256_binary(value: Any) -> str:
    """The npm ``sha256`` package (Node build): a string is hashed as a "binary" Buffer, i.e. the
    low byte of each UTF-16 unit (so only Latin-1 hashes as its UTF-8 bytes would), a list as its
    byte values; anything else is the TypeError Node's Buffer raises (a 500 in the reference).

    Callers that hash ``String(value)`` (tiktok_ads' hashToSha256, pinterest_tag) pass
    ``to_string(value)``; the ``sha256_binary`` conversion does that."""
    if isinstance(value, str):
        try:
            data = value.encode("latin-1")  # the common case, and the same bytes
        except UnicodeEncodeError:
            data = value.encode("utf-16-le", "surrogatepass")[::2]
    elif isinstance(value, list):
        data = bytes(_uint8(item) for item in value)
    elif isinstance(value, int | float) and not isinstance(value, bool):
        raise UnexpectedError('The "string" argument must be of type string. Received type '
                              f"number ({to_string(value)})")
    else:
        received = f"type boolean ({to_string(value)})" if isinstance(value, bool) \
            else "an instance of Object"
        raise UnexpectedError(
            "The first argument must be of type string or an instance of Buffer, ArrayBuffer, or "
            f"Array or an Array-like Object. Received {received}")
    return hashlib.sha256(data).hexdigest()


def _uint8(item: Any) -> int:
    """A Buffer byte from an array item: ToNumber, then modulo 256 (NaN and infinities 0)."""
    number = to_number(item)
    if isinstance(number, float) and not math.isfinite(number):
        return 0
    return int(number) % 256


def sha256_utf8(value: Any) -> str:
    """Node's ``crypto`` / crypto-js SHA-256 of ``String(value)`` as UTF-8, hex digest."""
    return hashlib.sha256(to_string(value).encode("utf-8", "surrogatepass")).hexdigest()
