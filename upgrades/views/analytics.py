"""The vendor's analytics of a listing: installs, uninstalls and active installations per day,
versions in use, consent answers (upgrades.selectors.analytics), drawn as server-rendered SVG."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone

from core.views import portal_view
from marketplace.selectors import listing_get_for_user
from upgrades import charts
from upgrades.selectors.analytics import listing_analytics
from upgrades.views.rollouts import versions_over_time_chart


@portal_view
def listing_analytics_page(request: HttpRequest, key: str) -> HttpResponse:
    listing = listing_get_for_user(user=request.user, key=key)
    data = listing_analytics(listing=listing)
    daily = data["daily"]
    dates = [row["date"] for row in daily]
    installs_chart = charts.dated_chart(
        dates=dates,
        series=[
            charts.Series("Active installations", [r["active"] for r in daily], charts.PALETTE[0]),
            charts.Series("Installs", [r["installs"] for r in daily], charts.PALETTE[1]),
            charts.Series("Uninstalls", [r["uninstalls"] for r in daily], charts.PALETTE[4]),
        ],
        title=f"Installs, uninstalls and active installations per day, last {data['days']} days",
        caption=f"Per day, {data['start']:%d %b %Y} to {data['end']:%d %b %Y}; "
        "active is the number installed at the end of the day.",
    )
    recent = [row for row in reversed(daily) if row["installs"] or row["uninstalls"]]
    return render(
        request,
        "upgrades/listing_analytics.html",
        {
            "listing": listing,
            **data,
            "installs_chart": installs_chart,
            "adoption_chart": versions_over_time_chart(listing=listing),
            "adoption": data["versions_in_use"],
            "recent_days": recent,
            "time_zone": timezone.get_current_timezone_name(),
        },
    )
