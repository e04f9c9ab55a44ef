"""The npm sha256 package's hashing and UTF-8 SHA-256 (mapping._hashing), shared by destinations."""

from __future__ import annotations

import hashlib
from typing import Any

import pytest

from transformer.hooks import UnexpectedError, sha256_binary, sha256_utf8
from transformer.mapping import CONVERSIONS


def test_ascii_hashes_as_utf8() -> None:
    """An ASCII string hashes as its UTF-8 bytes do."""
    assert sha256_binary("abc") == hashlib.sha256(b"abc").hexdigest()


def test_non_latin1_hashes_low_bytes_of_utf16_units() -> None:
    """A character beyond Latin-1 is hashed as the low byte of each of its UTF-16 units."""
    assert sha256_binary("é") == hashlib.sha256(b"\xe9").hexdigest()
    assert sha256_binary("ĀA") == hashlib.sha256(b"\x00A").hexdigest()
    assert sha256_binary("😀") == hashlib.sha256(bytes([0x3D, 0x00])).hexdigest()
    assert sha256_binary("é") != sha256_utf8("é")


def test_list_hashes_its_byte_values() -> None:
    """A list is a Buffer of its items modulo 256 (NaN as 0)."""
    assert sha256_binary([1, 257, "x"]) == hashlib.sha256(bytes([1, 1, 0])).hexdigest()


@pytest.mark.parametrize(("value", "fragment"), [
    (5, "Received type number (5)"),
    (True, "Received type boolean (true)"),
    ({"a": 1}, "Received an instance of Object"),
])
def test_other_values_fail_as_node_does(value: Any, fragment: str) -> None:
    """A number, boolean or object is Node's TypeError (an UnexpectedError)."""
    with pytest.raises(UnexpectedError, match=fragment.replace("(", r"\(").replace(")", r"\)")):
        sha256_binary(value)


def test_conversion_hashes_the_string_form() -> None:
    """The ``sha256_binary`` conversion hashes String(value), so numbers hash as their text."""
    assert CONVERSIONS["sha256_binary"](12) == sha256_binary("12")
    assert sha256_utf8(12) == hashlib.sha256(b"12").hexdigest()
