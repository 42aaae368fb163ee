"""Sites: API tokens, maintenance windows, installations."""

from __future__ import annotations

from collections.abc import Iterable
from functools import partial
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from accounts.invitations import invitation_link_token, invitation_max_age, invitation_secret
from accounts.permissions import invitation_check_open, require_verified_email
from accounts.selectors import invitation_from_link
from core.emails import send_email_once
from core.errors import ApplicationError, Conflict, NotFound
from core.services import audit_record
from marketplace.models import Listing
from upgrades import emails, tasks, windows
from upgrades.models import (
    Installation,
    Site,
    SiteAdmin,
    SiteInvitation,
    SiteToken,
)
from upgrades.permissions import require_site_admin
from upgrades.services.callbacks import lifecycle_event_enqueue
from versions import policies
from versions.models import Version
from versions.policies import RELEASED_STATES


def site_token_create(*, site: Site, name: str = "", actor: Any = None) -> tuple[SiteToken, str]:
    """A new API token for a customer instance; the raw token is returned once and never stored.

    With an actor (the site's page), only the site's own admins make tokens.
    """
    name = (name or "").strip()
    if len(name) > 80:
        raise ApplicationError("Token name: at most 80 characters.", field="name")
    with transaction.atomic():
        if actor is not None:
            require_site_admin(actor, site)
            if not name:
                raise ApplicationError("Give the token a name (for example 'production instance').", field="name")
        token, raw = SiteToken.issue(site=site, name=name)
        audit_record(actor=actor, action="site_token.create", obj=token, to_state="active", details={"site": site.pk})
    return token, raw


def site_token_revoke(*, site: Site, actor: Any, token_id: int) -> SiteToken:
    """Revoke one of the site's tokens: the update check refuses it from now on."""
    with transaction.atomic():
        require_site_admin(actor, site)
        token = SiteToken.objects.select_for_update().filter(pk=token_id, site=site).first()
        if token is None:
            raise NotFound("No such token for this site.")
        if token.revoked_at is None:
            token.revoke()
            audit_record(
                actor=actor,
                action="site_token.revoke",
                obj=token,
                from_state="active",
                to_state="revoked",
                details={"site": site.pk},
            )
    return token


# --- customer onboarding: a site of one's own and its admins -------------------------------


def site_register(*, actor: Any, name: str, host_product: Any, host_version: str = "", time_zone: str = "UTC") -> Site:
    """A verified user registers their site and becomes its first admin."""
    from django.core.exceptions import ValidationError

    from upgrades.models import validate_time_zone

    require_verified_email(actor, action="register a site")
    name, host_version = (name or "").strip(), (host_version or "").strip()
    if not name:
        raise ApplicationError("Site name is required.", field="name")
    if len(name) > 120:
        raise ApplicationError("Site name: at most 120 characters.", field="name")
    if host_product is None:
        raise ApplicationError("Choose the product your site runs.", field="host_product")
    if len(host_version) > 40:
        raise ApplicationError("Product version: at most 40 characters (for example 9.12.4).", field="host_version")
    try:
        validate_time_zone(time_zone or "")
    except ValidationError as exc:
        raise ApplicationError(exc.messages[0], field="time_zone") from None
    with transaction.atomic():
        site = Site.objects.create(name=name, host_product=host_product, host_version=host_version, time_zone=time_zone)
        admin_row = SiteAdmin.objects.create(site=site, user=actor, email=actor.email.lower())
        audit_record(actor=actor, action="site.create", obj=site, to_state="registered")
        audit_record(actor=actor, action="site_admin.add", obj=admin_row, to_state="admin", details={"site": site.pk})
    return site


def site_invitation_create(*, actor: Any, site: Site, email: str) -> SiteInvitation:
    from django.core.exceptions import ValidationError
    from django.core.validators import validate_email

    require_site_admin(actor, site)
    require_verified_email(actor, action="invite people")
    email = (email or "").strip().lower()
    try:
        validate_email(email)
    except ValidationError:
        raise ApplicationError(f"{email!r} is not an e-mail address.", field="email") from None
    if SiteAdmin.objects.filter(site=site, email__iexact=email).exists():
        raise ApplicationError(f"{email} is already an admin of {site.name}.", field="email")
    raw, digest = invitation_secret()
    try:
        with transaction.atomic():
            invitation = SiteInvitation.objects.create(
                site=site,
                email=email,
                digest=digest,
                invited_by=actor,
                expires_at=timezone.now() + invitation_max_age(),
            )
            audit_record(actor=actor, action="site_invitation.create", obj=invitation, to_state="pending")
            link_token = invitation_link_token(raw, kind="site")
            # Kept on the object for the caller (demo data prints it); only its digest is stored.
            invitation.link_token = link_token
            transaction.on_commit(partial(tasks.send_site_invitation.delay, invitation.pk, link_token))
    except IntegrityError:
        raise ApplicationError(
            f"{email} already has an open invitation to {site.name}: revoke it first to send a new one.", field="email"
        ) from None
    return invitation


