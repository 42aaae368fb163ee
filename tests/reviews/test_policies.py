"""The workspace's pure rules: working days and the SLA, claim expiry, the checklist, the side-by-side diff."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from reviews.policies import (
    checklist_missing,
    claim_expires_at,
    claim_is_active,
    is_late,
    side_by_side_diff,
    working_days_between,
)

FRIDAY_EVENING = datetime(2026, 11, 27, 18, 0, tzinfo=UTC)


def test_weekends_do_not_count_against_the_sla():
    monday_morning = FRIDAY_EVENING + timedelta(days=2, hours=15)  # Monday 09:00
    assert round(working_days_between(FRIDAY_EVENING, monday_morning), 3) == round(6 / 24 + 9 / 24, 3)
    assert working_days_between(monday_morning, FRIDAY_EVENING) == 0.0


def test_late_after_the_sla_in_working_days():
    eight_days_later = FRIDAY_EVENING + timedelta(days=8)  # 6 working days
    assert is_late(FRIDAY_EVENING, now=eight_days_later, sla_working_days=5)
    assert not is_late(FRIDAY_EVENING, now=FRIDAY_EVENING + timedelta(days=6), sla_working_days=5)
    assert not is_late(None, now=eight_days_later, sla_working_days=5)


def test_a_claim_lapses_after_the_expiry_without_activity():
    assert claim_expires_at(FRIDAY_EVENING, expiry_hours=48) == FRIDAY_EVENING + timedelta(hours=48)
    assert claim_is_active(FRIDAY_EVENING, now=FRIDAY_EVENING + timedelta(hours=47), expiry_hours=48)
    assert not claim_is_active(FRIDAY_EVENING, now=FRIDAY_EVENING + timedelta(hours=48), expiry_hours=48)
    assert not claim_is_active(None, now=FRIDAY_EVENING, expiry_hours=48)


def test_checklist_missing_names_what_is_not_ticked():
    required = [(1, "Scopes justified"), (2, "Privacy link")]
    assert checklist_missing(required, [1]) == ["Privacy link"]
    assert checklist_missing(required, [2, 1, 9]) == []


def test_side_by_side_diff_escapes_and_highlights():
    html = side_by_side_diff(
        {"name": "<script>alert(1)</script>", "scopes": ["read"]},
        {"name": "<script>alert(2)</script>", "scopes": ["read", "write"]},
        old_label="live <1.0>",
        new_label="new",
    )
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert "live &lt;1.0&gt;" in html
    assert 'class="diff_add"' in html or 'class="diff_chg"' in html
    assert side_by_side_diff({"a": 1}, {"a": 1}, old_label="x", new_label="y") == '<p class="diff-same">No changes.</p>'
