"""Epoch-seconds conversions shared by destinations (mapping._time)."""

from __future__ import annotations

from typing import Any

import pytest

from transformer.hooks import epoch_seconds, to_seconds
from transformer.mapping import CONVERSIONS


@pytest.mark.parametrize(("value", "expected"), [
    ("2024-01-02T03:04:05.678Z", 1704164645),
    (1704164645678, 1704164645),
    ("1970-01-01T00:00:00Z", 0),
    ("not a date", None),
    (None, None),
    (True, None),
])
def test_epoch_seconds(value: Any, expected: int | None) -> None:
    """Floor of the epoch milliseconds over 1000; None where JavaScript has NaN."""
    assert epoch_seconds(value) == expected
    assert CONVERSIONS["timestamp_s"](value) == expected


@pytest.mark.parametrize(("value", "expected"), [
    ("2024-01-02T03:04:05.678Z", 1704164645),
    ("1970-01-01T00:00:00Z", None),
    ("not a date", None),
    (None, None),
    (True, 0),
    (1500, 1),
])
def test_to_seconds_treats_the_epoch_as_missing(value: Any, expected: int | None) -> None:
    """The workflows' toSeconds: the epoch is falsy and so missing; a boolean is 0 or 1 ms."""
    assert to_seconds(value) == expected
