"""The vendor portal's release controls on a version's page (issue #16): publish in stages, yank, un-yank."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.views.decorators.http import require_POST

from core.errors import ApplicationError
from core.views import portal_view
from versions.selectors import version_get_for_user
from versions.services.stages import version_publish_in_stages
from versions.services.yanks import version_unyank, version_yank


def _int_or_none(raw: str | None, field: str) -> int | None:
    raw = (raw or "").strip()
    if not raw:
        return None
    if not raw.isdigit():
        raise ApplicationError(f"{field.replace('_', ' ').capitalize()} must be a whole number.", field=field)
    return int(raw)


def _error(request: HttpRequest, exc: ApplicationError) -> None:
    """The message on top of the page, and beside its field (the include reads the field from the tag)."""
    messages.error(request, exc.message, extra_tags=f"field-{exc.field}" if exc.field else "")


@portal_view
@require_POST
def version_publish_staged(request: HttpRequest, pk: int) -> HttpResponse:
    version = version_get_for_user(user=request.user, pk=pk)
    try:
        version = version_publish_in_stages(
            version=version,
            actor=request.user,
            stages=request.POST.get("stages", "").split(","),
            advance_every_hours=_int_or_none(request.POST.get("advance_every_hours"), "advance_every_hours"),
            halt_failure_percent=_int_or_none(request.POST.get("halt_failure_percent"), "halt_failure_percent"),
        )
    except ApplicationError as exc:
        _error(request, exc)
        return redirect("portal:version-detail", pk=version.pk)
    messages.success(request, f"{version} is published: its rollout goes in stages, starting with the first.")
    return redirect("upgrades:listing-rollouts", key=version.listing.key)


@portal_view
@require_POST
def version_yank_view(request: HttpRequest, pk: int) -> HttpResponse:
    version = version_get_for_user(user=request.user, pk=pk)
    try:
        version_yank(version=version, actor=request.user, reason=request.POST.get("reason", ""))
    except ApplicationError as exc:
        _error(request, exc)
    else:
        messages.success(request, f"{version} is yanked: nobody is offered it or can install it any more.")
    return redirect("portal:version-detail", pk=version.pk)


@portal_view
@require_POST
def version_unyank_view(request: HttpRequest, pk: int) -> HttpResponse:
    version = version_get_for_user(user=request.user, pk=pk)
    try:
        version_unyank(version=version, actor=request.user)
    except ApplicationError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, f"{version} is no longer yanked: it is offered again (its rollout stays halted).")
    return redirect("portal:version-detail", pk=version.pk)
