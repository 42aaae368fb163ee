"""Maintenance windows: when an automatic upgrade may run (pure: no database).

A site declares weekly windows in its own time zone, e.g. every Sunday
01:00-05:00 Europe/Berlin: `{"weekday": 6, "start": "01:00", "end": "05:00"}`
(Monday is 0). A window whose end is not after its start runs past midnight.

The marketplace promises that an automatic upgrade that falls inside a window
waits for the window to end, but never more than a few hours
(settings.UPGRADE_MAINTENANCE_MAX_DELAY). Windows are wall-clock times, so the
real length of a window changes on the nights the clocks change: the
arithmetic is done on local dates and converted to UTC at the end, never by
adding hours to a UTC instant.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from core.errors import ApplicationError

_TIME_RE = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$")
WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


def _parse_time(value: object, where: str) -> time:
    match = _TIME_RE.match(str(value or ""))
    if not match:
        raise ApplicationError(
            f"{where}: {value!r} is not a time of day written HH:MM (00:00 to 23:59).", field="maintenance_windows"
        )
    return time(int(match.group(1)), int(match.group(2)))


def clean_windows(raw: object) -> list[dict[str, object]]:
    """Validate maintenance windows; raise ApplicationError naming the window and the rule."""
    if raw in (None, ""):
        return []
    if not isinstance(raw, list):
        raise ApplicationError(
            "Maintenance windows must be a list of {weekday, start, end}.", field="maintenance_windows"
        )
    cleaned = []
    for index, entry in enumerate(raw, start=1):
        where = f"window {index}"
        if not isinstance(entry, Mapping):
            raise ApplicationError(
                f"{where} must be an object with weekday, start and end.", field="maintenance_windows"
            )
        weekday = entry.get("weekday")
        if isinstance(weekday, bool) or not isinstance(weekday, int) or not 0 <= weekday <= 6:
            raise ApplicationError(f"{where}: weekday must be 0 (Monday) to 6 (Sunday).", field="maintenance_windows")
        start, end = _parse_time(entry.get("start"), where), _parse_time(entry.get("end"), where)
        if start == end:
            raise ApplicationError(f"{where}: start and end are the same time.", field="maintenance_windows")
        cleaned.append({"weekday": weekday, "start": start.strftime("%H:%M"), "end": end.strftime("%H:%M")})
    return cleaned


def zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def _local(day: date, at: time, tz: ZoneInfo) -> datetime:
    """A wall-clock time on a local date as a UTC instant.

    A time skipped by a spring-forward change (02:30 on that night in Berlin)
    resolves to the first instant after the gap, so a window ends no later
    than the clock says.
    """
    naive = datetime.combine(day, at)
    step = naive
    for _ in range(24 * 60):  # gaps are at most a few hours; walk to the first wall-clock time that exists
        as_utc = step.replace(tzinfo=tz).astimezone(UTC)
        if as_utc.astimezone(tz).replace(tzinfo=None) == step:
            break
        step += timedelta(minutes=1)
    return as_utc


def window_intervals(
    windows: Iterable[Mapping[str, object]], tz_name: str, around: datetime
) -> list[tuple[datetime, datetime]]:
    """The UTC intervals of the weekly windows that touch the days around `around`."""
    tz = zone(tz_name)
    local_day = around.astimezone(tz).date()
    intervals = []
    for offset in (-1, 0, 1):
        day = local_day + timedelta(days=offset)
        for w in windows:
            if day.weekday() != w["weekday"]:
                continue
            start_t, end_t = _parse_time(w["start"], "window"), _parse_time(w["end"], "window")
            end_day = day if end_t > start_t else day + timedelta(days=1)
            intervals.append((_local(day, start_t, tz), _local(end_day, end_t, tz)))
    return sorted(intervals)


def in_window(
    moment: datetime, windows: Iterable[Mapping[str, object]], tz_name: str
) -> tuple[datetime, datetime] | None:
    """The window `moment` falls in (start inclusive, end exclusive), if any."""
    for start, end in window_intervals(list(windows), tz_name, moment):
        if start <= moment < end:
            return start, end
    return None


def upgrade_due_at(
    moment: datetime, windows: Iterable[Mapping[str, object]], tz_name: str, max_delay: timedelta
) -> datetime:
    """When an automatic upgrade wanted at `moment` may run.

    Inside a window it waits until the window ends (following back-to-back
    windows), at most `max_delay` after `moment`.
    """
    windows = list(windows)
    if not windows:
        return moment
    due = moment
    limit = moment + max_delay
    for _ in range(8):  # adjoining windows: follow them, bounded
        hit = in_window(due, windows, tz_name)
        if hit is None:
            break
        due = hit[1]
        if due >= limit:
            return limit
    return min(due, limit)


def describe_windows(windows: Iterable[Mapping[str, object]], tz_name: str) -> list[str]:
    return [f"{WEEKDAYS[w['weekday']]} {w['start']}-{w['end']} ({tz_name})" for w in windows]


_LINE_RE = re.compile(r"^\s*([A-Za-z]+)\s+(\d{1,2}:\d{2})\s*-\s*(\d{1,2}:\d{2})\s*$")


def parse_windows_text(text: str) -> list[dict[str, object]]:
    """`Sunday 01:00-05:00`, one window a line (what the site page's form shows), to windows."""
    windows = []
    for number, line in enumerate((text or "").splitlines(), start=1):
        if not line.strip():
            continue
        match = _LINE_RE.match(line)
        if not match:
            raise ApplicationError(
                f"Line {number} {line.strip()!r}: write a weekday and a time range, for example 'Sunday 01:00-05:00'.",
                field="maintenance_windows",
            )
        day = match.group(1).lower()
        weekday = next((i for i, name in enumerate(WEEKDAYS) if name.lower().startswith(day) and len(day) >= 3), None)
        if weekday is None:
            raise ApplicationError(
                f"Line {number}: {match.group(1)!r} is not a weekday (Monday to Sunday).", field="maintenance_windows"
            )
        start, end = (t if len(t) == 5 else f"0{t}" for t in (match.group(2), match.group(3)))
        windows.append({"weekday": weekday, "start": start, "end": end})
    return clean_windows(windows)


def windows_as_text(windows: Iterable[Mapping[str, object]]) -> str:
    return "\n".join(f"{WEEKDAYS[w['weekday']]} {w['start']}-{w['end']}" for w in windows)
