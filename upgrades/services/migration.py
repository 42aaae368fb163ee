"""Product migration: a site moves to another host product, and each app gets a one-click upgrade offer.

Moving is set-based like a rollout chunk: the site's installations and the
released versions of their listings are read with one query each, the offers
are decided in memory (upgrades.offer_rules and versions.policies, pure), and everything is
written with a fixed number of bulk statements, however many apps the site has.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils import timezone

from core.errors import ApplicationError, ErrorCollector, NotFound, TransitionNotAllowed
from core.services import audit_event, audit_record, audit_record_many
from marketplace.models import HostProduct, Listing
from marketplace.selectors import scope_catalogue
from upgrades import offer_rules
from upgrades.models import (
    Installation,
    InstallationState,
    MigrationOffer,
    OfferState,
    ProductMigration,
    Rollout,
    RolloutState,
    Site,
    Upgrade,
    UpgradeRequest,
    UpgradeState,
)
from upgrades.permissions import require_site_admin
from upgrades.services._common import INSTALLATION, MIGRATION_OFFER, installation_event, supersede_open_work
from upgrades.services.applying import _apply
from upgrades.services.callbacks import lifecycle_event_enqueue, lifecycle_events_enqueue_many
from upgrades.services.consent import upgrade_request_approve, upgrade_request_created, upgrade_scheduled
from versions import policies
from versions.models import Version


def _clean_product(value: Any) -> HostProduct:
    if isinstance(value, HostProduct):
        product = value
    else:
        key = value.strip() if isinstance(value, str) else ""
        product = HostProduct.objects.filter(key=key).first() if key else None
        if product is None:
            known = ", ".join(HostProduct.objects.order_by("key").values_list("key", flat=True))
            shown = f" {key!r}" if key else ""
            raise ApplicationError(
                f"Host product{shown} is not known to the marketplace: choose one of {known}.", field="host_product"
            )
    return product


def _candidates(
    installation: Installation,
    versions: list[Version],
    site: Site,
    allowed_listing_ids: set[int],
) -> list[offer_rules.Candidate]:
    listing = installation.listing
    private = listing.visibility == Listing.Visibility.PRIVATE
    return [
        offer_rules.Candidate(
            number=v.number,
            compatibility=v.compatibility or (),
            build_number=v.build_number,
            refusal=policies.audience_refusal(
                scheme=listing.scheme,
                channel=v.channel,
                listing_private=private,
                listing_vendor_id=listing.vendor_id,
                site_sandbox_vendor_id=site.sandbox_vendor_id,
                site_allowed=listing.pk in allowed_listing_ids,
                installed_channel=installation.version.channel,
            ),
            ref=v,
        )
        for v in versions
    ]


def site_migrate_product_check(
    *, site: Site, host_product: Any, host_version: Any, actor: Any
) -> tuple[HostProduct, str]:
    """What site_migrate_product checks before it changes anything, every field at once.

    The move's confirmation page asks this first (nothing is written), then the
    site admin confirms and site_migrate_product checks it all again under the lock.
    """
    require_site_admin(actor, site)
    errors = ErrorCollector()
    product = errors.check(_clean_product, host_product)
    version_text = errors.check(offer_rules.clean_host_version, host_version)
    if product is not None and product.pk == site.host_product_id:
        errors.add(
            ApplicationError(
                f"{site.name} already runs {product.name}: choose the product it moves to.", field="host_product"
            )
        )
    errors.raise_if_any()
    return product, version_text


def site_migrate_product(*, site: Site, host_product: Any, host_version: Any, actor: Any) -> ProductMigration:
    """Move `site` to another host product: switch its apps off and offer each the upgrade it may take.

    Only the site's admins (and marketplace staff) may; anyone else is told the
    site does not exist. Open upgrade requests and scheduled upgrades are
    superseded (they were for the old product), as are offers of an earlier move.
    """
    require_site_admin(actor, site)
    caller_site = site
    product = _clean_product(host_product)
    version_text = offer_rules.clean_host_version(host_version)
    now = timezone.now()
    with transaction.atomic():
        # No join in the locking read: when another move commits first, PostgreSQL re-checks the
        # locked row, and a join on the old product would drop it instead of returning it.
        site = Site.objects.select_for_update().get(pk=site.pk)
        if product.pk == site.host_product_id:
            raise ApplicationError(
                f"{site.name} already runs {product.name}: choose the product it moves to.", field="host_product"
            )
        installations = list(
            Installation.objects.filter(site_id=site.pk)
            .select_related("listing", "version")
            .order_by("listing__name", "pk")
        )
        listing_ids = {i.listing_id for i in installations}
        by_listing: dict[int, list[Version]] = {}
        products_of: dict[int, set[str]] = {}
        allowed: set[int] = set()
        if listing_ids:
            for version in Version.objects.filter(listing_id__in=listing_ids, state__in=policies.RELEASED_STATES).only(
                "id",
                "listing_id",
                "number",
                "build_number",
                "channel",
                "compatibility",
                "components",
                "scopes",
                "pricing",
            ):
                by_listing.setdefault(version.listing_id, []).append(version)
            allowed = set(
                Listing.allowed_sites.through.objects.filter(site_id=site.pk, listing_id__in=listing_ids).values_list(
                    "listing_id", flat=True
                )
            )
            for listing_id, product_key in Listing.host_products.through.objects.filter(
                listing_id__in=listing_ids
            ).values_list("listing_id", "hostproduct__key"):
                products_of.setdefault(listing_id, set()).add(product_key)
        catalogue = scope_catalogue() if installations else {}

        offers: list[MigrationOffer] = []
        for installation in installations:
            choice = offer_rules.choose_migration_offer(
                installation.version.number,
                _candidates(installation, by_listing.get(installation.listing_id, []), site, allowed),
                product_key=product.key,
                product_name=product.name,
                product_version=version_text,
                installed_build=installation.version.build_number,
                listing_products=products_of.get(installation.listing_id, ()),
            )
            offer = MigrationOffer(
                installation=installation,
                installed_version_id=installation.version_id,
                code=choice.code,
                reason=choice.reason,
                state=OfferState.OFFERED if choice.offered else OfferState.UNAVAILABLE,
            )
            if choice.offered:
                target = choice.candidate.ref
                offer.offered_version = target
                # The site admin asks for this upgrade on the move's page: auto-update off doesn't apply.
                offer.consent_reasons = policies.consent_reasons(
                    installation, target, installation.listing, catalogue=catalogue, auto_update=True
                )
            offers.append(offer)

        mine = {"installation__site_id": site.pk}
        # The installations were read under the site's lock: their states are the ones this move changes.
        switched_off = [i for i in installations if i.state != InstallationState.DEACTIVATED]
        deactivated = Installation.objects.filter(pk__in=[i.pk for i in switched_off]).update(
            state=InstallationState.DEACTIVATED, updated_at=now
        )
        # The apps are told they were switched off (sent after commit; a fixed number of statements).
        lifecycle_events_enqueue_many(installations=switched_off, event="disabled", now=now)
        moved = f"the site moved to {product.name}"
        requests_superseded, upgrades_superseded = supersede_open_work(
            installations=mine, outcome=f"cancelled: {moved}", now=now, actor=actor
        )
        earlier_offers = list(
            MigrationOffer.objects.select_for_update(of=("self",))
            .filter(state=OfferState.OFFERED, **mine)
            .values_list("pk", "installation__listing__name")
        )
        MigrationOffer.objects.filter(pk__in=[pk for pk, _ in earlier_offers]).update(state=OfferState.SUPERSEDED)
        migration = ProductMigration.objects.create(
            site=site,
            from_product_id=site.host_product_id,
            from_version=site.host_version,
            to_product=product,
            to_version=version_text,
            migrated_by=actor if getattr(actor, "is_authenticated", False) else None,
            deactivated=deactivated,
            requests_superseded=requests_superseded,
            upgrades_superseded=upgrades_superseded,
        )
        for offer in offers:
            offer.migration = migration
        MigrationOffer.objects.bulk_create(offers)
        from_product = site.host_product_id
        site.host_product = product
        site.host_version = version_text
        site.save(update_fields=["host_product", "host_version"])
        audit_record_many(
            _move_events(
                site=site,
                migration=migration,
                from_product=HostProduct.objects.get(pk=from_product),
                switched_off=switched_off,
                earlier_offers=earlier_offers,
                offers=offers,
                actor=actor,
                now=now,
            )
        )
    caller_site.host_product, caller_site.host_version = product, version_text
    return migration


def _move_events(
    *,
    site: Site,
    migration: ProductMigration,
    from_product: HostProduct,
    switched_off: list[Installation],
    earlier_offers: list[tuple[int, str]],
    offers: list[MigrationOffer],
    actor: Any,
    now: Any,
) -> list:
    """The audit rows of one move: the site's, each app switched off, each offer replaced or made."""
    reason = {"migration_id": migration.pk, "reason": f"the site moved to {migration.to_product.name}"}
    common = {"actor": actor, "at": now}
    events = [
        audit_event(
            action="site.move_product",
            obj=site,
            object_repr=site.name,
            from_state=f"{from_product.key} {migration.from_version}".strip(),
            to_state=f"{migration.to_product.key} {migration.to_version}".strip(),
            details={
                "migration_id": migration.pk,
                "deactivated": migration.deactivated,
                "requests_superseded": migration.requests_superseded,
                "upgrades_superseded": migration.upgrades_superseded,
            },
            **common,
        )
    ]
    events += [
        installation_event(
            action="installation.deactivate",
            installation_id=i.pk,
            name=i.listing.name,
            from_state=i.state,
            to_state=InstallationState.DEACTIVATED,
            details=reason,
            **common,
        )
        for i in switched_off
    ]
    events += [
        audit_event(
            action="migration_offer.supersede",
            object_type=MIGRATION_OFFER,
            object_id=pk,
            object_repr=name,
            from_state=OfferState.OFFERED,
            to_state=OfferState.SUPERSEDED,
            details=reason,
            **common,
        )
        for pk, name in earlier_offers
    ]
    events += [
        audit_event(
            action="migration_offer.create",
            object_type=MIGRATION_OFFER,
            object_id=offer.pk,
            object_repr=offer.installation.listing.name,
            to_state=offer.state,
            details={**reason, "installation_id": offer.installation_id, "code": offer.code, "reason": offer.reason},
            **common,
        )
        for offer in offers
    ]
    return events


