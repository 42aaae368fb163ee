"""OCP beta share links: the vendor makes and revokes them; a site admin installs through one.

DESIGN.md section 5: an OCP version tagged -beta.N is reviewed and installable
only through a signed share link. Once a site runs a beta, newer betas of the
listing reach it through the normal rollout (policies.version_in_audience lets
channel beta reach installations already on it).
"""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

from django.db import transaction
from django.utils import timezone

from core.errors import ApplicationError, NotFound
from core.services import audit_record
from marketplace.models import Listing
from marketplace.permissions import require_vendor_member
from upgrades.models import (
    BetaInstall,
    BetaShareLink,
    Installation,
    Rollout,
    RolloutState,
    Site,
    Upgrade,
)
from upgrades.permissions import is_site_admin
from upgrades.services._common import installation_create_active
from upgrades.services.callbacks import lifecycle_event_enqueue
from upgrades.services.consent import (
    installation_upgrade_now,
)
from upgrades.share_links import beta_link_unsign
from versions import policies
from versions.models import State as VersionState
from versions.models import Version

BETA_LINK_DEFAULT_DAYS = 30
BETA_LINK_MAX_DAYS = 365


def _when(moment) -> str:
    return timezone.localtime(moment).strftime("%Y-%m-%d %H:%M %Z")


def beta_share_link_create(
    *, version: Version, actor: Any, expires_in_days: int | str | None = BETA_LINK_DEFAULT_DAYS
) -> BetaShareLink:
    """A new signed share link to a published OCP beta version, valid for `expires_in_days` days."""
    require_vendor_member(actor, version.listing.vendor_id)
    raw_days = BETA_LINK_DEFAULT_DAYS if expires_in_days in (None, "") else expires_in_days
    try:
        days = int(raw_days)
    except (TypeError, ValueError):
        days = 0
    if isinstance(raw_days, bool) or not 1 <= days <= BETA_LINK_MAX_DAYS:
        raise ApplicationError(
            f"Expires in: give a whole number of days from 1 to {BETA_LINK_MAX_DAYS} (got {raw_days!r}).",
            field="expires_in_days",
        )
    with transaction.atomic():
        # Re-read under lock: a version superseded a moment ago gets no new link.
        version = Version.objects.select_for_update(of=("self",)).select_related("listing").get(pk=version.pk)
        refusal = policies.beta_link_refusal(version)
        if refusal:
            raise ApplicationError(refusal, field="version")
        now = timezone.now()
        link = BetaShareLink.objects.create(
            version=version,
            nonce=uuid.uuid4(),
            created_by=actor if getattr(actor, "is_authenticated", False) else None,
            expires_at=now + timedelta(days=days),
        )
        _link_audit(link, "create", actor=actor, to_state=LINK_ACTIVE, expires_at=link.expires_at.isoformat())
        return link


# A share link's "state" in its audit rows (the table has revoked_at and expires_at).
LINK_ACTIVE, LINK_REVOKED = "active", "revoked"


def _link_audit(link: BetaShareLink, action: str, *, actor: Any, from_state: str = "", to_state: str = "", **details):
    audit_record(
        actor=actor,
        action=f"beta_link.{action}",
        obj=link,
        object_repr=f"{link.version.listing.key}@{link.version.number}",
        from_state=from_state,
        to_state=to_state,
        details={"version_id": link.version_id, **details},
    )


def beta_share_link_revoke(*, link: BetaShareLink, actor: Any) -> BetaShareLink:
    """Stop a link from installing anything more (installations made through it stay).

    Revoking a revoked link changes nothing: the first revocation is kept.
    """
    with transaction.atomic():
        link = (
            BetaShareLink.objects.select_for_update(of=("self",))
            .select_related("version__listing")
            .filter(pk=link.pk)
            .first()
        )
        if link is None:
            raise NotFound("No such share link.")
        require_vendor_member(actor, link.version.listing.vendor_id)
        if link.revoked_at is None:
            link.revoked_at = timezone.now()
            link.revoked_by = actor if getattr(actor, "is_authenticated", False) else None
            link.save(update_fields=["revoked_at", "revoked_by"])
            _link_audit(link, "revoke", actor=actor, from_state=LINK_ACTIVE, to_state=LINK_REVOKED)
    return link


