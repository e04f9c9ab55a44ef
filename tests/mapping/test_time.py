"""Epoch-seconds conversions shared by destinations (mapping._time)."""

from __future__ import annotations

import math
from typing import Any

import pytest

from transformer.hooks import (
    UNDEFINED,
    epoch_ms,
    epoch_seconds,
    js_date_ms,
    parse_date,
    to_epoch_ms,
    to_iso,
    to_seconds,
)
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
    if value is not None:  # a conversion is not applied to an absent value
        assert CONVERSIONS["to_seconds"](value) == expected


@pytest.mark.parametrize(("value", "expected"), [
    (None, 0), (True, 1), ("2024-01-02T03:04:05.678Z", 1704164645678), (1.9, 1),
    ([2024], 1704067200000),
])
def test_js_date_ms(value: Any, expected: int) -> None:
    """new Date(value).getTime(): null is the epoch, a boolean 0 or 1 ms, an array its string."""
    assert js_date_ms(value) == expected


@pytest.mark.parametrize("value", [UNDEFINED, {}, "nope", float("inf"), 9e15])
def test_js_date_ms_is_nan_for_what_is_no_date(value: Any) -> None:
    """Undefined, objects, unparseable strings and out-of-range numbers are NaN."""
    assert math.isnan(js_date_ms(value))


@pytest.mark.parametrize(("text", "expected"), [
    ("2024", "2024-01-01T00:00:00.000Z"), ("2024-03", "2024-03-01T00:00:00.000Z"),
    ("2024-03-05T10:20", "2024-03-05T10:20:00.000Z"), ("2024-02-30", None), ("20240", None),
])
def test_parse_date_reads_ecmascript_date_forms(text: str, expected: str | None) -> None:
    """YYYY and YYYY-MM are dates too (their first day, UTC); impossible dates are not."""
    moment = parse_date(text)
    assert (to_iso(moment) if moment else None) == expected


@pytest.mark.parametrize("text", [
    "2019-10-14T09:03:17.562Z", "2019-10-14T09:03:17Z", "2020-02-29T23:59:59.999Z",
    "2019-02-29T00:00:00.000Z", "0000-01-01T00:00:00Z", "2024-12-31T24:00:00Z",
    "2019-10-14T09:03,17Z", "2019-10-14T09:03:17.5+2Z", "2019-10-14 09:03:17.562Z",
    "1969-12-31T23:59:59.999Z", "2019-10-14T09:03:17.562+02:00",
    "2019-10-14T09:03:17-08:45", "2019-10-14T09:03:17.562-00:00", "2019-10-14T09:03:17.562+24:00",
    "2019-10-14T09:03:17.562+05:60", "2019-10-14T09:03:17.5+2+05:30", "2019-10-14T09:03:17+5:300",
    "2019-10-14T09:03:17.562+\u0660\u0665:30", "2019-02-29T09:03:17+05:30",
])
def test_epoch_ms_fast_path_agrees_with_parse_date(text: str) -> None:
    """epoch_ms reads the canonical forms directly, and agrees with parse_date on every form."""
    moment = parse_date(text)
    assert epoch_ms(text) == (None if moment is None else to_epoch_ms(moment))


def _outcome(read: Any, text: str) -> Any:
    try:
        return read(text)
    except OverflowError:
        return OverflowError


@pytest.mark.parametrize("text", ["0001-01-01T00:00:00.000+05:00", "9999-12-31T23:59:59-05:00"])
def test_epoch_ms_leaves_datetime_edges_to_parse_date(text: str) -> None:
    """Where an offset leaves datetime's range, epoch_ms has parse_date's outcome, whatever it is."""
    def general(value: str) -> Any:
        moment = parse_date(value)
        return None if moment is None else to_epoch_ms(moment)

    assert _outcome(epoch_ms, text) == _outcome(general, text)