def _lock_offer(offer: MigrationOffer | int) -> MigrationOffer:
    pk = offer if isinstance(offer, int) else offer.pk
    locked = (
        MigrationOffer.objects.select_for_update(of=("self",))
        .select_related("migration__site", "migration__to_product", "offered_version__listing", "installed_version")
        .filter(pk=pk)
        .first()
    )
    if locked is None:
        raise NotFound("No such migration offer among your sites.")
    return locked


def migration_offer_accept(*, offer: MigrationOffer | int, actor: Any) -> MigrationOffer:
    """The site admin's one click: install the offered version and switch the app on again.

    When the upgrade needs consent (versions.policies.upgrade_requires_consent:
    new scopes, free -> paid, an OCP major), the click is that consent: it is
    recorded as an approved upgrade request by the consent flow's own service.
    Accepting an accepted offer changes nothing (a double click, or two admins
    at once: the offer row is locked, the second one finds it accepted).
    """
    now = timezone.now()
    with transaction.atomic():
        offer = _lock_offer(offer)
        site = offer.migration.site
        require_site_admin(actor, site)
        if offer.state == OfferState.ACCEPTED:
            return offer
        if offer.state == OfferState.UNAVAILABLE:
            raise ApplicationError(f"There is no upgrade to accept: {offer.reason}.", field="offer")
        if offer.state == OfferState.SUPERSEDED:
            raise TransitionNotAllowed(
                "This offer was replaced when the site moved product again; use the newest move's page.", field="offer"
            )
        target = offer.offered_version
        installation = (
            Installation.objects.select_for_update(of=("self",))
            .select_related("listing", "version")
            .get(pk=offer.installation_id)
        )
        if installation.version_id != offer.installed_version_id or installation.state != InstallationState.DEACTIVATED:
            raise TransitionNotAllowed(
                f"{installation.listing.name} changed since the move (now {installation.version.number}, "
                f"{installation.state}); nothing changed. Reload the page.",
                field="offer",
            )
        if target.state not in policies.RELEASED_STATES:
            raise TransitionNotAllowed(
                f"{target.number} is no longer released ({target.state}); nothing changed.", field="offer"
            )
        rollout = Rollout.objects.filter(version_id=target.pk).only("id", "state").first()
        if rollout is not None and rollout.state == RolloutState.HALTED:
            raise TransitionNotAllowed(
                f"The vendor has paused the rollout of {target.number}; nothing changed. Try again later.",
                field="offer",
            )
        reasons = policies.consent_reasons(
            installation, target, installation.listing, catalogue=scope_catalogue(), auto_update=True
        )
        if reasons:
            # The consent flow records who approved what and applies it; the app waits for
            # that decision the way a rollout's request does (pending consent, not switched off).
            request = UpgradeRequest.objects.create(
                installation=installation,
                rollout=rollout,
                from_version_id=installation.version_id,
                to_version=target,
                reasons=reasons,
            )
            upgrade_request_created(request, actor=actor, name=installation.listing.name, migration_offer_id=offer.pk)
            _switch_on(installation, InstallationState.PENDING_CONSENT, actor=actor, now=now, offer=offer)
            upgrade = upgrade_request_approve(request_id=request.pk, actor=actor)
        else:
            _switch_on(installation, InstallationState.ACTIVE, actor=actor, now=now, offer=offer)
            upgrade = Upgrade.objects.create(
                installation=installation,
                rollout=rollout,
                from_version_id=installation.version_id,
                to_version=target,
                due_at=now,
                approved_by=actor if getattr(actor, "is_authenticated", False) else None,
            )
            upgrade_scheduled(upgrade, actor=actor, name=installation.listing.name, migration_offer_id=offer.pk)
            _apply([upgrade], now, actor=actor)
            upgrade.refresh_from_db()
        waiting_for_app = upgrade.state == UpgradeState.SCHEDULED and upgrade.hook_started_at is not None
        if upgrade.state != UpgradeState.APPLIED and not waiting_for_app:  # pragma: no cover - see _apply
            raise TransitionNotAllowed(f"The upgrade to {target.number} was not applied: {upgrade.outcome}.")
        offer.state = OfferState.ACCEPTED
        offer.accepted_by = actor if getattr(actor, "is_authenticated", False) else None
        offer.accepted_at = now
        offer.upgrade = upgrade
        offer.save(update_fields=["state", "accepted_by", "accepted_at", "upgrade"])
        _offer_audit(offer, "accept", from_state=OfferState.OFFERED, actor=actor, name=installation.listing.name)
        switched_on = Installation.objects.select_related("listing", "version").get(pk=installation.pk)
        lifecycle_event_enqueue(installation=switched_on, event="enabled", actor=actor, now=now)
    return offer


