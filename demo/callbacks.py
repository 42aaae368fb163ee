"""Demo callbacks (`make seed` sets DEMO_CALLBACKS=on): acme-timesheets calls the demo app the
portal serves itself (demo/views.py) on install, uninstall, enable and disable, and a webhook
endpoint of it receives every event. Runs before the demo sites, so their installations send
`installed`; the worker delivers them once `make run` starts it. Idempotent."""

from __future__ import annotations

from typing import Any

from django.conf import settings

from marketplace.models import Listing
from upgrades.lifecycle import LIFECYCLE_EVENTS
from upgrades.models import WebhookEndpoint, WebhookEvent
from upgrades.signing import webhook_secret_new

DEMO_LISTING = "acme-timesheets"


def seed(stdout: Any) -> None:
    if not settings.DEMO_CALLBACKS:
        return
    listing = Listing.objects.filter(key=DEMO_LISTING).first()
    if listing is None:
        return
    base = settings.PORTAL_BASE_URL
    urls = {event: f"{base}/demo/apps/{DEMO_LISTING}/{event}" for event in LIFECYCLE_EVENTS}
    if listing.lifecycle_urls != urls:  # demo data: set directly (the portal now runs on this port)
        Listing.objects.filter(pk=listing.pk).update(lifecycle_urls=urls)
    hook_url = f"{base}/demo/webhooks/{DEMO_LISTING}"
    endpoint = WebhookEndpoint.objects.filter(listing=listing, description="Demo receiver").first()
    if endpoint is None:
        WebhookEndpoint.objects.create(
            listing=listing,
            url=hook_url,
            description="Demo receiver",
            events=list(WebhookEvent.values),
            secret=webhook_secret_new(),
        )
    elif endpoint.url != hook_url:
        WebhookEndpoint.objects.filter(pk=endpoint.pk).update(url=hook_url)
    stdout.write(
        f"Demo callbacks: {DEMO_LISTING} calls {base}/demo/apps/… and its webhooks go to {hook_url}; "
        f"see {base}/portal/listings/{DEMO_LISTING}/deliveries/ once the worker runs."
    )
