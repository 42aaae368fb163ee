"""Vendor portal pages for versions: the form, the version page and its actions.

Thin like the API: every write is one versions.services call; a refused one
leaves the form bound with the service's message next to the field, or (for the
buttons on the version page) comes back as an error message on that page.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from core.errors import ApplicationError
from core.forms import add_application_error
from core.views import paginate, portal_view, posted
from marketplace.scopes import normalise_scopes
from marketplace.selectors import listing_get_for_user, scope_descriptions
from versions import services
from versions.forms import DuplicateForm, ShareForm, TransitionCommentForm, VersionForm
from versions.models import EDIT_RETURNS_TO_DRAFT, SUBMITTED_STATES, Version
from versions.schemes import BUNDLE, DEFAULT_CHANNEL, OCP, channel_for, validate_number
from versions.selectors import (
    last_published,
    review_comments,
    scopes_missing_requirements,
    version_component_changes,
    version_consent_preview,
    version_get_for_user,
    version_history,
    version_number_check,
    version_test_sites,
    version_vendor_actions,
)
from versions.services.bundles import bundle_share


def _form_context(form: VersionForm, *, listing: Any, version: Version | None) -> dict[str, Any]:
    preview = None
    if form.is_bound:
        scopes, pricing, number, requested_channel = form.proposed_snapshot()
        channel = _channel_of(listing, number, requested_channel)
    elif version is not None:
        scopes, pricing, number, channel = version.scopes, version.pricing, version.number, version.channel
    elif form.carried_from is not None:
        live = form.carried_from
        scopes, pricing, number, channel = live.scopes, live.pricing, "", live.channel
    else:
        scopes, pricing, number, channel = [], listing.pricing, "", "release"
    if channel is not None:
        try:
            preview = version_consent_preview(
                listing=listing, channel=channel, scopes=scopes, pricing=pricing, number=number
            )
        except ApplicationError:
            preview = None  # a bad scope: the form already says so next to the field
    try:
        missing_scopes = scopes_missing_requirements(scopes)
        scopes_in_words = _scopes_in_words(scopes)
    except ApplicationError:
        missing_scopes = []  # a bad scope: the form already says so next to the field
        scopes_in_words = []
    number_check = None
    if number.strip():
        number_check = version_number_check(
            listing=listing, number=number, channel=channel, exclude_pk=version.pk if version else None
        )
    return {
        "form": form,
        "listing": listing,
        "version": version,
        "carried_from": form.carried_from,
        "preview": preview,
        "number_check": number_check,
        "missing_scopes": missing_scopes,
        "scopes_in_words": scopes_in_words,
        "returns_to_draft": version is not None and version.state in EDIT_RETURNS_TO_DRAFT,
    }


def _scopes_in_words(scopes: list[str]) -> list[dict[str, str]]:
    """What the version lets the app do, scope by scope, as customers read it on the consent page."""
    words = scope_descriptions(normalise_scopes(scopes))
    return [{"scope": scope, "words": text} for scope, text in words.items()]


def _channel_of(listing: Any, number: str, requested: str | None) -> str | None:
    """The channel a number would land in (None while the number is not valid)."""
    if listing.scheme != OCP:
        return (requested or "").strip() or "release"
    try:
        return channel_for(listing.scheme, validate_number(listing.scheme, (number or "").strip()))
    except ValueError:
        return None


def _with_added_scope(request: HttpRequest) -> Any:
    """The posted form data plus the scope the vendor's "Add ..." button names (nothing is saved)."""
    data = request.POST.copy()
    scope = data.get("add_scope", "").strip().lower()
    if scope and scope not in data.getlist("scopes"):
        data.appendlist("scopes", scope)
    return data


