"""Reads of callbacks and webhooks: a listing's endpoints and deliveries (the vendor's), an
installation's deliveries (its site admins' and the vendor's), one delivery with its attempts."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from core.errors import NotFound
from marketplace.models import Listing
from marketplace.permissions import is_vendor_member
from upgrades.lifecycle import CALLBACK_HELP, callback_names_for, lifecycle_url
from upgrades.models import Delivery, DeliveryState, Installation, WebhookEndpoint
from upgrades.permissions import is_site_admin
from versions.models import Version
from versions.policies import RELEASED_STATES

DELIVERY_FILTERS = {
    "": "All",
    "failed": "Failed (for good or retrying)",
    "succeeded": "Delivered",
    "pending": "Waiting",
}


def delivery_list(*, listing: Listing, state: str = "", installation: Installation | None = None) -> QuerySet[Delivery]:
    """Newest first; `state` "failed" means failed for good or failing and retrying."""
    deliveries = Delivery.objects.filter(listing=listing).select_related("installation__site", "endpoint")
    if installation is not None:
        deliveries = deliveries.filter(installation=installation)
    if state == "failed":
        deliveries = deliveries.filter(state__in=[DeliveryState.FAILED, DeliveryState.RETRYING])
    elif state in (DeliveryState.SUCCEEDED, DeliveryState.PENDING):
        deliveries = deliveries.filter(state=state)
    return deliveries.order_by("-created_at", "-id")


def webhook_endpoint_list(*, listing: Listing) -> QuerySet[WebhookEndpoint]:
    return WebhookEndpoint.objects.filter(listing=listing).order_by("created_at", "pk")


def listing_callback_urls(*, listing: Listing) -> list[dict[str, Any]]:
    """Each callback the listing's scheme has, with where it goes (connect: the newest released
    version's descriptor, as new installations get it)."""
    newest = None
    if listing.scheme == "connect":
        newest = (
            Version.objects.filter(listing=listing, state__in=RELEASED_STATES).order_by("-published_at", "-pk").first()
        )
    return [
        {"name": name, "url": lifecycle_url(listing=listing, version=newest, event=name), "help": CALLBACK_HELP[name]}
        for name in callback_names_for(listing.scheme)
    ]


def webhook_endpoint_get_for_user(*, user: Any, pk: int) -> WebhookEndpoint:
    endpoint = WebhookEndpoint.objects.select_related("listing").filter(pk=pk).first()
    if endpoint is None or not is_vendor_member(user, endpoint.listing.vendor_id):
        raise NotFound("No such webhook endpoint for your vendor.")
    return endpoint


def delivery_get_for_user(*, user: Any, pk: int) -> Delivery:
    """The vendor sees its listing's deliveries; a site's admins those of their installations."""
    delivery = (
        Delivery.objects.select_related("listing", "installation__site", "endpoint", "upgrade")
        .prefetch_related("attempt_log")
        .filter(pk=pk)
        .first()
    )
    if delivery is None:
        raise NotFound("No such delivery.")
    if is_vendor_member(user, delivery.listing.vendor_id):
        return delivery
    if delivery.installation is not None and is_site_admin(user, delivery.installation.site_id):
        return delivery
    raise NotFound("No such delivery.")


def installation_get_for_site_admin(*, user: Any, site_id: int, pk: int) -> Installation:
    installation = (
        Installation.objects.select_related("site", "listing", "version").filter(pk=pk, site_id=site_id).first()
    )
    if installation is None or not is_site_admin(user, site_id):
        raise NotFound("No such app on the sites you administer.")
    return installation