def _switch_on(installation: Installation, state: str, *, actor: Any, now: Any, offer: MigrationOffer) -> None:
    """A locked, switched-off installation comes back (active, or waiting for the consent just given)."""
    Installation.objects.filter(pk=installation.pk).update(state=state, updated_at=now)
    audit_record(
        actor=actor,
        action="installation.activate" if state == InstallationState.ACTIVE else "installation.await_consent",
        object_type=INSTALLATION,
        object_id=installation.pk,
        object_repr=installation.listing.name,
        from_state=installation.state,
        to_state=state,
        details={"migration_offer_id": offer.pk, "migration_id": offer.migration_id},
        at=now,
    )


def _offer_audit(offer: MigrationOffer, action: str, *, from_state: str, actor: Any, name: str) -> None:
    audit_record(
        actor=actor,
        action=f"migration_offer.{action}",
        object_type=MIGRATION_OFFER,
        object_id=offer.pk,
        object_repr=name,
        from_state=from_state,
        to_state=offer.state,
        details={
            "installation_id": offer.installation_id,
            "migration_id": offer.migration_id,
            "version_id": offer.offered_version_id,
            "upgrade_id": offer.upgrade_id,
        },
        at=offer.accepted_at,
    )


def migration_offer_keep(*, offer: MigrationOffer | int, actor: Any) -> MigrationOffer:
    """Switch an app back on at its installed version when that version itself runs on the new product.

    That is the case the move could not offer an upgrade for because nothing
    greater exists ("already the newest version that supports ..."). No version
    changes, so nothing needs consent. Keeping twice changes nothing.
    """
    now = timezone.now()
    with transaction.atomic():
        offer = _lock_offer(offer)
        site = Site.objects.select_related("host_product").get(pk=offer.migration.site_id)
        require_site_admin(actor, site)
        if offer.state == OfferState.ACCEPTED:
            return offer
        if offer.state != OfferState.UNAVAILABLE or offer.code != offer_rules.NOT_GREATER:
            raise ApplicationError(
                "Only an app left without an upgrade because its installed version is the newest one can be "
                "switched back on as it is; use the offer's Upgrade button otherwise.",
                field="offer",
            )
        installation = (
            Installation.objects.select_for_update(of=("self",))
            .select_related("listing", "version")
            .get(pk=offer.installation_id)
        )
        if installation.version_id != offer.installed_version_id or installation.state != InstallationState.DEACTIVATED:
            raise TransitionNotAllowed(
                f"{installation.listing.name} changed since the move (now {installation.version.number}, "
                f"{installation.state}); nothing changed. Reload the page.",
                field="offer",
            )
        if not policies.host_compatible(installation.version.compatibility, site.host_product.key, site.host_version):
            raise ApplicationError(
                f"{installation.version.number} does not support {site.host_product.name} {site.host_version}: "
                "it can't be switched on there; ask the vendor for a version that does.",
                field="offer",
            )
        _switch_on(installation, InstallationState.ACTIVE, actor=actor, now=now, offer=offer)
        from_state = offer.state
        offer.state = OfferState.ACCEPTED
        offer.offered_version_id = installation.version_id
        offer.accepted_by = actor if getattr(actor, "is_authenticated", False) else None
        offer.accepted_at = now
        offer.save(update_fields=["state", "offered_version", "accepted_by", "accepted_at"])
        _offer_audit(offer, "keep", from_state=from_state, actor=actor, name=installation.listing.name)
    return offer
