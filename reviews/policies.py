"""Pure rules of the reviewer workspace (no database): claims, the SLA, the checklist, the
side-by-side diff. Tested without a database; services and selectors both use them."""

from __future__ import annotations

import difflib
import json
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from marketplace.permissions import is_reviewer


def claim_expires_at(last_activity: datetime | None, *, expiry_hours: float) -> datetime | None:
    """When a reviewer's claim lapses: `expiry_hours` after the last activity on the version."""
    if last_activity is None:
        return None
    return last_activity + timedelta(hours=expiry_hours)


def claim_is_active(last_activity: datetime | None, *, now: datetime, expiry_hours: float) -> bool:
    expires = claim_expires_at(last_activity, expiry_hours=expiry_hours)
    return expires is not None and now < expires


def working_days_between(start: datetime, end: datetime) -> float:
    """Working days (Monday to Friday) elapsed from start to end, counting partial days.

    Weekends do not count against the SLA: a version submitted on Friday evening is not
    late on Monday morning.
    """
    if end <= start:
        return 0.0
    total = 0.0
    cursor = start
    while cursor < end:
        next_midnight = datetime.combine(cursor.date() + timedelta(days=1), datetime.min.time(), cursor.tzinfo)
        segment_end = min(end, next_midnight)
        if cursor.weekday() < 5:
            total += (segment_end - cursor).total_seconds() / 86400
        cursor = segment_end
    return total


def is_late(submitted_at: datetime | None, *, now: datetime, sla_working_days: int) -> bool:
    return submitted_at is not None and working_days_between(submitted_at, now) > sla_working_days


def checklist_missing(required: Iterable[tuple[int, str]], ticked_ids: Iterable[int]) -> list[str]:
    """The texts of the required items not ticked (empty: the checklist is complete)."""
    ticked = set(ticked_ids)
    return [text for pk, text in required if pk not in ticked]


def _lines(document: Any) -> list[str]:
    if document is None:
        return []
    return json.dumps(document, indent=2, sort_keys=True, ensure_ascii=False, default=str).splitlines()


def side_by_side_diff(old: Any, new: Any, *, old_label: str, new_label: str) -> SafeString:
    """An HTML table (difflib.HtmlDiff, which escapes every line) of two JSON documents.

    Only the changed lines and three lines around them are shown; an unchanged document says so.
    """
    old_lines, new_lines = _lines(old), _lines(new)
    if old_lines == new_lines:
        return mark_safe('<p class="diff-same">No changes.</p>')
    table = difflib.HtmlDiff(tabsize=2, wrapcolumn=60).make_table(
        old_lines, new_lines, fromdesc=escape(old_label), todesc=escape(new_label), context=True, numlines=3
    )
    return mark_safe(table)


def manifest_of(version: Any) -> dict[str, Any] | None:
    """What a version asks of customers, as one document (the manifest side of the diff)."""
    if version is None:
        return None
    return {
        "number": version.number,
        "channel": version.channel,
        "pricing": version.pricing,
        "api_version": version.api_version,
        "scopes": sorted(version.scopes or []),
        "compatibility": version.compatibility or [],
        "components": version.components or [],
        "breaking": version.breaking,
    }


LEAD_PERMISSION = "reviews.lead_reviews"


def is_review_lead(user: Any) -> bool:
    """A reviewer who may also assign work and see the metrics (the `Review leads` group)."""
    return is_reviewer(user) and user.has_perm(LEAD_PERMISSION)