def site_invitation_send(*, invitation_id: int, link_token: str) -> SiteInvitation | None:
    invitation = SiteInvitation.objects.filter(pk=invitation_id).select_related("site", "invited_by").first()
    if invitation is None:
        return None

    def claim() -> SiteInvitation | None:
        return (
            SiteInvitation.objects.select_for_update()
            .filter(pk=invitation_id, sent_at__isnull=True, accepted_at__isnull=True, revoked_at__isnull=True)
            .first()
        )

    def mark_sent(locked: SiteInvitation) -> None:
        locked.sent_at = timezone.now()
        locked.save(update_fields=["sent_at"])

    return send_email_once(
        claim=claim,
        to=[invitation.email],
        subject=f"Administer {invitation.site.name} on the App Marketplace",
        template="emails/invitation",
        context=emails.site_invitation_context(invitation, link_token),
        mark_sent=mark_sent,
    )


def site_invitation_get_by_link(*, link_token: str) -> SiteInvitation:
    return invitation_from_link(SiteInvitation.objects.select_related("site"), link_token, kind="site")


def site_invitation_accept(*, user: Any, link_token: str) -> SiteAdmin:
    with transaction.atomic():
        invitation = invitation_from_link(
            SiteInvitation.objects.select_for_update(of=("self",)).select_related("site"), link_token, kind="site"
        )
        site = invitation.site
        invitation_check_open(invitation, user=user, target=site.name)
        if SiteAdmin.objects.filter(site=site).filter(Q(user=user) | Q(email__iexact=invitation.email)).exists():
            raise Conflict(f"You are already an admin of {site.name}.", field="token")
        admin_row = SiteAdmin.objects.create(site=site, user=user, email=invitation.email)
        invitation.accepted_at, invitation.accepted_by = timezone.now(), user
        invitation.save(update_fields=["accepted_at", "accepted_by"])
        audit_record(
            actor=user, action="site_invitation.accept", obj=invitation, from_state="pending", to_state="accepted"
        )
        audit_record(actor=user, action="site_admin.add", obj=admin_row, to_state="admin", details={"site": site.pk})
    return admin_row


def site_invitation_revoke(*, actor: Any, site: Site, invitation_id: int) -> SiteInvitation:
    with transaction.atomic():
        require_site_admin(actor, site)
        invitation = SiteInvitation.objects.select_for_update().filter(pk=invitation_id, site=site).first()
        if invitation is None:
            raise NotFound("No such invitation for this site.")
        if invitation.state != "pending":
            raise Conflict(f"This invitation is {invitation.get_state_display().lower()}: there is nothing to revoke.")
        invitation.revoked_at = timezone.now()
        invitation.save(update_fields=["revoked_at"])
        audit_record(
            actor=actor, action="site_invitation.revoke", obj=invitation, from_state="pending", to_state="revoked"
        )
    return invitation


def site_update_settings(*, site: Site, actor: Any, auto_update: bool, maintenance_windows: Any) -> Site:
    """A site admin turns automatic updates on or off and sets the weekly maintenance windows."""
    require_site_admin(actor, site)
    cleaned = windows.clean_windows(maintenance_windows)
    with transaction.atomic():
        locked = Site.objects.select_for_update().get(pk=site.pk)
        changes = {
            name: {"from": getattr(locked, name), "to": value}
            for name, value in (("auto_update", bool(auto_update)), ("maintenance_windows", cleaned))
            if getattr(locked, name) != value
        }
        site.auto_update = bool(auto_update)
        site.maintenance_windows = cleaned
        site.save(update_fields=["auto_update", "maintenance_windows"])
        if changes:
            audit_record(
                actor=actor,
                action="site.update_settings",
                obj=site,
                object_repr=site.name,
                from_state=_auto_update_state(locked.auto_update),
                to_state=_auto_update_state(site.auto_update),
                details={"changes": changes},
            )
    return site


def _auto_update_state(on: bool) -> str:
    return "auto_update_on" if on else "auto_update_off"


def site_set_maintenance_windows(*, site: Site, actor: Any, windows_: Any) -> Site:
    return site_update_settings(site=site, actor=actor, auto_update=site.auto_update, maintenance_windows=windows_)


def installation_create(
    *,
    site: Site,
    listing: Listing,
    version: Version,
    granted_scopes: Iterable[str] | None = None,
    license: str | None = None,
    actor: Any = None,
) -> Installation:
    """Install a listing on a site (the portal records it; demo data and tests use this).

    An OCP -dev version is refused on any site but its vendor's sandbox, as on every other
    path (versions.policies.sandbox_refusal).
    """
    if version.listing_id != listing.pk:
        raise ApplicationError(f"Version {version.number} is not a version of {listing.key}.", field="version")
    if version.state not in RELEASED_STATES:
        raise ApplicationError(f"{version} is not released: only published versions can be installed.", field="version")
    refusal = policies.sandbox_refusal(
        scheme=listing.scheme,
        channel=version.channel,
        listing_vendor_id=listing.vendor_id,
        site_sandbox_vendor_id=site.sandbox_vendor_id,
    )
    if refusal:
        raise ApplicationError(
            f"{version} can't be installed on {site.name}: {refusal}; nothing changed.", field="site"
        )
    with transaction.atomic():
        installation, created = Installation.objects.get_or_create(
            site=site,
            listing=listing,
            defaults={
                "version": version,
                "granted_scopes": sorted(version.scopes if granted_scopes is None else granted_scopes),
                "license": license or version.pricing,
            },
        )
        if created:
            audit_record(
                actor=actor,
                action="installation.install",
                obj=installation,
                object_repr=listing.name,
                to_state=installation.state,
                details={"version": version.number},
            )
            lifecycle_event_enqueue(installation=installation, event="installed", actor=actor)
    return installation
