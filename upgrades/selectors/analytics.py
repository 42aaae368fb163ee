"""Reads for the vendor's analytics: installs, uninstalls and active installations per day,
versions in use over time, consent answers.

Every daily number is derived from rows that exist already, with a fixed number of aggregate
queries whatever the number of installations or days: the audit rows of installs and uninstalls
(`installation.install`, `installation.uninstall`), applied upgrades (`Upgrade.applied_at`), and
upgrade requests. "Active on a day" is walked back from today's installations: today's count,
minus what each later day added, plus what it removed. So no daily snapshot table is needed,
and today's figure is always the true one.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime, time, timedelta
from typing import Any

from django.db.models import Count, OuterRef, Q, Subquery
from django.db.models.functions import TruncDate
from django.utils import timezone

from core.models import AuditEvent
from marketplace.models import Listing
from upgrades.models import Installation, InstallationState, RequestState, Upgrade, UpgradeRequest, UpgradeState
from upgrades.selectors.rollouts import listing_adoption
from versions.models import Version

WINDOW_DAYS = 90
INSTALL_ACTION = "installation.install"
UNINSTALL_ACTION = "installation.uninstall"


def _window(days: int, today: date | None) -> tuple[list[date], datetime]:
    today = today or timezone.localdate()
    first = today - timedelta(days=days - 1)
    start = datetime.combine(first, time.min, tzinfo=timezone.get_current_timezone())
    return [first + timedelta(days=i) for i in range(days)], start


def _installation_events(listing: Listing, start: datetime) -> Any:
    return (
        AuditEvent.objects.filter(
            object_type=Installation._meta.label_lower,
            object_id__in=Installation.objects.filter(listing=listing).values("pk"),
            action__in=(INSTALL_ACTION, UNINSTALL_ACTION),
            at__gte=start,
        )
        .annotate(day=TruncDate("at", tzinfo=timezone.get_current_timezone()))
        .order_by()
    )


def listing_daily_installs(*, listing: Listing, days: int = WINDOW_DAYS, today: date | None = None) -> list[dict]:
    """One row per day, oldest first: `installs`, `uninstalls` and `active` (installed at the day's end)."""
    dates, start = _window(days, today)
    per_day: dict[date, dict[str, int]] = defaultdict(lambda: {"installs": 0, "uninstalls": 0})
    for row in _installation_events(listing, start).values("day", "action").annotate(n=Count("pk")):
        key = "installs" if row["action"] == INSTALL_ACTION else "uninstalls"
        per_day[row["day"]][key] += row["n"]
    active = Installation.objects.filter(listing=listing).exclude(state=InstallationState.UNINSTALLED).count()
    rows = []
    for day in reversed(dates):
        counts = per_day.get(day, {"installs": 0, "uninstalls": 0})
        rows.append({"date": day, **counts, "active": max(active, 0)})
        active = active - counts["installs"] + counts["uninstalls"]
    rows.reverse()
    return rows


def listing_versions_over_time(
    *, listing: Listing, days: int = WINDOW_DAYS, today: date | None = None
) -> dict[str, Any]:
    """How many installations ran each version at the end of each day (installed, not uninstalled).

    Walked back from today: a day's applied upgrades moved installations from one version to
    another, its installs added the installed version (the audit row names it), its uninstalls
    removed the version the installation still carries. Returns `dates` and `versions`
    (number, one count per date), versions oldest first.
    """
    dates, start = _window(days, today)
    tz = timezone.get_current_timezone()
    delta: dict[date, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    upgrades = (
        Upgrade.objects.filter(installation__listing=listing, state=UpgradeState.APPLIED, applied_at__gte=start)
        .annotate(day=TruncDate("applied_at", tzinfo=tz))
        .order_by()
        .values("day", "from_version__number", "to_version__number")
        .annotate(n=Count("pk"))
    )
    for row in upgrades:
        delta[row["day"]][row["to_version__number"]] += row["n"]
        delta[row["day"]][row["from_version__number"]] -= row["n"]
    events = _installation_events(listing, start)
    for row in events.filter(action=INSTALL_ACTION).values("day", "details__version").annotate(n=Count("pk")):
        if row["details__version"]:
            delta[row["day"]][str(row["details__version"])] += row["n"]
    carried = Installation.objects.filter(pk=OuterRef("object_id")).values("version__number")[:1]
    uninstalls = (
        events.filter(action=UNINSTALL_ACTION).annotate(number=Subquery(carried)).values("day", "number")
    ).annotate(n=Count("pk"))
    for row in uninstalls:
        if row["number"]:
            delta[row["day"]][row["number"]] -= row["n"]
    now: dict[str, int] = defaultdict(int)
    for row in (
        Installation.objects.filter(listing=listing)
        .exclude(state=InstallationState.UNINSTALLED)
        .order_by()
        .values("version__number")
        .annotate(n=Count("pk"))
    ):
        now[row["version__number"]] = row["n"]
    history: dict[str, list[int]] = defaultdict(lambda: [0] * len(dates))
    counts = dict(now)
    for index in range(len(dates) - 1, -1, -1):
        for number, n in counts.items():
            history[number][index] = max(n, 0)
        for number, change in delta.get(dates[index], {}).items():
            counts[number] = counts.get(number, 0) - change
    order = {
        number: i
        for i, number in enumerate(
            Version.objects.filter(listing=listing, number__in=list(history)).values_list("number", flat=True)
        )
    }
    versions = [
        {"number": number, "counts": values}
        for number, values in sorted(history.items(), key=lambda item: (order.get(item[0], -1), item[0]))
        if any(values)
    ]
    return {"dates": dates, "versions": versions}


def listing_consent_rates(*, listing: Listing, days: int = WINDOW_DAYS, today: date | None = None) -> dict[str, Any]:
    """Upgrade requests asked in the window and how they were answered. The rates are of the
    answered ones (approved or rejected); expired and still-pending requests are counted beside."""
    _dates, start = _window(days, today)
    counts = UpgradeRequest.objects.filter(installation__listing=listing, created_at__gte=start).aggregate(
        requested=Count("pk"),
        approved=Count("pk", filter=Q(state=RequestState.APPROVED)),
        rejected=Count("pk", filter=Q(state=RequestState.REJECTED)),
        expired=Count("pk", filter=Q(state=RequestState.EXPIRED)),
        pending=Count("pk", filter=Q(state=RequestState.PENDING)),
    )
    answered = counts["approved"] + counts["rejected"]
    return {
        **counts,
        "answered": answered,
        "approval_rate": round(100 * counts["approved"] / answered, 1) if answered else None,
        "rejection_rate": round(100 * counts["rejected"] / answered, 1) if answered else None,
    }


def listing_analytics(*, listing: Listing, days: int = WINDOW_DAYS, today: date | None = None) -> dict[str, Any]:
    """Everything the analytics page and `GET /api/v1/listings/{key}/analytics` show."""
    daily = listing_daily_installs(listing=listing, days=days, today=today)
    return {
        "listing": listing,
        "days": days,
        "start": daily[0]["date"],
        "end": daily[-1]["date"],
        "daily": daily,
        "totals": {
            "installs": sum(r["installs"] for r in daily),
            "uninstalls": sum(r["uninstalls"] for r in daily),
            "active": daily[-1]["active"],
        },
        "versions_in_use": listing_adoption(listing=listing),
        "consent": listing_consent_rates(listing=listing, days=days, today=today),
    }
