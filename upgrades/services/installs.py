"""A site admin installs, disables, enables and uninstalls an app; paid apps' licences.

The storefront's pages and API call these (the installations are this app's).
Every path checks the same things in the same order: the actor administers the
site, the listing is one the site may see, the app runs on the site's host
(versions.policies.host_refusal), and what is asked is not already so.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.db import transaction
from django.utils import timezone

from core.errors import ApplicationError, Conflict, NotFound, TransitionNotAllowed
from core.services import audit_event, audit_record, audit_record_many
from core.tokens import token_digest
from marketplace.models import Listing, ListingInvitation
from upgrades.models import (
    DisabledReason,
    Installation,
    InstallationState,
    Licence,
    LicenceState,
    Site,
)
from upgrades.permissions import require_site_admin, require_verified_email_to_install
from upgrades.services._common import INSTALLATION, supersede_open_work
from upgrades.services.callbacks import lifecycle_event_enqueue
from versions import policies
from versions.models import Version

LICENCE = "upgrades.licence"
TRIAL_PERIOD = timedelta(days=30)
PAID_PERIOD = timedelta(days=365)


def storefront_version(listing: Listing) -> Version | None:
    """What the storefront installs: the listing's live version on the release channel.

    OCP -dev, -beta and -private versions are never installed from the storefront
    (betas come through share links). A yanked version (issue #16) is installable by nobody."""
    return Version.objects.filter(
        listing_id=listing.pk, state=policies.PUBLISHED, channel="release", yank__isnull=True
    ).first()


def _site_may_see(listing: Listing, site: Site) -> bool:
    if listing.visibility != Listing.Visibility.PRIVATE:
        return True
    return listing.allowed_sites.filter(pk=site.pk).exists()


def _after_install(installation: Installation, *, actor: Any) -> None:
    """Tell the app it was installed: the signed `installed` callback (with the installation's new
    shared secret) and the vendor's `installation.installed` webhook, sent once the install commits."""
    lifecycle_event_enqueue(installation=installation, event="installed", actor=actor)


def installation_install(*, site_id: int, listing_key: str, actor: Any) -> Installation:
    """Install the listing's current release on a site the actor administers.

    Installing what is already installed changes nothing and says so (Conflict);
    an uninstalled row is installed again (its history stays).
    """
    require_site_admin(actor, site_id)
    require_verified_email_to_install(actor)
    now = timezone.now()
    with transaction.atomic():
        site = Site.objects.select_for_update(of=("self",)).select_related("host_product").filter(pk=site_id).first()
        if site is None:
            raise NotFound("No such site among the sites you administer.", field="site")
        listing = Listing.objects.filter(key=listing_key, archived_at__isnull=True).first()
        if listing is None or not _site_may_see(listing, site):
            raise NotFound(f"No app {listing_key!r} is available to {site.name}.", field="listing")
        version = storefront_version(listing)
        if version is None:
            raise NotFound(f"{listing.name} has no released version to install now.", field="listing")
        refusal = policies.host_refusal(
            listing_name=listing.name,
            listing_products=dict(listing.host_products.values_list("key", "name")),
            compatibility=version.compatibility,
            site_product_key=site.host_product.key,
            site_product_name=site.host_product.name,
            site_version=site.host_version,
        )
        if refusal:
            raise TransitionNotAllowed(f"{refusal}; nothing changed.", field="site")
        installation = Installation.objects.select_for_update(of=("self",)).filter(site=site, listing=listing).first()
        if installation is not None and installation.state != InstallationState.UNINSTALLED:
            raise Conflict(
                f"{listing.name} is already installed on {site.name}; nothing changed.", field="listing", code="exists"
            )
        scopes = sorted(version.scopes)
        from_state = ""
        if installation is None:
            installation = Installation.objects.create(
                site=site,
                listing=listing,
                version=version,
                granted_scopes=scopes,
                license=version.pricing,
                installed_by=actor,
            )
        else:
            from_state = installation.state
            installation.version = version
            installation.granted_scopes = scopes
            installation.license = version.pricing
            installation.installed_by = actor
            installation.installed_at = now
            installation.state = InstallationState.ACTIVE
            installation.disabled_reason = ""
            installation.save()
        audit_record(
            actor=actor,
            action="installation.install",
            object_type=INSTALLATION,
            object_id=installation.pk,
            object_repr=listing.name,
            from_state=from_state,
            to_state=installation.state,
            details={"version": version.number, "granted_scopes": scopes, "pricing": version.pricing},
            at=now,
        )
        if version.pricing == "paid":
            _licence_for_install(installation, actor=actor, now=now)
        _after_install(installation, actor=actor)
    return installation


def _licence_for_install(installation: Installation, *, actor: Any, now: Any) -> Licence:
    """A paid app starts a 30-day trial, once per site: installing again within the trial
    goes on with it, after it the app stays disabled until the licence is bought."""
    licence = Licence.objects.select_for_update().filter(installation=installation).first()
    if licence is None:
        licence = Licence.objects.create(installation=installation, started_at=now, expires_at=now + TRIAL_PERIOD)
        _licence_audit(licence, actor, "licence.start_trial", "", LicenceState.TRIAL, now)
        return licence
    if licence.state in (LicenceState.TRIAL, LicenceState.ACTIVE):
        return licence
    before = licence.state
    if licence.state == LicenceState.CANCELLED and licence.expires_at > now:
        licence.reopen()
        licence.save()
        _licence_audit(licence, actor, "licence.reopen", before, licence.state, now)
        return licence
    if licence.state == LicenceState.CANCELLED:
        licence.expire(now=now)
        licence.save()
        _licence_audit(licence, actor, "licence.expire", before, licence.state, now)
    _disable(installation, DisabledReason.LICENCE_EXPIRED, actor=actor, now=now)
    return licence


def _licence_audit(licence: Licence, actor: Any, action: str, from_state: str, to_state: str, now: Any) -> None:
    audit_record(
        actor=actor,
        action=action,
        object_type=LICENCE,
        object_id=licence.pk,
        object_repr=f"licence of installation {licence.installation_id}",
        from_state=from_state,
        to_state=to_state,
        details={"expires_at": licence.expires_at.isoformat()},
        at=now,
    )


def _locked_installation(site_id: int, installation_id: int, actor: Any) -> Installation:
    require_site_admin(actor, site_id)
    installation = (
        Installation.objects.select_for_update(of=("self",))
        .select_related("listing", "site")
        .filter(pk=installation_id, site_id=site_id)
        .first()
    )
    if installation is None:
        raise NotFound("No such installation on this site.", field="installation")
    return installation


def _disable(installation: Installation, reason: str, *, actor: Any, now: Any) -> None:
    before = installation.state
    installation.state = InstallationState.DISABLED
    installation.disabled_reason = reason
    installation.save(update_fields=["state", "disabled_reason", "updated_at"])
    audit_record(
        actor=actor,
        action="installation.disable",
        object_type=INSTALLATION,
        object_id=installation.pk,
        object_repr=installation.listing.name,
        from_state=before,
        to_state=installation.state,
        details={"reason": reason},
        at=now,
    )
    lifecycle_event_enqueue(installation=installation, event="disabled", actor=actor, now=now)


def installation_disable(*, site_id: int, installation_id: int, actor: Any) -> Installation:
    now = timezone.now()
    with transaction.atomic():
        installation = _locked_installation(site_id, installation_id, actor)
        name = installation.listing.name
        if installation.state == InstallationState.UNINSTALLED:
            raise Conflict(f"{name} is not installed on this site; nothing changed.", field="installation")
        if installation.state == InstallationState.DISABLED:
            raise Conflict(f"{name} is already disabled; nothing changed.", field="installation")
        if installation.state == InstallationState.DEACTIVATED:
            raise TransitionNotAllowed(
                f"{name} is switched off by the site's move to another product: use the move's page.",
                field="installation",
            )
        _disable(installation, DisabledReason.ADMIN, actor=actor, now=now)
    return installation


def installation_enable(*, site_id: int, installation_id: int, actor: Any) -> Installation:
    now = timezone.now()
    with transaction.atomic():
        installation = _locked_installation(site_id, installation_id, actor)
        name = installation.listing.name
        if installation.state != InstallationState.DISABLED:
            raise Conflict(f"{name} is not disabled; nothing changed.", field="installation")
        if installation.disabled_reason == DisabledReason.LICENCE_EXPIRED:
            raise TransitionNotAllowed(
                f"{name}'s licence has expired: buy the licence to enable it again, or uninstall it.",
                field="installation",
            )
        if installation.disabled_reason == DisabledReason.PAID_NOT_ACCEPTED:
            raise TransitionNotAllowed(
                f"{name} is now a paid app: accept its price to enable it again, or uninstall it.",
                field="installation",
            )
        _installation_enable(installation, actor=actor, reason="", now=now)
        lifecycle_event_enqueue(installation=installation, event="enabled", actor=actor, now=now)
    return installation


def installation_uninstall(*, site_id: int, installation_id: int, actor: Any) -> Installation:
    """Uninstall: open consent requests and scheduled upgrades end, a licence is cancelled,
    and the row stays with its history (installing again reuses it)."""
    now = timezone.now()
    with transaction.atomic():
        installation = _locked_installation(site_id, installation_id, actor)
        name = installation.listing.name
        if installation.state == InstallationState.UNINSTALLED:
            raise Conflict(f"{name} is not installed on this site; nothing changed.", field="installation")
        supersede_open_work(
            installations={"installation_id": installation.pk}, outcome="the app was uninstalled", now=now, actor=actor
        )
        before = installation.state
        installation.state = InstallationState.UNINSTALLED
        installation.disabled_reason = ""
        installation.save(update_fields=["state", "disabled_reason", "updated_at"])
        events = [
            audit_event(
                actor=actor,
                action="installation.uninstall",
                object_type=INSTALLATION,
                object_id=installation.pk,
                object_repr=name,
                from_state=before,
                to_state=installation.state,
                at=now,
            )
        ]
        licence = Licence.objects.select_for_update().filter(installation=installation).first()
        if licence is not None and licence.state != LicenceState.CANCELLED:
            licence_before = licence.state
            licence.cancel(now=now)
            licence.save()
            events.append(
                audit_event(
                    actor=actor,
                    action="licence.cancel",
                    object_type=LICENCE,
                    object_id=licence.pk,
                    object_repr=f"licence of installation {installation.pk}",
                    from_state=licence_before,
                    to_state=licence.state,
                    at=now,
                )
            )
        audit_record_many(events)
        # Sent while the row (and its shared secret, which signs the call) is still there: it stays.
        lifecycle_event_enqueue(installation=installation, event="uninstalled", actor=actor, now=now)
    return installation


def installation_accept_price(*, site_id: int, installation_id: int, actor: Any) -> Installation:
    """The admin who turned down a free app's move to paid accepts the price after all: the app
    runs again, moves to the paid version (the manual Upgrade) and its licence starts."""
    from upgrades.services.consent import installation_upgrade

    now = timezone.now()
    with transaction.atomic():
        installation = _locked_installation(site_id, installation_id, actor)
        if not (
            installation.state == InstallationState.DISABLED
            and installation.disabled_reason == DisabledReason.PAID_NOT_ACCEPTED
        ):
            raise Conflict(
                f"{installation.listing.name} has no price waiting for your acceptance; nothing changed.",
                field="installation",
            )
        _installation_enable(installation, actor=actor, reason="price accepted", now=now)
        installation_upgrade(site_id=site_id, installation_id=installation.pk, actor=actor)
        installation.refresh_from_db()
        if installation.license == "paid":
            _licence_for_install(installation, actor=actor, now=now)
    return installation


def _installation_enable(installation: Installation, *, actor: Any, reason: str, now: Any) -> None:
    """A disabled installation runs again (an admin's Enable, its price accepted, its licence
    bought: `reason`, "" for the admin's own Enable); audited."""
    installation.state = InstallationState.ACTIVE
    installation.disabled_reason = ""
    installation.save(update_fields=["state", "disabled_reason", "updated_at"])
    audit_record(
        actor=actor,
        action="installation.enable",
        object_type=INSTALLATION,
        object_id=installation.pk,
        object_repr=installation.listing.name,
        from_state=InstallationState.DISABLED,
        to_state=installation.state,
        details={"reason": reason} if reason else None,
        at=now,
    )


def licence_buy(*, site_id: int, installation_id: int, actor: Any) -> Licence:
    """The site admin buys the licence (no payment processor: the period starts now). A trial
    becomes active; an expired licence is renewed and the app it disabled runs again."""
    now = timezone.now()
    with transaction.atomic():
        installation = _locked_installation(site_id, installation_id, actor)
        licence = Licence.objects.select_for_update().filter(installation=installation).first()
        if licence is None:
            raise Conflict(f"{installation.listing.name} is free: there is no licence to buy.", field="installation")
        if licence.state not in (LicenceState.TRIAL, LicenceState.EXPIRED):
            raise Conflict(
                f"The licence is {licence.get_state_display().lower()}; nothing changed.", field="installation"
            )
        before = licence.state
        licence.activate(now=now, period=PAID_PERIOD)
        licence.save()
        _licence_audit(licence, actor, "licence.activate", before, licence.state, now)
        if installation.state == InstallationState.DISABLED and (
            installation.disabled_reason == DisabledReason.LICENCE_EXPIRED
        ):
            _installation_enable(installation, actor=actor, reason="licence bought", now=now)
    return licence


def licences_expire(*, now: Any = None) -> int:
    """Trials and paid periods that ended expire and disable their apps (set-based, audited).
    Runs from the beat schedule; running it twice changes nothing the second time."""
    now = now or timezone.now()
    with transaction.atomic():
        rows = list(
            Licence.objects.select_for_update(of=("self",))
            .filter(state__in=(LicenceState.TRIAL, LicenceState.ACTIVE), expires_at__lte=now)
            .values_list("pk", "state", "installation_id", "installation__state", "installation__listing__name")
        )
        if not rows:
            return 0
        Licence.objects.filter(pk__in=[r[0] for r in rows]).update(state=LicenceState.EXPIRED, ended_at=now)
        running = [r for r in rows if r[3] in (InstallationState.ACTIVE, InstallationState.PENDING_CONSENT)]
        Installation.objects.filter(pk__in=[r[2] for r in running]).update(
            state=InstallationState.DISABLED, disabled_reason=DisabledReason.LICENCE_EXPIRED, updated_at=now
        )
        events = [
            audit_event(
                actor=None,
                action="licence.expire",
                object_type=LICENCE,
                object_id=pk,
                object_repr=f"licence of installation {installation_id}",
                from_state=state,
                to_state=LicenceState.EXPIRED,
                at=now,
            )
            for pk, state, installation_id, _, _ in rows
        ] + [
            audit_event(
                actor=None,
                action="installation.disable",
                object_type=INSTALLATION,
                object_id=installation_id,
                object_repr=name,
                from_state=inst_state,
                to_state=InstallationState.DISABLED,
                details={"reason": DisabledReason.LICENCE_EXPIRED},
                at=now,
            )
            for _, _, installation_id, inst_state, name in running
        ]
        audit_record_many(events)
    return len(rows)


def listing_invitation_redeem(*, code: str, site_id: int, actor: Any) -> ListingInvitation:
    """A site admin redeems a vendor's invitation for one of their sites: the private listing
    opens to that site (its allowed sites). One code, one site; the vendor learns which site only
    through the invitation that was used."""
    require_site_admin(actor, site_id)
    now = timezone.now()
    raw = (code or "").strip()
    refused = ApplicationError(
        "This invitation code is unknown, already used or expired: ask the vendor for a new one; nothing changed.",
        field="code",
    )
    if not raw or len(raw) > 100:
        raise refused
    with transaction.atomic():
        invitation = (
            ListingInvitation.active(raw)
            .select_for_update(of=("self",))
            .select_related("listing")
            .filter(redeemed_at__isnull=True, expires_at__gt=now, listing__archived_at__isnull=True)
            .first()
        )
        if invitation is None:
            if ListingInvitation.objects.filter(digest=token_digest(raw), revoked_at__isnull=False).exists():
                raise ApplicationError(
                    "This invitation code was revoked by the vendor: ask them for a new one; nothing changed.",
                    field="code",
                )
            raise refused
        site = Site.objects.get(pk=site_id)
        invitation.listing.allowed_sites.add(site)
        invitation.redeemed_at = now
        invitation.redeemed_site = site
        invitation.save(update_fields=["redeemed_at", "redeemed_site"])
        audit_record(
            actor=actor,
            action="listing_invitation.redeem",
            object_type="marketplace.listinginvitation",
            object_id=invitation.pk,
            object_repr=f"{invitation.listing.key} invitation {invitation.prefix}…",
            from_state="open",
            to_state="redeemed",
            details={"site_id": site.pk},
            at=now,
        )
    return invitation