@portal_view
@require_http_methods(["GET", "POST"])
def version_create(request: HttpRequest, key: str) -> HttpResponse:
    listing = listing_get_for_user(user=request.user, key=key)
    if request.method == "POST" and "add_scope" in request.POST:
        # The missing-scope box's one-click "Add read:jira-work" without JavaScript: show the form again with it.
        form = VersionForm(_with_added_scope(request), listing=listing)
        return render(request, "portal/version_form.html", _form_context(form, listing=listing, version=None))
    # Prefilled from the live version of the release channel, and the page says so (templates/portal/version_form.html).
    live = last_published(listing, DEFAULT_CHANNEL) if request.method == "GET" else None
    form = VersionForm(posted(request), listing=listing, carried_from=live)
    if request.method == "POST" and form.is_valid():
        try:
            version = services.version_create(listing=listing, actor=request.user, **form.service_kwargs())
        except ApplicationError as exc:
            add_application_error(form, exc, field_map=form.SERVICE_FIELD_INPUTS)
        else:
            messages.success(request, f"Draft {version} created. Submit it for review when it is ready.")
            return redirect("portal:version-detail", pk=version.pk)
    return render(request, "portal/version_form.html", _form_context(form, listing=listing, version=None))


@portal_view
@require_http_methods(["GET", "POST"])
def version_edit(request: HttpRequest, pk: int) -> HttpResponse:
    version = version_get_for_user(user=request.user, pk=pk)
    if "edit" not in version_vendor_actions(version):
        state = version.get_state_display().lower()
        if version.state in SUBMITTED_STATES:
            messages.error(request, f"{version} is {state} and read-only: withdraw it to draft to edit it.")
        else:
            messages.error(request, f"{version} is {state} and can't be edited: duplicate it instead.")
        return redirect("portal:version-detail", pk=version.pk)
    if request.method == "POST" and "add_scope" in request.POST:
        form = VersionForm(_with_added_scope(request), listing=version.listing, version=version)
        context = _form_context(form, listing=version.listing, version=version)
        return render(request, "portal/version_form.html", context)
    form = VersionForm(posted(request), listing=version.listing, version=version)
    if request.method == "POST" and form.is_valid():
        state_before = version.state
        try:
            version = services.version_update(version=version, actor=request.user, **form.service_kwargs())
        except ApplicationError as exc:
            add_application_error(form, exc, field_map=form.SERVICE_FIELD_INPUTS)
        else:
            if state_before != version.state:
                messages.warning(request, f"{version} went back to draft: submit it again for review.")
            else:
                messages.success(request, f"{version} saved.")
            return redirect("portal:version-detail", pk=version.pk)
    return render(request, "portal/version_form.html", _form_context(form, listing=version.listing, version=version))


@portal_view
def version_detail(request: HttpRequest, pk: int) -> HttpResponse:
    version = version_get_for_user(user=request.user, pk=pk)
    listing = version.listing
    return render(
        request,
        "portal/version_detail.html",
        {
            "version": version,
            "listing": listing,
            "component_changes": version_component_changes(listing_id=listing.pk, versions=[version])[version.pk]
            if listing.scheme == BUNDLE
            else None,
            "actions": version_vendor_actions(version),
            "history": paginate(request, version_history(version=version)),
            # Kept in view after the vendor edits a rejected version back to draft: it is what they fix.
            "review_comments": review_comments(version=version),
            "preview": version_consent_preview(
                listing=listing,
                channel=version.channel,
                scopes=version.scopes,
                pricing=version.pricing,
                number=version.number,
            )
            if not version.is_frozen
            else None,
            "missing_scopes": scopes_missing_requirements(version.scopes) if not version.is_frozen else [],
            "returns_to_draft": version.state in EDIT_RETURNS_TO_DRAFT,
            "test_sites": version_test_sites(version=version),
            "comment_form": TransitionCommentForm(),
            "duplicate_form": DuplicateForm(),
        },
    )


def _transition_view(service: Callable[..., Version], done: str) -> Callable[[HttpRequest, int], HttpResponse]:
    @portal_view
    @require_POST
    def view(request: HttpRequest, pk: int) -> HttpResponse:
        version = version_get_for_user(user=request.user, pk=pk)
        form = TransitionCommentForm(request.POST)
        comment = form.cleaned_data["comment"] if form.is_valid() else ""
        try:
            version = service(version=version, actor=request.user, comment=comment)
        except ApplicationError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, f"{version} {done}.")
        return redirect("portal:version-detail", pk=version.pk)

    return view


version_submit = _transition_view(services.version_submit, "was submitted for review")
version_cancel = _transition_view(services.version_cancel, "was canceled")
version_withdraw = _transition_view(
    services.version_withdraw, "is back in draft: edit it, then submit it again for review"
)
version_publish = _transition_view(services.version_publish, "is published: the rollout to customer sites starts")


