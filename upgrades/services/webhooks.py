"""Vendor webhooks: endpoints a vendor registers per listing, and the events sent to them.

Events (upgrades.models.WebhookEvent) come from the services that make them
happen: versions.hooks (a version approved, rejected, published: through the
`webhook_version_event` task), the rollout services (completed, halted),
consent (a site approved or rejected an upgrade) and the lifecycle callbacks
(installed, uninstalled). Each matching endpoint gets one delivery (see
upgrades.services.deliveries), signed with the endpoint's secret the Standard
Webhooks way (upgrades.signing).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from core.errors import ApplicationError
from core.services import audit_record
from marketplace.models import Listing
from marketplace.permissions import require_vendor_member
from upgrades.models import Delivery, DeliveryKind, WebhookEndpoint, WebhookEvent
from upgrades.services.deliveries import deliveries_enqueue, delivery_build
from upgrades.signing import webhook_secret_new
from versions.fetch import url_refusal

WEBHOOK = "upgrades.webhookendpoint"
TEST_EVENT = "webhook.test"
MAX_ENDPOINTS_PER_LISTING = 10


def _clean(*, url: Any, events: Any, description: Any) -> tuple[str, list[str], str]:
    url = (url or "").strip() if isinstance(url, str) else ""
    if not url:
        raise ApplicationError("Enter the URL that receives the events.", field="url")
    if len(url) > 500:
        raise ApplicationError("The URL is longer than 500 characters.", field="url")
    why = url_refusal(url, label="URL")
    if why:
        raise ApplicationError(why, field="url")
    if not isinstance(events, list | tuple) or not events:
        raise ApplicationError("Choose at least one event.", field="events")
    known = set(WebhookEvent.values)
    unknown = [e for e in events if e not in known]
    if unknown:
        raise ApplicationError(
            f"Unknown event {unknown[0]!r}; the events are: {', '.join(WebhookEvent.values)}.", field="events"
        )
    description = description.strip() if isinstance(description, str) else ""
    if len(description) > 120:
        raise ApplicationError("The description is longer than 120 characters.", field="description")
    return url, sorted(set(events)), description


def _audit(endpoint: WebhookEndpoint, action: str, *, actor: Any, **details: Any) -> None:
    state = "active" if endpoint.active else "inactive"
    audit_record(
        actor=actor,
        action=f"webhook.{action}",
        object_type=WEBHOOK,
        object_id=endpoint.pk,
        object_repr=f"{endpoint.listing.key}: {endpoint.url}",
        from_state=state if action != "create" else "",
        to_state=state if action != "delete" else "deleted",
        details=details,
    )


def webhook_endpoint_create(
    *, listing: Listing, actor: Any, url: Any, events: Any, description: Any = ""
) -> tuple[WebhookEndpoint, str]:
    """Register an endpoint; returns it and its secret, which is shown this once."""
    require_vendor_member(actor, listing.vendor_id)
    url, events, description = _clean(url=url, events=events, description=description)
    with transaction.atomic():
        Listing.objects.select_for_update().get(pk=listing.pk)
        if WebhookEndpoint.objects.filter(listing=listing).count() >= MAX_ENDPOINTS_PER_LISTING:
            raise ApplicationError(
                f"A listing has at most {MAX_ENDPOINTS_PER_LISTING} webhook endpoints; delete one first.", field="url"
            )
        endpoint = WebhookEndpoint.objects.create(
            listing=listing,
            url=url,
            events=events,
            description=description,
            secret=webhook_secret_new(),
            created_by=actor if getattr(actor, "is_authenticated", False) else None,
        )
        _audit(endpoint, "create", actor=actor, url=url, events=events)
    return endpoint, endpoint.secret


def webhook_endpoint_update(
    *, endpoint: WebhookEndpoint, actor: Any, url: Any, events: Any, description: Any = "", active: bool = True
) -> WebhookEndpoint:
    require_vendor_member(actor, endpoint.listing.vendor_id)
    url, events, description = _clean(url=url, events=events, description=description)
    with transaction.atomic():
        locked = WebhookEndpoint.objects.select_for_update(of=("self",)).select_related("listing").get(pk=endpoint.pk)
        changes = {
            name: {"from": getattr(locked, name), "to": value}
            for name, value in (("url", url), ("events", events), ("description", description), ("active", active))
            if getattr(locked, name) != value
        }
        if changes:
            before = "active" if locked.active else "inactive"
            locked.url, locked.events, locked.description, locked.active = url, events, description, bool(active)
            locked.save()
            audit_record(
                actor=actor,
                action="webhook.update",
                object_type=WEBHOOK,
                object_id=locked.pk,
                object_repr=f"{locked.listing.key}: {locked.url}",
                from_state=before,
                to_state="active" if locked.active else "inactive",
                details={"changes": changes},
            )
    return locked


def webhook_endpoint_rotate_secret(
    *, endpoint: WebhookEndpoint, actor: Any, now: datetime | None = None
) -> tuple[WebhookEndpoint, str]:
    """A new secret (returned, shown once); the old one keeps signing alongside for WEBHOOK_SECRET_OVERLAP."""
    require_vendor_member(actor, endpoint.listing.vendor_id)
    now = now or timezone.now()
    with transaction.atomic():
        locked = WebhookEndpoint.objects.select_for_update(of=("self",)).select_related("listing").get(pk=endpoint.pk)
        locked.previous_secret = locked.secret
        locked.previous_secret_expires_at = now + settings.WEBHOOK_SECRET_OVERLAP
        locked.secret = webhook_secret_new()
        locked.save()
        _audit(locked, "rotate", actor=actor, previous_valid_until=locked.previous_secret_expires_at.isoformat())
    return locked, locked.secret


def webhook_endpoint_delete(*, endpoint: WebhookEndpoint, actor: Any) -> None:
    """Delete an endpoint; its deliveries stay in the log (without it, nothing more is sent)."""
    require_vendor_member(actor, endpoint.listing.vendor_id)
    with transaction.atomic():
        locked = WebhookEndpoint.objects.select_for_update(of=("self",)).select_related("listing").get(pk=endpoint.pk)
        _audit(locked, "delete", actor=actor, url=locked.url)
        locked.delete()


def _webhook_payload(event: str, data: dict[str, Any], now: datetime) -> dict[str, Any]:
    return {"type": event, "timestamp": now.isoformat(), "data": data}


def webhook_endpoint_send_test(*, endpoint: WebhookEndpoint, actor: Any) -> Delivery:
    """The *Send test event* button: one `webhook.test` delivery, logged like any other."""
    require_vendor_member(actor, endpoint.listing.vendor_id)
    now = timezone.now()
    with transaction.atomic():
        data = {"listing": endpoint.listing.key, "message": "A test event from the marketplace portal."}
        delivery = deliveries_enqueue(
            [
                delivery_build(
                    kind=DeliveryKind.WEBHOOK,
                    event=TEST_EVENT,
                    listing_id=endpoint.listing_id,
                    url=endpoint.url,
                    payload=_webhook_payload(TEST_EVENT, data, now),
                    endpoint_id=endpoint.pk,
                )
            ]
        )[0]
        _audit(endpoint, "test", actor=actor, delivery_id=str(delivery.delivery_id))
    return delivery


def webhook_event_enqueue(
    *,
    listing: Listing | int,
    event: str,
    data: dict[str, Any],
    now: datetime | None = None,
    skip_endpoint_ids: set[int] | frozenset[int] = frozenset(),
) -> list[Delivery]:
    """One delivery per active endpoint of the listing that subscribed to `event` (one read, one insert)."""
    if event not in WebhookEvent.values:
        raise ApplicationError(f"Unknown webhook event {event!r}.", field="event")
    now = now or timezone.now()
    listing_id = getattr(listing, "pk", listing)
    endpoints = [
        e
        for e in WebhookEndpoint.objects.filter(listing_id=listing_id, active=True)
        if event in (e.events or []) and e.pk not in skip_endpoint_ids
    ]
    payload = _webhook_payload(event, data, now)
    return deliveries_enqueue(
        [
            delivery_build(
                kind=DeliveryKind.WEBHOOK,
                event=event,
                listing_id=listing_id,
                url=e.url,
                payload=payload,
                endpoint_id=e.pk,
            )
            for e in endpoints
        ]
    )


def webhook_version_event(*, version_id: int, event: str) -> list[Delivery]:
    """A version was approved, rejected or published (versions.hooks enqueues this after commit)."""
    from versions.models import Version

    version = Version.objects.select_related("listing").filter(pk=version_id).first()
    if version is None:
        return []
    data = {
        "listing": version.listing.key,
        "versionId": version.pk,
        "version": version.number,
        "channel": version.channel,
        "state": version.state,
    }
    with transaction.atomic():
        # A task that runs twice sends nothing twice: endpoints already told about this version are skipped.
        told = set(
            Delivery.objects.filter(
                kind=DeliveryKind.WEBHOOK,
                event=event,
                listing_id=version.listing_id,
                payload__data__versionId=version.pk,
            ).values_list("endpoint_id", flat=True)
        )
        return webhook_event_enqueue(listing=version.listing, event=event, data=data, skip_endpoint_ids=told)
