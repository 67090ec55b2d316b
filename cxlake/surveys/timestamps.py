"""Timestamps and durations as survey tools print them -> ISO-8601 with offset and seconds.

Tools print local wall-clock time without a zone (问卷星 always, Qualtrics with the zone in its header),
so a zone is always supplied; a value that carries its own offset keeps it.
"""

from __future__ import annotations

import datetime as dt
import re
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from cxlake.surveys.table import UnreadableExport

_YMD = re.compile(
    r"^(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})(?:[ T](\d{1,2}):(\d{2})(?::(\d{2})(?:\.(\d{1,6})\d*)?)?)?"
    r"\s*(Z|[+-]\d{2}:?\d{2})?$"
)
_MDY = re.compile(r"^(\d{1,2})/(\d{1,2})/(\d{4})(?: (\d{1,2}):(\d{2})(?::(\d{2}))?\s*([AaPp][Mm])?)?$")
# 腾讯问卷's own CSV writes ``02-Sep-2020 07:44:08`` (the same file saved again by Excel: 2020/9/2 7:44)
_DMY_NAMED = re.compile(r"^(\d{1,2})-([A-Za-z]{3})-(\d{4})(?: (\d{1,2}):(\d{2})(?::(\d{2}))?)?$")
_MONTHS = {name: number for number, name in enumerate(
    ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"), start=1
)}  # fmt: skip
# English 问卷星 downloads write "125 seconds" / "2 min 5 sec"; longer unit names first in the pattern
_DURATION_PART = re.compile(
    r"(\d+(?:\.\d+)?)\s*(小时|时|分钟|分|秒|hours?|hrs?|minutes?|mins?|seconds?|secs?|h|m|s)?", re.IGNORECASE
)
_SECONDS_PER_UNIT = {
    "小时": 3600, "时": 3600, "h": 3600, "hour": 3600, "hours": 3600, "hr": 3600, "hrs": 3600,
    "分钟": 60, "分": 60, "m": 60, "minute": 60, "minutes": 60, "min": 60, "mins": 60,
    "秒": 1, "s": 1, "second": 1, "seconds": 1, "sec": 1, "secs": 1,
}  # fmt: skip


def zone_for(name: str | None, default: ZoneInfo) -> dt.tzinfo:
    """The zone a Qualtrics header names (``Asia/Shanghai``, ``Z``, ``UTC``), else ``default``."""
    if not name:
        return default
    if name.upper() in ("Z", "UTC", "GMT"):
        return dt.UTC
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise UnreadableExport(f"unknown time zone {name!r} in the header") from None


def parse_timestamp(text: str, zone: dt.tzinfo) -> dt.datetime | None:
    """A tool's timestamp as an aware datetime; None when blank or not a timestamp."""
    text = text.strip()
    if match := _YMD.match(text):
        year, month, day, hour, minute, second, fraction, offset = match.groups()
        micro = int((fraction or "0").ljust(6, "0"))
        parts = (int(year), int(month), int(day), int(hour or 0), int(minute or 0), int(second or 0), micro)
    elif match := _MDY.match(text):
        month, day, year, hour, minute, second, meridiem = match.groups()
        hour_24 = int(hour or 0)
        if meridiem:
            hour_24 = hour_24 % 12 + (12 if meridiem.lower() == "pm" else 0)
        parts = (int(year), int(month), int(day), hour_24, int(minute or 0), int(second or 0), 0)
        offset = None
    elif (match := _DMY_NAMED.match(text)) and match.group(2).lower() in _MONTHS:
        day, month_name, year, hour, minute, second = match.groups()
        month = _MONTHS[month_name.lower()]
        parts = (int(year), month, int(day), int(hour or 0), int(minute or 0), int(second or 0), 0)
        offset = None
    else:
        return None
    try:
        naive = dt.datetime(*parts)
    except ValueError:
        return None
    if offset is None:
        return naive.replace(tzinfo=zone)
    return naive.replace(tzinfo=dt.UTC if offset == "Z" else _fixed_offset(offset))


def _fixed_offset(offset: str) -> dt.timezone:
    digits = offset[1:].replace(":", "")
    delta = dt.timedelta(hours=int(digits[:2]), minutes=int(digits[2:]))
    return dt.timezone(-delta if offset[0] == "-" else delta)


def iso(moment: dt.datetime | None) -> str:
    """``2026-01-05T12:03:44+08:00``; empty for a missing value (pandas/CSV friendly)."""
    if moment is None:
        return ""
    return moment.isoformat(timespec="microseconds" if moment.microsecond else "seconds")


def parse_duration(text: str) -> float | None:
    """Seconds from ``125``, ``125秒``, ``2分5秒`` or ``1小时2分``; None when blank or not a duration."""
    text = text.strip()
    if not text:
        return None
    parts = _DURATION_PART.findall(text)
    if not parts or _DURATION_PART.sub("", text).strip():
        return None
    return float(sum(float(number) * _SECONDS_PER_UNIT[(unit or "s").lower()] for number, unit in parts))
