"""Maintenance windows across time zones and clock changes (pure)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from core.errors import ApplicationError
from upgrades.windows import clean_windows, in_window, upgrade_due_at

FOUR_HOURS = timedelta(hours=4)
SUNDAY_NIGHT = [{"weekday": 6, "start": "01:00", "end": "04:00"}]


def utc(*args):
    return datetime(*args, tzinfo=UTC)


def test_no_windows_means_at_once():
    assert upgrade_due_at(utc(2026, 6, 7, 0, 0), [], "Europe/Berlin", FOUR_HOURS) == utc(2026, 6, 7, 0, 0)


def test_outside_a_window_is_at_once():
    moment = utc(2026, 6, 7, 3, 0)  # 05:00 in Berlin (CEST), after the window
    assert upgrade_due_at(moment, SUNDAY_NIGHT, "Europe/Berlin", FOUR_HOURS) == moment


def test_inside_a_window_waits_until_it_ends_in_the_sites_time_zone():
    # Sunday 02:00 in Berlin (CEST, UTC+2) is 00:00 UTC; the window ends 04:00 CEST = 02:00 UTC.
    assert upgrade_due_at(utc(2026, 6, 7, 0, 0), SUNDAY_NIGHT, "Europe/Berlin", FOUR_HOURS) == utc(2026, 6, 7, 2, 0)
    # The same UTC instant is Saturday evening in New York: not in the window.
    assert upgrade_due_at(utc(2026, 6, 7, 0, 0), SUNDAY_NIGHT, "America/New_York", FOUR_HOURS) == utc(2026, 6, 7, 0, 0)
    # Sunday 02:00 in Tokyo (UTC+9) is Saturday 17:00 UTC.
    assert upgrade_due_at(utc(2026, 6, 6, 17, 0), SUNDAY_NIGHT, "Asia/Tokyo", FOUR_HOURS) == utc(2026, 6, 6, 19, 0)


def test_spring_forward_shortens_the_window():
    # 29 March 2026: Berlin jumps from 02:00 CET to 03:00 CEST. 01:30 CET = 00:30 UTC;
    # the window ends at 04:00 CEST = 02:00 UTC: 1.5 real hours later, not 2.5.
    assert upgrade_due_at(utc(2026, 3, 29, 0, 30), SUNDAY_NIGHT, "Europe/Berlin", FOUR_HOURS) == utc(2026, 3, 29, 2, 0)


def test_spring_forward_window_ending_in_the_gap_ends_when_the_clock_jumps():
    window = [{"weekday": 6, "start": "01:00", "end": "02:30"}]  # 02:30 does not exist that night
    assert upgrade_due_at(utc(2026, 3, 29, 0, 30), window, "Europe/Berlin", FOUR_HOURS) == utc(2026, 3, 29, 1, 0)


def test_fall_back_lengthens_the_window():
    # 25 October 2026: Berlin goes from 03:00 CEST back to 02:00 CET. 01:30 CEST = 23:30 UTC (Sat);
    # the window ends 04:00 CET = 03:00 UTC: 3.5 real hours.
    assert upgrade_due_at(utc(2026, 10, 24, 23, 30), SUNDAY_NIGHT, "Europe/Berlin", FOUR_HOURS) == utc(
        2026, 10, 25, 3, 0
    )


def test_delay_is_capped():
    long_window = [{"weekday": 6, "start": "00:00", "end": "12:00"}]
    moment = utc(2026, 6, 7, 1, 0)
    assert upgrade_due_at(moment, long_window, "UTC", FOUR_HOURS) == moment + FOUR_HOURS


def test_window_across_midnight_and_back_to_back_windows():
    overnight = [{"weekday": 5, "start": "22:00", "end": "02:00"}]  # Saturday night into Sunday
    assert in_window(utc(2026, 6, 7, 1, 0), overnight, "UTC") == (utc(2026, 6, 6, 22, 0), utc(2026, 6, 7, 2, 0))
    chained = [{"weekday": 6, "start": "01:00", "end": "02:00"}, {"weekday": 6, "start": "02:00", "end": "03:00"}]
    assert upgrade_due_at(utc(2026, 6, 7, 1, 30), chained, "UTC", FOUR_HOURS) == utc(2026, 6, 7, 3, 0)


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ([{"weekday": 7, "start": "01:00", "end": "02:00"}], "weekday must be 0 (Monday) to 6 (Sunday)"),
        ([{"weekday": 1, "start": "1:00", "end": "02:00"}], "is not a time of day written HH:MM"),
        ([{"weekday": 1, "start": "02:00", "end": "02:00"}], "start and end are the same time"),
        ("sunday", "must be a list"),
    ],
)
def test_clean_windows_names_the_rule(raw, message):
    with pytest.raises(ApplicationError) as exc:
        clean_windows(raw)
    assert message in exc.value.message and exc.value.field == "maintenance_windows"


def test_windows_text_round_trip():
    from upgrades.windows import parse_windows_text, windows_as_text

    windows = parse_windows_text("Sunday 01:00-05:00\n\n  sat 22:00 - 2:00 ")
    assert windows == [
        {"weekday": 6, "start": "01:00", "end": "05:00"},
        {"weekday": 5, "start": "22:00", "end": "02:00"},
    ]
    assert windows_as_text(windows) == "Sunday 01:00-05:00\nSaturday 22:00-02:00"
    with pytest.raises(ApplicationError, match="Line 1 'Sundays at night'"):
        parse_windows_text("Sundays at night")
    with pytest.raises(ApplicationError, match="'Funday' is not a weekday"):
        parse_windows_text("Funday 01:00-02:00")
    with pytest.raises(ApplicationError, match="not a time of day"):
        parse_windows_text("Monday 25:00-26:00")