def beta_link_check(*, link_token: str, now=None) -> BetaShareLink:
    """The link a token stands for, if it can still install; otherwise exactly why not (nothing changes)."""
    link_id, nonce = beta_link_unsign(link_token)
    link = (
        BetaShareLink.objects.select_related("version__listing__vendor", "created_by")
        .filter(pk=link_id, nonce=nonce)
        .first()
    )
    if link is None:
        raise ApplicationError(
            "This beta link does not exist (any more). Ask the vendor for a new one.", field="token", code="not_found"
        )
    now = now or timezone.now()
    version = link.version
    if link.revoked_at is not None:
        raise ApplicationError(
            f"The vendor revoked this link to {version.listing.name} {version.number} on {_when(link.revoked_at)}; "
            "ask them for a new one.",
            field="token",
            code="link_revoked",
        )
    if link.expires_at <= now:
        raise ApplicationError(
            f"This link to {version.listing.name} {version.number} expired on {_when(link.expires_at)}; "
            "ask the vendor for a new one.",
            field="token",
            code="link_expired",
        )
    yank = getattr(version, "yank", None) if version.state == VersionState.PUBLISHED else None
    if yank is not None:  # issue #16: a yanked version is installable by nobody, share links included
        raise ApplicationError(
            policies.yank_refusal(name=version.listing.name, number=version.number, yanked=True)
            + f" The vendor's reason: {yank.reason}",
            field="version",
            code="version_yanked",
        )
    if version.state != VersionState.PUBLISHED or version.listing.archived_at is not None:
        newer = ""
        if version.state == VersionState.SUPERSEDED:
            newer = " (a newer beta replaced it: ask the vendor for a link to that one)"
        raise ApplicationError(
            f"{version.listing.name} {version.number} is no longer published{newer}, so it can't be installed.",
            field="version",
            code="version_unavailable",
        )
    return link


def private_listing_allows(listing: Listing, site: Site) -> bool:
    if listing.visibility != Listing.Visibility.PRIVATE:
        return True
    return listing.allowed_sites.filter(pk=site.pk).exists()


def beta_install(*, link_token: str, site: Site | int, actor: Any) -> BetaInstall:
    """Install the link's beta on a site, or upgrade the site's older version of the listing to it.

    The admin pressed Install on a page that listed the version's scopes and
    price: that is their consent, recorded on the BetaInstall row (and, when
    the consent rules ask for it, as an approved upgrade request). The site row
    is locked, so two presses at once install once: the second one finds the
    beta installed and is refused.
    """
    site_id = site if isinstance(site, int) else site.pk
    # Only the site's own admins consent for it (not marketplace staff), and an
    # unknown site looks exactly like one the user does not administer.
    if not is_site_admin(actor, site_id):
        raise NotFound("No such site among the sites you administer.", field="site")
    now = timezone.now()
    with transaction.atomic():
        site = Site.objects.select_for_update(of=("self",)).select_related("host_product").get(pk=site_id)
        link = beta_link_check(link_token=link_token, now=now)
        version, listing = link.version, link.version.listing
        installation = (
            Installation.objects.select_for_update(of=("self",))
            .select_related("version")
            .filter(site_id=site.pk, listing_id=listing.pk)
            .first()
        )
        rollout = Rollout.objects.filter(version_id=version.pk).only("id", "state").first()
        refusal = policies.beta_site_refusal(
            version,
            site,
            installation,
            site_allowed=private_listing_allows(listing, site),
            rollout_halted=rollout is not None and rollout.state == RolloutState.HALTED,
            listing_products=dict(listing.host_products.values_list("key", "name")),
        )
        if refusal is not None:
            raise refusal
        record = BetaInstall(
            link=link,
            version=version,
            installed_by=actor,
            installed_by_email=getattr(actor, "email", "") or "",
            granted_scopes=sorted(version.scopes),
            license=version.pricing,
        )
        if installation is None:
            installation = installation_create_active(
                site=site, listing=listing, version=version, actor=actor, details={"beta_link_id": link.pk}, now=now
            )
            lifecycle_event_enqueue(installation=installation, event="installed", actor=actor, now=now)
        else:
            record.from_version = installation.version
            record.consent_reasons, record.upgrade = _upgrade_to_beta(installation, version, rollout, actor, now)
            installation.refresh_from_db()  # the upgrade moved it with a bulk UPDATE
        record.installation = installation
        record.save()
        # The vendor's side of it: their link was used (the site's side is the installation's row).
        _link_audit(
            link,
            "install",
            actor=actor,
            from_state=LINK_ACTIVE,
            to_state=LINK_ACTIVE,
            installation_id=installation.pk,
            from_version=record.from_version.number if record.from_version else "",
        )
    return record


def _upgrade_to_beta(
    installation: Installation, version: Version, rollout: Rollout | None, actor: Any, now
) -> tuple[list[dict], Upgrade]:
    """Move a locked installation to the beta at once (the press on the link's page is the consent)."""
    return installation_upgrade_now(
        installation=installation,
        version=version,
        rollout=rollout,
        actor=actor,
        now=now,
        replaced_by=f"replaced by the beta {version.number}",
        outcome=f"installed {version.number} through a beta share link",
        beta=True,
    )
