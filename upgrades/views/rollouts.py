"""The vendor's rollouts of a listing: progress, halt and resume."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from core.errors import ApplicationError
from marketplace.selectors import listing_get_for_user
from upgrades import selectors, services
from upgrades.views import signed_in_page


@signed_in_page
def listing_rollouts(request: HttpRequest, key: str) -> HttpResponse:
    listing = listing_get_for_user(user=request.user, key=key)
    return render(
        request,
        "upgrades/listing_rollouts.html",
        {"listing": listing, **selectors.listing_rollout_panel(listing=listing)},
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
