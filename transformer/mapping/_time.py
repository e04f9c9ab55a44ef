"""Dates the way the reference's ``new Date(value)`` reads them, and its output formats."""

from __future__ import annotations

import math
import re
from datetime import UTC, datetime, timedelta
from typing import Any

from ._js import UNDEFINED, to_string

_ISO = re.compile(
    r"^\s*(?P<y>[+-]?\d{4,6})(?:-(?P<mo>\d{2})(?:-(?P<d>\d{2}))?)?"
    r"(?:[T ](?P<h>\d{2}):(?P<mi>\d{2})(?::(?P<s>\d{2})(?:[.,](?P<f>\d+))?)?)?"
    r"\s*(?P<tz>Z|z|[+-]\d{2}:?\d{2})?\s*$"
)
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_EPOCH_ORDINAL = _EPOCH.toordinal()


def parse_date(value: Any) -> datetime | None:
    """A timezone-aware datetime for an ISO-8601 string (ECMAScript's date-time format: the date
    may be YYYY or YYYY-MM, which mean its first day) or epoch milliseconds, else None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        try:
            return _EPOCH + timedelta(milliseconds=int(value))
        except OverflowError:
            return None
    if not isinstance(value, str):
        return None
    match = _ISO.match(value)
    if not match:
        return None
    parts = match.groupdict()
    fraction = (parts["f"] or "0")[:3].ljust(3, "0")
    try:
        moment = datetime(
            int(parts["y"]), int(parts["mo"] or 1), int(parts["d"] or 1),
            int(parts["h"] or 0), int(parts["mi"] or 0), int(parts["s"] or 0),
            int(fraction) * 1000, tzinfo=UTC,
        )
    except ValueError:
        return None
    tz = parts["tz"]
    if tz and tz not in "Zz":
        sign = -1 if tz[0] == "-" else 1
        digits = tz[1:].replace(":", "")
        moment -= sign * timedelta(hours=int(digits[:2]), minutes=int(digits[2:]))
    return moment


def epoch_ms(value: Any) -> int | None:
    """``to_epoch_ms(parse_date(value))`` (None where that is None). The forms nearly every event
    timestamp has (toISOString's ``YYYY-MM-DDTHH:MM:SS[.sss]Z``, or the same with a ``+HH:MM``
    offset as SDKs send local time) are read by the C parser of ``datetime.fromisoformat``, which
    rejects what ``datetime`` rejects; anything else it refuses goes the general way."""
    if type(value) is str:
        size = len(value)
        if size == 20 or size == 24:
            offset = 0 if value[-1] == "Z" else None
            wall = value[:-1]
        elif (size == 25 or size == 29) and value[-6] in "+-" and value[-3] == ":":
            hours, minutes = value[-5:-3], value[-2:]
            offset = (int(hours) * 60 + int(minutes)) * 60_000 \
                if hours.isascii() and hours.isdigit() and minutes.isascii() \
                and minutes.isdigit() else None
            if offset is not None and value[-6] == "-":
                offset = -offset
            wall = value[:-6]
        else:
            offset = None
        if offset is not None and wall[10] == "T" and wall[13] == ":" and wall[16] == ":" \
                and (len(wall) == 19 or wall[19] == "."):
            millis = _wall_ms(wall)
            if millis is not None:
                return millis - offset
    moment = parse_date(value)
    return None if moment is None else to_epoch_ms(moment)


def _wall_ms(wall: str) -> int | None:
    """Epoch milliseconds of ``YYYY-MM-DDTHH:MM:SS[.sss]`` read as UTC; None when it is no such
    time (or names an offset of its own), or in the first or last year a datetime holds (there
    an offset can leave datetime's range, which the general way must answer)."""
    try:
        fast = datetime.fromisoformat(wall)
    except ValueError:
        return None
    if fast.tzinfo is not None or fast.year == 1 or fast.year == 9999:
        return None
    return (((fast.toordinal() - _EPOCH_ORDINAL) * 86400 + fast.hour * 3600 + fast.minute * 60
             + fast.second) * 1000 + fast.microsecond // 1000)


def to_epoch_ms(moment: datetime) -> int:
    return (moment - _EPOCH) // timedelta(milliseconds=1)


def js_date_ms(value: Any) -> float | int:
    """``new Date(value).getTime()``: epoch milliseconds, NaN when it is no date. Pass UNDEFINED
    for a missing value (NaN); null is the epoch and a boolean 0 or 1 ms, as in JavaScript; an
    array reads as its string form. Strings are read as ``parse_date`` reads them."""
    if type(value) is str:  # an event's timestamp, nearly always
        millis = epoch_ms(value)
        return math.nan if millis is None else millis
    if value is UNDEFINED or isinstance(value, dict):
        return math.nan
    if value is None or isinstance(value, bool):
        return int(value or 0)
    if isinstance(value, int | float):
        if not math.isfinite(value) or abs(value) > 8.64e15:
            return math.nan
        value = int(value)
    elif isinstance(value, list):
        value = to_string(value)
    millis = epoch_ms(value)
    return math.nan if millis is None else millis


def epoch_seconds(value: Any) -> int | None:
    """``Math.floor(new Date(value).getTime() / 1000)`` for what ``parse_date`` reads; None
    where JavaScript has NaN (sent as null)."""
    millis = epoch_ms(value)
    return None if millis is None else millis // 1000


def to_seconds(value: Any) -> int | None:
    """The CDK v2 workflows' ``toSeconds``: epoch seconds, but None (their undefined) for what is
    no date *and* for the epoch itself, because they test ``getTime()`` for truthiness. A boolean
    is a date there (``new Date(true)`` is 1 ms)."""
    if value is None:
        return None
    millis = epoch_ms(int(value) if isinstance(value, bool) else value)
    return millis // 1000 if millis else None


def to_iso(moment: datetime) -> str:
    """``Date.prototype.toISOString``: always UTC with milliseconds."""
    utc = moment.astimezone(UTC)
    return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}Z"


def ms_to_iso(ms: int) -> str:
    return to_iso(_EPOCH + timedelta(milliseconds=ms))
