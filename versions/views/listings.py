"""The vendor portal's dashboard and listing pages (a listing with its versions).

Views are thin: they read through selectors, write through services, and turn
an ApplicationError into a message next to the form field (core.forms) or,
for another vendor's objects, into a 404 (core.views.portal_view).
"""

from __future__ import annotations

from urllib.parse import urlencode

from django.contrib import messages
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST

from core.errors import ApplicationError
from core.forms import add_application_error
from core.views import paginate, portal_view, posted
from marketplace import services
from marketplace.forms import ListingForm
from marketplace.models import VendorMembership
from marketplace.permissions import vendor_role
from marketplace.selectors import listing_get_for_user, listing_invitations_pending, vendors_of
from versions.schemes import BUNDLE
from versions.selectors import (
    listing_history,
    listings_with_live_versions,
    live_versions,
    recent_activity,
    version_component_changes,
    versions_of_listing,
    versions_waiting_for_vendor,
)

# --- dashboard ---------------------------------------------------------------------


@portal_view
def dashboard(request: HttpRequest) -> HttpResponse:
    show_archived = request.GET.get("archived") == "1"
    listings = paginate(request, listings_with_live_versions(user=request.user, include_archived=show_archived))
    waiting = paginate(request, versions_waiting_for_vendor(user=request.user), param="waiting_page", per_page=10)
    return render(
        request,
        "portal/dashboard.html",
        {
            "listings": listings,
            "waiting": waiting,
            "activity": recent_activity(user=request.user),
            "vendors": vendors_of(request.user),
            "show_archived": show_archived,
        },
    )


# --- listings --------------------------------------------------------------------------


def _store_uploads(listing, actor, uploads: dict) -> None:
    """The form's icon and screenshot, through the services that check them (one transaction
    with the listing's own save: a refused image saves nothing)."""
    if uploads.get("icon"):
        services.listing_set_icon(listing=listing, actor=actor, upload=uploads["icon"])
    if uploads.get("screenshot"):
        services.listing_add_screenshot(
            listing=listing, actor=actor, upload=uploads["screenshot"], caption=uploads.get("screenshot_caption") or ""
        )


@portal_view
@require_http_methods(["GET", "POST"])
def listing_create(request: HttpRequest) -> HttpResponse:
    form = ListingForm(posted(request), request.FILES or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        try:
            with transaction.atomic():
                listing = services.listing_create(
                    vendor=form.cleaned_data["vendor"], actor=request.user, **form.service_kwargs()
                )
                _store_uploads(listing, request.user, form.uploads())
        except ApplicationError as exc:
            add_application_error(form, exc)
        else:
            messages.success(request, f"Listing {listing.key} created. Add its first version next.")
            return redirect("portal:listing-detail", key=listing.key)
    return render(request, "portal/listing_form.html", {"form": form, "listing": None})


@portal_view
def listing_detail(request: HttpRequest, key: str) -> HttpResponse:
    listing = listing_get_for_user(user=request.user, key=key)
    versions = paginate(request, versions_of_listing(listing_id=listing.pk))
    if listing.scheme == BUNDLE:
        changes = version_component_changes(listing_id=listing.pk, versions=versions)
        for version in versions:
            version.component_changes = changes.get(version.pk, [])
    return render(
        request,
        "portal/listing_detail.html",
        {
            "listing": listing,
            "live_versions": live_versions(listing_id=listing.pk),
            "versions": versions,
            "is_owner": vendor_role(request.user, listing.vendor_id) == VendorMembership.Role.OWNER,
            "host_products": listing.host_products.all(),
            "allowed_sites": listing.allowed_sites.all(),
            "invitations": paginate(
                request, listing_invitations_pending(listing_id=listing.pk), param="invitations_page"
            ),
            "history": paginate(request, listing_history(listing_id=listing.pk), param="history_page"),
        },
    )


@portal_view
@require_http_methods(["GET", "POST"])
def listing_edit(request: HttpRequest, key: str) -> HttpResponse:
    listing = listing_get_for_user(user=request.user, key=key)
    form = ListingForm(posted(request), request.FILES or None, user=request.user, listing=listing)
    if request.method == "POST" and form.is_valid():
        try:
            with transaction.atomic():
                services.listing_update(listing=listing, actor=request.user, **form.service_kwargs())
                _store_uploads(listing, request.user, form.uploads())
        except ApplicationError as exc:
            add_application_error(form, exc)
        else:
            messages.success(request, f"Listing {listing.key} saved.")
            return redirect("portal:listing-detail", key=listing.key)
    return render(
        request,
        "portal/listing_form.html",
        {"form": form, "listing": listing, "screenshots": listing.screenshots.order_by("position", "pk")},
    )


@portal_view
@require_POST
def listing_screenshot_change(request: HttpRequest, key: str) -> HttpResponse:
    """The edit page's buttons beside each screenshot: move it up or down, or remove it."""
    listing = listing_get_for_user(user=request.user, key=key)
    action = request.POST.get("action")
    shot = request.POST.get("screenshot")
    try:
        if action == "remove":
            services.listing_screenshot_remove(listing=listing, actor=request.user, screenshot_id=shot)
            messages.success(request, "Screenshot removed.")
        elif action in ("up", "down"):
            step = -1 if action == "up" else 1
            services.listing_screenshot_move(listing=listing, actor=request.user, screenshot_id=shot, step=step)
            messages.success(request, "Screenshot order saved.")
        else:
            raise ApplicationError("Screenshot: choose move up, move down or remove.", field="screenshot")
    except ApplicationError as exc:
        messages.error(request, exc.message)
    return redirect("portal:listing-edit", key=listing.key)


@portal_view
@require_POST
def listing_archive(request: HttpRequest, key: str) -> HttpResponse:
    listing = listing_get_for_user(user=request.user, key=key)
    services.listing_archive(listing=listing, actor=request.user)
    messages.success(request, f"Listing {listing.key} archived: it takes no new versions until it is unarchived.")
    return redirect("portal:listing-detail", key=listing.key)


@portal_view
@require_POST
def listing_unarchive(request: HttpRequest, key: str) -> HttpResponse:
    listing = listing_get_for_user(user=request.user, key=key)
    services.listing_unarchive(listing=listing, actor=request.user)
    messages.success(request, f"Listing {listing.key} is active again.")
    return redirect("portal:listing-detail", key=listing.key)


@portal_view
@require_POST
def listing_invitation_create(request: HttpRequest, key: str) -> HttpResponse:
    """A private listing's invitation: the code and its link are shown once, to send to a customer."""
    listing = listing_get_for_user(user=request.user, key=key)
    try:
        _invitation, raw = services.listing_invitation_create(listing=listing, actor=request.user)
    except ApplicationError as exc:
        messages.error(request, exc.message)
        return redirect("portal:listing-detail", key=listing.key)
    link = request.build_absolute_uri(reverse("storefront:invitation") + "?" + urlencode({"code": raw}))
    return render(request, "portal/listing_invitation.html", {"listing": listing, "code": raw, "link": link})


@portal_view
@require_POST
def listing_invitation_revoke(request: HttpRequest, key: str, pk: int) -> HttpResponse:
    listing = listing_get_for_user(user=request.user, key=key)
    try:
        invitation = services.listing_invitation_revoke(listing=listing, actor=request.user, invitation_id=pk)
    except ApplicationError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, f"Invitation {invitation.prefix}… revoked: its code no longer opens {listing.name}.")
    return redirect("portal:listing-detail", key=listing.key)