@portal_view
@require_POST
def version_duplicate(request: HttpRequest, pk: int) -> HttpResponse:
    version = version_get_for_user(user=request.user, pk=pk)
    form = DuplicateForm(request.POST)
    number = (form.cleaned_data["number"].strip() if form.is_valid() else "") or None
    try:
        copy = services.version_duplicate(version=version, actor=request.user, number=number)
    except ApplicationError as exc:
        messages.error(request, exc.message)
        return redirect("portal:version-detail", pk=version.pk)
    messages.success(request, f"Draft {copy} created from {version.number}: edit it and submit it.")
    return redirect("portal:version-edit", pk=copy.pk)


def _scopes_param(request: HttpRequest) -> list[str] | None:
    if "scopes" not in request.GET:
        return None
    return [s for raw in request.GET.getlist("scopes") for s in raw.replace(",", " ").split()]


def _version_pk_param(request: HttpRequest) -> int | None:
    raw = request.GET.get("version", "")
    return int(raw) if raw.isdigit() else None


@portal_view
@require_GET
def version_check_number(request: HttpRequest) -> JsonResponse:
    """The number rules of the server (versions.schemes.validate_number and the manual bump), live."""
    listing = listing_get_for_user(user=request.user, key=request.GET.get("listing", ""))
    version_pk = _version_pk_param(request)
    if version_pk is not None:
        version_get_for_user(user=request.user, pk=version_pk)  # 404 for another vendor's version
    result = version_number_check(
        listing=listing,
        number=request.GET.get("number", ""),
        scopes=_scopes_param(request),
        pricing=request.GET.get("pricing") or None,
        channel=request.GET.get("channel") or None,
        exclude_pk=version_pk,
        breaking=request.GET.get("breaking") in ("1", "true", "on"),
    )
    return JsonResponse(result)


@portal_view
@require_GET
def version_preview(request: HttpRequest) -> JsonResponse:
    """What customers of the live version would have to approve for these scopes and this price,
    and which required scopes the scopes lack (the form offers a one-click add for each)."""
    listing = listing_get_for_user(user=request.user, key=request.GET.get("listing", ""))
    scopes = _scopes_param(request) or []
    try:
        missing = [m.as_dict() for m in scopes_missing_requirements(scopes)]
    except ApplicationError as exc:
        return JsonResponse({"ok": False, "field": exc.field or "scopes", "summary": exc.message, "missing_scopes": []})
    channel = _channel_of(listing, request.GET.get("number", ""), request.GET.get("channel"))
    if channel is None:
        return JsonResponse(
            {"ok": False, "summary": "Enter a valid version number to see the preview.", "missing_scopes": missing}
        )
    preview = version_consent_preview(
        listing=listing,
        channel=channel,
        scopes=scopes,
        pricing=request.GET.get("pricing") or listing.pricing,
        number=request.GET.get("number", ""),
    )
    return JsonResponse(
        {
            "ok": True,
            "channel": channel,
            **preview.as_dict(),
            "missing_scopes": missing,
            "scopes_in_words": _scopes_in_words(scopes),
        }
    )


@portal_view
@require_http_methods(["GET", "POST"])
def bundle_share_view(request: HttpRequest, key: str) -> HttpResponse:
    """Bundle listings: share the app group; the portal makes MAJOR.(shares).0 and releases it."""
    listing = listing_get_for_user(user=request.user, key=key)
    live = services.last_published(listing, "release")
    initial = {"major": live.parsed_number.major if live else 1}
    if live is not None:
        initial["components"] = "\n".join(f"{c['name']}={c['version']}" for c in live.components)
    form = ShareForm(posted(request), initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            version, changes = bundle_share(listing=listing, actor=request.user, **form.service_kwargs())
        except ApplicationError as exc:
            add_application_error(form, exc)
        else:
            if not changes:
                messages.info(
                    request, f"Shared {version.number}: no component changed, so no customer site is offered it."
                )
            else:
                messages.success(request, f"Shared {version}: the rollout to customer sites starts.")
            return redirect("portal:version-detail", pk=version.pk)
    return render(request, "portal/bundle_share.html", {"form": form, "listing": listing, "live": live})
