"""The vendor's rollouts of a listing: progress, halt and resume."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from core.errors import ApplicationError
from core.views import paginate
from marketplace.selectors import listing_get_for_user
from upgrades import charts, selectors, services
from upgrades.selectors.analytics import WINDOW_DAYS, listing_versions_over_time
from upgrades.views import signed_in_page


def versions_over_time_chart(*, listing: object) -> dict | None:
    """Installations per version over the last 90 days, as a stacked SVG chart (None when never installed)."""
    history = listing_versions_over_time(listing=listing)
    if not history["versions"]:
        return None
    series = [charts.Series(label=v["number"], values=v["counts"]) for v in history["versions"]]
    return charts.dated_chart(
        dates=history["dates"],
        series=series,
        title=f"Installations per version, last {WINDOW_DAYS} days",
        stacked=True,
        caption=f"Installations per version at the end of each day, last {WINDOW_DAYS} days "
        f"({history['dates'][0]:%d %b %Y} to {history['dates'][-1]:%d %b %Y}).",
    )


@signed_in_page
def listing_rollouts(request: HttpRequest, key: str) -> HttpResponse:
    listing = listing_get_for_user(user=request.user, key=key)
    page = paginate(request, selectors.rollout_list(listing=listing), per_page=10)
    return render(
        request,
        "upgrades/listing_rollouts.html",
        {
            "listing": listing,
            **selectors.listing_rollout_panel(listing=listing),
            # Every rollout, a page at a time (the listing page shows the latest two).
            "rollouts": selectors.rollouts_with_progress(page.object_list),
            "rollouts_page": page,
            "adoption_chart": versions_over_time_chart(listing=listing),
        },
    )


@signed_in_page
@require_POST
def rollout_control(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    rollout = selectors.rollout_get_for_user(user=request.user, pk=pk)
    try:
        if action == "halt":
            services.rollout_halt(rollout=rollout, actor=request.user)
            messages.success(request, f"The rollout of {rollout.version.number} is halted.")
        else:
            services.rollout_resume(rollout=rollout, actor=request.user)
            messages.success(request, f"The rollout of {rollout.version.number} is running again.")
    except ApplicationError as exc:
        messages.error(request, exc.message)
    next_url = request.POST.get("next", "")
    if next_url.startswith("/") and not next_url.startswith("//"):
        return redirect(next_url)
    return redirect("upgrades:listing-rollouts", key=rollout.listing.key)


@signed_in_page
@require_POST
def rollout_advance(request: HttpRequest, pk: int) -> HttpResponse:
    """Issue #16: the vendor's Advance of a staged rollout to its next stage."""
    rollout = selectors.rollout_get_for_user(user=request.user, pk=pk)
    try:
        rollout = services.rollout_stage_advance(rollout=rollout, actor=request.user)
    except ApplicationError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(
            request,
            f"The rollout of {rollout.version.number} is at stage {rollout.stage_index + 1} "
            f"({rollout.stage_percent} % of installations).",
        )
    return redirect("upgrades:listing-rollouts", key=rollout.listing.key)
