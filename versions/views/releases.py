"""Vendor portal pages for the release controls (issue #16): re-release and scheduled publish.

Thin: each write is one versions.services call; a refused one shows the
service's message next to its field on the page's form.
"""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from core.errors import ApplicationError
from core.forms import add_application_error
from core.views import portal_view, posted
from versions import services
from versions.forms import RereleaseForm, SchedulePublishForm
from versions.models import State
from versions.selectors import version_get_for_user, version_rerelease_plan, version_vendor_actions
from versions.services.releases import publish_time_from_local


@portal_view
@require_http_methods(["GET", "POST"])
def version_rerelease(request: HttpRequest, pk: int) -> HttpResponse:
    """What the re-release would be (number, review or not), and the button that makes it."""
    version = version_get_for_user(user=request.user, pk=pk)
    if "rerelease" not in version_vendor_actions(version):
        messages.error(
            request,
            f"{version} is {version.get_state_display().lower()}: only an older, superseded version can be re-released.",
        )
        return redirect("portal:version-detail", pk=version.pk)
    form = RereleaseForm(posted(request))
    if request.method == "POST" and form.is_valid():
        try:
            copy = services.version_rerelease(
                version=version,
                actor=request.user,
                update_notes=form.cleaned_data["update_notes"],
                publish=form.cleaned_data["publish"],
            )
        except ApplicationError as exc:
            add_application_error(form, exc)
        else:
            done = {
                State.PUBLISHED: "is published without review (its content was reviewed before): the rollout starts",
                State.APPROVED: "is approved without review (its content was reviewed before): publish or schedule it",
            }.get(copy.state, "was submitted for review: its content or what sites must approve is new")
            messages.success(request, f"{copy}, a re-release of {version.number}, {done}.")
            return redirect("portal:version-detail", pk=copy.pk)
    return render(
        request,
        "portal/version_rerelease.html",
        {"version": version, "listing": version.listing, "form": form, "plan": version_rerelease_plan(version=version)},
    )


def _profile_time_zone(request: HttpRequest) -> str:
    profile = getattr(request.user, "profile", None)
    return getattr(profile, "time_zone", "") or "UTC"


@portal_view
@require_http_methods(["GET", "POST"])
def version_schedule(request: HttpRequest, pk: int) -> HttpResponse:
    """Schedule (or move) the publish of an approved version, in the vendor's time zone."""
    version = version_get_for_user(user=request.user, pk=pk)
    initial = {"time_zone": version.publish_time_zone or _profile_time_zone(request)}
    if version.publish_at is not None:
        from zoneinfo import ZoneInfo

        initial["publish_at"] = version.publish_at.astimezone(ZoneInfo(initial["time_zone"])).replace(tzinfo=None)
    form = SchedulePublishForm(posted(request), initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            at = publish_time_from_local(
                local=form.cleaned_data["publish_at"], time_zone=form.cleaned_data["time_zone"]
            )
            version = services.version_schedule_publish(
                version=version, actor=request.user, publish_at=at, time_zone=form.cleaned_data["time_zone"]
            )
        except ApplicationError as exc:
            add_application_error(form, exc)
        else:
            messages.success(
                request,
                f"{version} will be published on {form.cleaned_data['publish_at']:%Y-%m-%d at %H:%M} "
                f"({version.publish_time_zone}). You can change or cancel this until then.",
            )
            return redirect("portal:version-detail", pk=version.pk)
    return render(
        request, "portal/version_schedule.html", {"version": version, "listing": version.listing, "form": form}
    )


@portal_view
@require_POST
def version_unschedule(request: HttpRequest, pk: int) -> HttpResponse:
    version = version_get_for_user(user=request.user, pk=pk)
    try:
        version = services.version_unschedule_publish(version=version, actor=request.user)
    except ApplicationError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, f"The scheduled publish of {version} is canceled: it stays approved.")
    return redirect("portal:version-detail", pk=version.pk)
