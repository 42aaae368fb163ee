"""Telling the vendor's app about its installations: lifecycle callbacks and OCP upgrade hooks.

Where the app is called (`lifecycle_url`): connect apps name their endpoints in
their descriptor (baseUrl + lifecycle.installed|uninstalled|enabled|disabled, of
the version installed); other schemes set them on the listing page
(Listing.lifecycle_urls), OCP apps also their upgrade hooks onUpgrade and
onFinalizeUpgrade. No URL: nothing is sent.

What the outcomes mean (decided here, shown on the portal's pages):

- `installed` delivered: the installation is "App confirmed"; failed for good:
  "Installed, app not confirmed", with a Retry button (a redelivery) for the
  site's admins and the vendor. The installation works either way: the
  portal's record of it stands.
- `onUpgrade` (OCP): called *before* the installation moves. Upgrades of an app
  with this hook leave the set-based chunk: each waits for its own delivery
  (`Upgrade.hook_started_at`), so no HTTP call happens inside the chunk's
  transaction. Delivered: the upgrade is applied then (and onFinalizeUpgrade
  sent after it); failed for good (after its retries): the upgrade is marked
  failed with the reason and the installation stays on its version. The rollout
  counts it as failed.
- `onFinalizeUpgrade`, `uninstalled`, `enabled`, `disabled`: recorded and
  retried; a failure changes nothing in the portal (the vendor is e-mailed once
  per failure streak, like for every delivery).

The storefront calls `lifecycle_event_enqueue` (one call per event, inside its
own transaction): installed after creating the installation, uninstalled,
enabled and disabled after changing its state.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db import transaction
from django.utils import timezone

from core.errors import ApplicationError
from core.services import audit_event, audit_record, audit_record_many
from marketplace.models import Listing
from marketplace.permissions import require_vendor_member
from upgrades.lifecycle import CALLBACK_NAMES, LIFECYCLE_EVENTS, UPGRADE_HOOKS, lifecycle_url
from upgrades.models import (
    AppStatus,
    Delivery,
    DeliveryKind,
    Installation,
    Upgrade,
    UpgradeState,
)
from upgrades.services._common import INSTALLATION, UPGRADE, installation_event
from upgrades.services.deliveries import deliveries_enqueue, delivery_build
from upgrades.signing import shared_secret_new
from versions.fetch import url_refusal
from versions.models import Version
from versions.schemes import CONNECT, OCP

# Which webhook event a lifecycle event also fires for the vendor's endpoints.
LIFECYCLE_WEBHOOKS = {"installed": "installation.installed", "uninstalled": "installation.uninstalled"}


def client_key(site_id: int) -> str:
    """The site as the app knows it (Connect's clientKey): stable, and no name that could change."""
    return f"site-{site_id}"


def _payload(*, event: str, listing: Listing, installation_id: int, site_id: int, version: str, now: datetime, **extra):
    return {
        "eventType": event,
        "key": listing.key,
        "clientKey": client_key(site_id),
        "installationId": installation_id,
        "siteId": site_id,
        "version": version,
        "timestamp": now.isoformat(),
        **extra,
    }


def _ensure_secret(installation: Installation) -> None:
    """Installations made before callbacks existed get their secret when first needed."""
    if not installation.shared_secret:
        installation.shared_secret = shared_secret_new()
        Installation.objects.filter(pk=installation.pk, shared_secret="").update(
            shared_secret=installation.shared_secret
        )


def lifecycle_event_enqueue(
    *, installation: Installation, event: str, actor: Any = None, now: datetime | None = None
) -> Delivery | None:
    """Tell the app (and the vendor's webhooks) that `installation` was installed, uninstalled,
    enabled or disabled. Call it inside the transaction that made the change: the delivery is
    sent once that commits. `installed` gives the installation a new shared secret (sent in
    that payload, signing every later call). Returns the delivery, None when the app has no URL.
    """
    from upgrades.services.webhooks import webhook_event_enqueue

    if event not in LIFECYCLE_EVENTS:
        raise ApplicationError(
            f"Unknown lifecycle event {event!r}; use one of {', '.join(LIFECYCLE_EVENTS)}.", field="event"
        )
    now = now or timezone.now()
    listing = installation.listing
    version = installation.version
    url = lifecycle_url(listing=listing, version=version, event=event)
    if event == "installed":
        installation.shared_secret = shared_secret_new()
        status = AppStatus.PENDING if url else AppStatus.NONE
        Installation.objects.filter(pk=installation.pk).update(shared_secret=installation.shared_secret)
        installation_app_status_set(installation_id=installation.pk, status=status, actor=actor, now=now)
        installation.app_status = status
    else:
        _ensure_secret(installation)
    delivery = None
    if url:
        payload = _payload(
            event=event,
            listing=listing,
            installation_id=installation.pk,
            site_id=installation.site_id,
            version=version.number,
            now=now,
        )
        built = delivery_build(
            kind=DeliveryKind.LIFECYCLE,
            event=event,
            listing_id=listing.pk,
            url=url,
            payload=payload,
            installation_id=installation.pk,
        )
        delivery = deliveries_enqueue([built])[0]
    if event in LIFECYCLE_WEBHOOKS:
        webhook_event_enqueue(
            listing=listing,
            event=LIFECYCLE_WEBHOOKS[event],
            data={
                "installationId": installation.pk,
                "siteId": installation.site_id,
                "listing": listing.key,
                "version": version.number,
            },
        )
    return delivery


def lifecycle_events_enqueue_many(*, installations: list[Installation], event: str, now: datetime | None = None) -> int:
    """The same event for many installations, read with their listing and version (a site moved
    product: its apps are disabled): no query at all when none of the apps has a URL for it, a
    fixed number otherwise. Returns how many deliveries were made."""
    if event not in ("enabled", "disabled"):
        raise ApplicationError(f"{event!r} is not sent to many installations at once.", field="event")
    now = now or timezone.now()
    targets = [
        (i, url) for i in installations if (url := lifecycle_url(listing=i.listing, version=i.version, event=event))
    ]
    secretless = [i for i, _ in targets if not i.shared_secret]
    for installation in secretless:
        installation.shared_secret = shared_secret_new()
    if secretless:
        Installation.objects.bulk_update(secretless, ["shared_secret"])
    built = [
        delivery_build(
            kind=DeliveryKind.LIFECYCLE,
            event=event,
            listing_id=installation.listing_id,
            url=url,
            payload=_payload(
                event=event,
                listing=installation.listing,
                installation_id=installation.pk,
                site_id=installation.site_id,
                version=installation.version.number,
                now=now,
            ),
            installation_id=installation.pk,
        )
        for installation, url in targets
    ]
    return len(deliveries_enqueue(built))


def installation_app_status_set(
    *, installation_id: int, status: str, actor: Any = None, now: datetime | None = None
) -> None:
    """Whether the app confirmed its installation; audited when it changes."""
    row = Installation.objects.filter(pk=installation_id).values_list("app_status", "listing__name").first()
    if row is None or row[0] == status:
        return
    Installation.objects.filter(pk=installation_id).update(app_status=status)
    audit_record(
        actor=actor,
        action="installation.app_status",
        object_type=INSTALLATION,
        object_id=installation_id,
        object_repr=row[1],
        from_state=row[0] or "none",
        to_state=status or "none",
        at=now,
    )


# --- OCP upgrade hooks ---------------------------------------------------------------------------


def upgrade_hook_deliveries(*, upgrades: list[Upgrade], version: Version, hook: str, now: datetime) -> list[Delivery]:
    """One delivery of `hook` per upgrade (one query for the sites, one insert)."""
    url = lifecycle_url(listing=version.listing, version=version, event=hook)
    if not url or not upgrades:
        return []
    installations = dict(
        Installation.objects.filter(pk__any=[u.installation_id for u in upgrades]).values_list("pk", "site_id")
    )
    secretless = list(
        Installation.objects.filter(pk__any=list(installations), shared_secret="").values_list("pk", flat=True)
    )
    if secretless:
        Installation.objects.bulk_update(
            [Installation(pk=pk, shared_secret=shared_secret_new()) for pk in secretless], ["shared_secret"]
        )
    built = []
    for upgrade in upgrades:
        payload = _payload(
            event=hook,
            listing=version.listing,
            installation_id=upgrade.installation_id,
            site_id=installations.get(upgrade.installation_id, 0),
            version=version.number,
            now=now,
            upgradeId=upgrade.pk,
            fromVersionId=upgrade.from_version_id,
        )
        built.append(
            delivery_build(
                kind=DeliveryKind.LIFECYCLE,
                event=hook,
                listing_id=version.listing_id,
                url=url,
                payload=payload,
                installation_id=upgrade.installation_id,
                upgrade_id=upgrade.pk,
            )
        )
    return deliveries_enqueue(built)


def upgrades_wait_for_hook(*, upgrades: list[Upgrade], version: Version, now: datetime, common: dict) -> list:
    """Upgrades of an app with onUpgrade: call it first; each is applied when its call is delivered.

    Returns the (unsaved) audit rows, for the caller's one bulk insert.
    """
    ids = [u.pk for u in upgrades]
    Upgrade.objects.filter(pk__any=ids, state=UpgradeState.SCHEDULED).update(hook_started_at=now)
    upgrade_hook_deliveries(upgrades=upgrades, version=version, hook="onUpgrade", now=now)
    return [
        audit_event(
            action="upgrade.hook_call",
            object_type=UPGRADE,
            object_id=u.pk,
            object_repr=f"{version.listing.name} {version.number}",
            from_state=UpgradeState.SCHEDULED,
            to_state=UpgradeState.SCHEDULED,
            details={"hook": "onUpgrade", "installation_id": u.installation_id},
            **common,
        )
        for u in upgrades
    ]


def _hook_record(delivery: Delivery, delivered: bool, now: datetime, to: str) -> dict[str, Any]:
    return {
        "hook": delivery.event,
        "at": now.isoformat(),
        "to": to,
        "outcome": "ok" if delivered else f"failed: {delivery.last_error}",
        "status": delivery.last_status,
        "attempts": delivery.attempts,
        "delivery_id": str(delivery.delivery_id),
    }


def _upgrade_hook_settled(delivery: Delivery, delivered: bool, now: datetime) -> None:
    from upgrades.services.applying import _apply

    upgrade = (
        Upgrade.objects.select_for_update(of=("self",))
        .select_related("to_version__listing")
        .filter(pk=delivery.upgrade_id)
        .first()
    )
    if upgrade is None:
        return
    hooks = [*upgrade.hooks, _hook_record(delivery, delivered, now, upgrade.to_version.number)]
    Upgrade.objects.filter(pk=upgrade.pk).update(hooks=hooks)
    if delivery.event != "onUpgrade" or upgrade.state != UpgradeState.SCHEDULED:
        return  # onFinalizeUpgrade is recorded only; a superseded upgrade stays superseded
    if delivered:
        _apply([upgrade], now, on_upgrade_called=True)
        return
    reason = f"the app's onUpgrade hook failed after {delivery.attempts} attempts: {delivery.last_error}"[:255]
    Upgrade.objects.filter(pk=upgrade.pk, state=UpgradeState.SCHEDULED).update(
        state=UpgradeState.FAILED, applied_at=now, outcome=reason
    )
    name = upgrade.to_version.listing.name
    audit_record_many(
        [
            audit_event(
                actor=None,
                action="upgrade.fail",
                object_type=UPGRADE,
                object_id=upgrade.pk,
                object_repr=f"{name} {upgrade.to_version.number}",
                from_state=UpgradeState.SCHEDULED,
                to_state=UpgradeState.FAILED,
                details={"reason": reason, "installation_id": upgrade.installation_id},
                at=now,
            ),
            installation_event(
                actor=None,
                action="installation.upgrade_fail",
                installation_id=upgrade.installation_id,
                name=name,
                from_state="",
                to_state="",
                details={"upgrade_id": upgrade.pk, "reason": reason, "stays_on_version_id": upgrade.from_version_id},
                at=now,
            ),
        ]
    )


def delivery_settled(*, delivery: Delivery, delivered: bool, now: datetime) -> None:
    """What a delivered or failed-for-good callback means (see the module's docstring).

    Runs in the transaction that records the last attempt (the delivery row locked).
    """
    if delivery.kind != DeliveryKind.LIFECYCLE:
        return
    if delivery.event == "installed" and delivery.installation_id:
        status = AppStatus.CONFIRMED if delivered else AppStatus.UNCONFIRMED
        installation_app_status_set(installation_id=delivery.installation_id, status=status, now=now)
    elif delivery.event in UPGRADE_HOOKS and delivery.upgrade_id:
        _upgrade_hook_settled(delivery, delivered, now)


# --- where the app is called (set on the listing page) ------------------------------------------


def listing_set_lifecycle_urls(*, listing: Listing, actor: Any, urls: dict[str, Any]) -> Listing:
    """Where the portal calls the app, for schemes without a descriptor (OCP: its upgrade hooks too).

    Lives here, with the callbacks that use it (the URL rules are the fetcher's, in versions,
    which the catalogue app may not import). Connect apps name theirs in their descriptor, so
    they are refused. Each URL must be http(s) and not a literal non-public address (host names
    are checked again on every call, by the fetcher).
    """
    require_vendor_member(actor, listing.vendor_id)
    if listing.scheme == CONNECT:
        raise ApplicationError(
            "A connect app's lifecycle URLs come from its descriptor (baseUrl + lifecycle).", field="lifecycle_urls"
        )
    cleaned: dict[str, str] = {}
    for name, value in (urls or {}).items():
        if name not in CALLBACK_NAMES:
            raise ApplicationError(f"Unknown lifecycle callback {name!r}.", field=name)
        value = value.strip() if isinstance(value, str) else ""
        if not value:
            continue
        if name in UPGRADE_HOOKS and listing.scheme != OCP:
            raise ApplicationError(f"{name} is an OCP upgrade hook; {listing.scheme} apps have none.", field=name)
        if len(value) > 500:
            raise ApplicationError("The URL is longer than 500 characters.", field=name)
        why = url_refusal(value, label=f"{name} URL")
        if why:
            raise ApplicationError(why, field=name)
        cleaned[name] = value
    with transaction.atomic():
        locked = Listing.objects.select_for_update().get(pk=listing.pk)
        before = locked.lifecycle_urls or {}
        if before != cleaned:
            locked.lifecycle_urls = cleaned
            locked.save(update_fields=["lifecycle_urls", "updated_at"])
            state = "archived" if locked.archived_at else "active"
            audit_record(
                actor=actor,
                action="listing.update",
                obj=locked,
                object_repr=locked.key,
                from_state=state,
                to_state=state,
                details={"changes": {"lifecycle_urls": {"from": before, "to": cleaned}}},
            )
    listing.lifecycle_urls = cleaned
    return listing
