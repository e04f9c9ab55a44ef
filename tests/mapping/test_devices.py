"""isAppleFamily and its conversion (mapping._devices)."""

from __future__ import annotations

from typing import Any

import pytest

from transformer.hooks import is_apple_family
from transformer.mapping import CONVERSIONS


@pytest.mark.parametrize(("platform", "expected"), [
    ("ios", True), ("iOS", True), ("watchOS", True), ("ipados", True), ("tvos", True),
    ("android", False), ("macos", False), ("", False), (None, False), (1, False), (["ios"], False),
])
def test_is_apple_family(platform: Any, expected: bool) -> None:
    """Only a string naming an Apple platform, in any case, is of the Apple family."""
    assert is_apple_family(platform) is expected
    assert CONVERSIONS["apple_family"](platform) is (True if expected else None)
