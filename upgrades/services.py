"""Every write on sites, installations, rollouts, upgrades and consent.

Rollouts are set-based: a chunk of installations is read with one query, the
consent rules (upgrades.policies) are applied in memory, and the outcome is
written with a handful of bulk statements whatever the chunk's size (no query
per installation). Tasks (upgrades.tasks) call these functions and are safe to
run twice: what was already done is filtered out by the queries themselves and
guarded by the partial unique constraints (one scheduled upgrade and one open
request per installation).
"""

from __future__ import annotations

import hashlib
import secrets
import uuid
from collections import defaultdict
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.core import signing
from django.db import transaction
from django.db.models import Exists, F, OuterRef, QuerySet
from django.utils import timezone
from django_fsm import can_proceed

from marketplace.errors import ApplicationError, NotFound, TransitionNotAllowed
from marketplace.models import Listing
from marketplace.permissions import require_vendor_member_or_staff
from marketplace.selectors import scope_catalogue
from upgrades import policies, windows
from upgrades.emails import CONSENT_LINK_SALT
from upgrades.models import (
    ConsentLink,
    Installation,
    InstallationState,
    RequestState,
    Rollout,
    RolloutState,
    Site,
    SiteAdmin,
    SiteToken,
    Upgrade,
    UpgradeRequest,
    UpgradeState,
)
from upgrades.permissions import require_site_admin
from versions.models import State as VersionState
from versions.models import Version
from versions.schemes import OCP, OCP_PRIVATE

OCP_HOOKS = ("onUpgrade", "onFinalizeUpgrade")


def _on_commit_delay(task_path: str, *args: Any) -> None:
    """Enqueue a task of this app after the surrounding transaction commits."""

    def enqueue() -> None:
        from upgrades import tasks

        getattr(tasks, task_path).delay(*args)

    transaction.on_commit(enqueue)


# --- sites ---------------------------------------------------------------------------------


def site_token_digest(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def site_token_create(*, site: Site, name: str = "") -> tuple[SiteToken, str]:
    """A new API token for a customer instance; the raw token is returned once and never stored."""
    raw = secrets.token_urlsafe(32)
    token = SiteToken.objects.create(site=site, name=name[:80], prefix=raw[:8], digest=site_token_digest(raw))
    return token, raw


def site_set_maintenance_windows(*, site: Site, actor: Any, windows_: Any) -> Site:
    require_site_admin(actor, site)
    site.maintenance_windows = windows.clean_windows(windows_)
    site.save(update_fields=["maintenance_windows"])
    return site


def installation_create(
    *,
    site: Site,
    listing: Listing,
    version: Version,
    granted_scopes: Iterable[str] | None = None,
    license: str | None = None,
) -> Installation:
    """Install a listing on a site (the portal records it; demo data and tests use this)."""
    if version.listing_id != listing.pk:
        raise ApplicationError(f"Version {version.number} is not a version of {listing.key}.", field="version")
    if version.state not in (VersionState.PUBLISHED, VersionState.SUPERSEDED):
        raise ApplicationError(f"{version} is not released: only published versions can be installed.", field="version")
    installation, _ = Installation.objects.get_or_create(
        site=site,
        listing=listing,
        defaults={
            "version": version,
            "granted_scopes": sorted(version.scopes if granted_scopes is None else granted_scopes),
            "license": license or version.pricing,
        },
    )
    return installation


# --- rollouts --------------------------------------------------------------------------------


def rollout_start(*, version_id: int) -> Rollout | None:
    """Create the version's rollout (once) and start processing it in chunks."""
    version = Version.objects.select_related("listing").filter(pk=version_id).first()
    if version is None or version.state != VersionState.PUBLISHED:
        return None  # already superseded: the newer version's rollout does the work
    with transaction.atomic():
        rollout, created = Rollout.objects.get_or_create(version=version, defaults={"listing": version.listing})
        if created:
            # Older rollouts of the same channel stop here; their open work is superseded chunk by chunk.
            Rollout.objects.filter(
                listing_id=version.listing_id,
                version__channel=version.channel,
                state__in=[RolloutState.RUNNING, RolloutState.HALTED, RolloutState.COMPLETED],
            ).exclude(pk=rollout.pk).update(state=RolloutState.SUPERSEDED, finished_at=timezone.now())
        if rollout.state == RolloutState.RUNNING:
            _on_commit_delay("rollout_process", rollout.pk)
    return rollout


def reaches(version: Version, listing: Listing, installation: Installation, allowed_site_ids: set[int]) -> bool:
    """Audience and host compatibility of `version` for one installation (policies.py holds the rules)."""
    site = installation.site
    return policies.version_in_audience(
        scheme=listing.scheme,
        channel=version.channel,
        listing_private=listing.visibility == Listing.Visibility.PRIVATE,
        listing_vendor_id=listing.vendor_id,
        site_sandbox_vendor_id=site.sandbox_vendor_id,
        site_allowed=site.pk in allowed_site_ids,
        installed_channel=installation.version.channel,
    ) and policies.host_compatible(version.compatibility, site.host_product.key, site.host_version)


def _needs_allowed(version: Version, listing: Listing) -> bool:
    return listing.visibility == Listing.Visibility.PRIVATE or (
        listing.scheme == OCP and version.channel == OCP_PRIVATE
    )


def _rollout_candidates(rollout: Rollout) -> QuerySet[Installation]:
    version, listing = rollout.version, rollout.listing
    return (
        Installation.objects.filter(listing_id=listing.pk, pk__gt=rollout.cursor)
        .exclude(state=InstallationState.DEACTIVATED)
        .filter(version__sort_key__lt=version.sort_key)
        .exclude(Exists(Upgrade.objects.filter(installation=OuterRef("pk"), to_version=version)))
        .exclude(Exists(UpgradeRequest.objects.filter(installation=OuterRef("pk"), to_version=version)))
        .select_related("site__host_product", "version")
        .order_by("pk")
    )


def _spread(installation_id: int, window: timedelta) -> timedelta:
    """A stable place for the installation inside the auto-update window (spreads the load)."""
    if not window:
        return timedelta(0)
    return timedelta(seconds=window.total_seconds() * ((installation_id * 2654435761) % 1000) / 1000)


def upgrade_due_for(site: Site, installation_id: int, now: datetime) -> datetime:
    wanted = now + _spread(installation_id, settings.UPGRADE_AUTO_WINDOW)
    return windows.upgrade_due_at(
        wanted, site.maintenance_windows or [], site.time_zone, settings.UPGRADE_MAINTENANCE_MAX_DELAY
    )


def consent_reasons(
    installation: Installation, version: Version, listing: Listing, catalogue: dict[str, int]
) -> list[dict]:
    """Why this installation's admins must act before `version` is installed (empty: automatic)."""
    installed = policies.Snapshot(installation.version.number, tuple(installation.granted_scopes), installation.license)
    reasons = [r.as_dict() for r in policies.upgrade_requires_consent(installed, version, listing, catalogue=catalogue)]
    if not reasons and not installation.site.auto_update:
        reasons.append({"code": policies.AUTO_UPDATE_OFF, "text": "automatic updates are turned off for this site"})
    return reasons


def rollout_process_chunk(*, rollout_id: int, now: datetime | None = None) -> int:
    """Offer the rollout's version to the next chunk of installations; returns how many were looked at.

    One chunk costs a fixed number of queries: lock the rollout, read the
    chunk, supersede older open work, bulk-create upgrades and requests, flag
    the installations, move the cursor. 0 means the rollout is done (or halted).
    """
    now = now or timezone.now()
    with transaction.atomic():
        rollout = (
            Rollout.objects.select_for_update(of=("self",))
            .select_related("version", "listing")
            .filter(pk=rollout_id)
            .first()
        )
        if rollout is None or rollout.state != RolloutState.RUNNING:
            return 0
        version, listing = rollout.version, rollout.listing
        if version.state != VersionState.PUBLISHED:
            rollout.supersede()
            rollout.save()
            return 0
        chunk = list(_rollout_candidates(rollout)[: settings.ROLLOUT_CHUNK_SIZE])
        if not chunk:
            rollout.complete()
            rollout.save()
            return 0
        catalogue = scope_catalogue()
        allowed: set[int] = set()
        if _needs_allowed(version, listing):
            chunk_sites = {i.site_id for i in chunk}
            allowed = set(listing.allowed_sites.filter(pk__in=chunk_sites).values_list("pk", flat=True))
        new_upgrades: list[Upgrade] = []
        new_requests: list[UpgradeRequest] = []
        for installation in chunk:
            if not reaches(version, listing, installation, allowed):
                continue
            reasons = consent_reasons(installation, version, listing, catalogue)
            common = {
                "installation": installation,
                "rollout": rollout,
                "from_version_id": installation.version_id,
                "to_version": version,
            }
            if reasons:
                new_requests.append(UpgradeRequest(reasons=reasons, **common))
            else:
                due = upgrade_due_for(installation.site, installation.pk, now)
                new_upgrades.append(Upgrade(due_at=due, **common))
        offered = [u.installation_id for u in new_upgrades] + [r.installation_id for r in new_requests]
        if offered:
            # A newer version supersedes what is still open for an older one.
            Upgrade.objects.filter(installation_id__in=offered, state=UpgradeState.SCHEDULED).update(
                state=UpgradeState.SUPERSEDED, outcome=f"superseded by {version.number}"
            )
            UpgradeRequest.objects.filter(installation_id__in=offered, state=RequestState.PENDING).update(
                state=RequestState.SUPERSEDED, decided_at=now
            )
        if new_upgrades:
            Upgrade.objects.bulk_create(new_upgrades)
            Installation.objects.filter(
                pk__in=[u.installation_id for u in new_upgrades], state=InstallationState.PENDING_CONSENT
            ).update(state=InstallationState.ACTIVE, updated_at=now)
        if new_requests:
            UpgradeRequest.objects.bulk_create(new_requests)
            Installation.objects.filter(pk__in=[r.installation_id for r in new_requests]).update(
                state=InstallationState.PENDING_CONSENT, updated_at=now
            )
        Rollout.objects.filter(pk=rollout.pk).update(
            targeted=F("targeted") + len(offered), chunks_processed=F("chunks_processed") + 1, cursor=chunk[-1].pk
        )
        request_ids = [r.pk for r in new_requests]
        if request_ids:
            _on_commit_delay("send_upgrade_request_emails", request_ids)
        if any(u.due_at <= now for u in new_upgrades):
            _on_commit_delay("upgrade_apply_due")
        _on_commit_delay("rollout_process", rollout.pk)
    return len(chunk)


def rollout_halt(*, rollout: Rollout, actor: Any) -> Rollout:
    """Stop scheduling and applying (consent requests already sent stay open)."""
    with transaction.atomic():
        rollout = (
            Rollout.objects.select_for_update(of=("self",)).select_related("listing", "version").get(pk=rollout.pk)
        )
        require_vendor_member_or_staff(actor, rollout.listing.vendor_id)
        if not can_proceed(rollout.halt):
            raise TransitionNotAllowed(
                f"The rollout of {rollout.version.number} is {rollout.state}: only a running rollout can be halted."
            )
        rollout.halt(actor)
        rollout.save()
    return rollout


def rollout_resume(*, rollout: Rollout, actor: Any) -> Rollout:
    with transaction.atomic():
        rollout = (
            Rollout.objects.select_for_update(of=("self",)).select_related("listing", "version").get(pk=rollout.pk)
        )
        require_vendor_member_or_staff(actor, rollout.listing.vendor_id)
        if not can_proceed(rollout.resume):
            raise TransitionNotAllowed(
                f"The rollout of {rollout.version.number} is {rollout.state}: only a halted rollout can be resumed."
            )
        rollout.resume()
        rollout.save()
        _on_commit_delay("rollout_process", rollout.pk)
        _on_commit_delay("upgrade_apply_due")
    return rollout


# --- applying upgrades ---------------------------------------------------------------------


def _apply(upgrades: list[Upgrade], now: datetime) -> list[int]:
    """Apply locked, scheduled upgrades: a fixed number of statements per target version."""
    by_version: dict[int, list[Upgrade]] = defaultdict(list)
    for upgrade in upgrades:
        by_version[upgrade.to_version_id].append(upgrade)
    applied: list[int] = []
    for group in by_version.values():
        version = group[0].to_version
        hooks = []
        if version.listing.scheme == OCP:
            hooks = [{"hook": name, "at": now.isoformat(), "to": version.number, "outcome": "ok"} for name in OCP_HOOKS]
        installation_ids = [u.installation_id for u in group]
        Installation.objects.filter(pk__in=installation_ids).update(
            version_id=version.pk,
            granted_scopes=sorted(version.scopes),
            license=version.pricing,
            state=InstallationState.ACTIVE,
            updated_at=now,
        )
        ids = [u.pk for u in group]
        Upgrade.objects.filter(pk__in=ids, state=UpgradeState.SCHEDULED).update(
            state=UpgradeState.APPLIED, applied_at=now, outcome=f"installed {version.number}", hooks=hooks
        )
        applied.extend(ids)
    if applied:
        _on_commit_delay("send_upgrade_applied_emails", applied)
    return applied


def upgrades_apply_due(*, now: datetime | None = None, limit: int | None = None) -> int:
    """Apply every scheduled upgrade whose time has come (halted rollouts wait); returns how many."""
    now = now or timezone.now()
    limit = limit or settings.ROLLOUT_CHUNK_SIZE
    with transaction.atomic():
        due = list(
            Upgrade.objects.select_for_update(skip_locked=True, of=("self",))
            .filter(state=UpgradeState.SCHEDULED, due_at__lte=now)
            .exclude(rollout__state=RolloutState.HALTED)
            .select_related("to_version__listing")
            .order_by("due_at", "pk")[:limit]
        )
        applied = _apply(due, now)
        if len(due) == limit:
            _on_commit_delay("upgrade_apply_due")
    return len(applied)


def upgrade_apply(*, upgrade_id: int, now: datetime | None = None) -> Upgrade | None:
    """Apply one upgrade now; applying it again changes nothing."""
    now = now or timezone.now()
    with transaction.atomic():
        upgrade = (
            Upgrade.objects.select_for_update(of=("self",))
            .select_related("to_version__listing")
            .filter(pk=upgrade_id)
            .first()
        )
        if upgrade is None or upgrade.state != UpgradeState.SCHEDULED:
            return upgrade
        _apply([upgrade], now)
        upgrade.refresh_from_db()
    return upgrade


# --- consent ------------------------------------------------------------------------------


def _lock_request(request_id: int) -> UpgradeRequest:
    request = (
        UpgradeRequest.objects.select_for_update(of=("self",))
        .select_related(
            "installation__site", "installation__listing", "to_version", "from_version", "rollout", "decided_by"
        )
        .filter(pk=request_id)
        .first()
    )
    if request is None:
        raise NotFound("No such upgrade request.")
    return request


def closed_request_message(request: UpgradeRequest) -> str:
    when = timezone.localtime(request.decided_at).strftime("%Y-%m-%d %H:%M %Z") if request.decided_at else ""
    to = request.to_version.number
    if request.state == RequestState.APPROVED:
        return f"The upgrade to {to} was already approved by {request.decider_label} on {when}; nothing changed."
    if request.state == RequestState.REJECTED:
        return f"The upgrade to {to} was already rejected by {request.decider_label} on {when}; nothing changed."
    if request.state == RequestState.SUPERSEDED:
        return f"The upgrade to {to} was replaced by a newer version; use the newest e-mail or the site's page."
    if request.state == RequestState.EXPIRED:
        return f"The request to upgrade to {to} expired on {when}; the site's page still offers the upgrade."
    return f"This request is {request.state}."


def _check_decidable(request: UpgradeRequest) -> None:
    if request.state != RequestState.PENDING:
        raise TransitionNotAllowed(closed_request_message(request))


def upgrade_request_approve(*, request_id: int, actor: Any = None, email: str = "", via_link: bool = False) -> Upgrade:
    """Approve and apply at once; the approver is recorded on the request and the upgrade."""
    now = timezone.now()
    with transaction.atomic():
        request = _lock_request(request_id)
        if not via_link:
            require_site_admin(actor, request.installation.site_id)
        _check_decidable(request)
        if request.rollout_id and request.rollout.state == RolloutState.HALTED:
            raise TransitionNotAllowed(
                f"The vendor has paused the rollout of {request.to_version.number}; nothing changed. Try again later."
            )
        installation = Installation.objects.select_for_update().get(pk=request.installation_id)
        request.approve(actor, email)
        request.save()
        Upgrade.objects.filter(installation=installation, state=UpgradeState.SCHEDULED).update(
            state=UpgradeState.SUPERSEDED, outcome=f"replaced by the approved upgrade to {request.to_version.number}"
        )
        upgrade = Upgrade.objects.create(
            installation=installation,
            rollout=request.rollout,
            request=request,
            from_version_id=installation.version_id,
            to_version=request.to_version,
            due_at=now,
            approved_by=actor if getattr(actor, "is_authenticated", False) else None,
        )
        upgrade.to_version = request.to_version
        _apply([upgrade], now)
        upgrade.refresh_from_db()
    return upgrade


def upgrade_request_reject(
    *, request_id: int, actor: Any = None, email: str = "", via_link: bool = False
) -> UpgradeRequest:
    """Keep the old version; the installation goes on working as before."""
    with transaction.atomic():
        request = _lock_request(request_id)
        if not via_link:
            require_site_admin(actor, request.installation.site_id)
        _check_decidable(request)
        request.reject(actor, email)
        request.save()
        Installation.objects.filter(pk=request.installation_id, state=InstallationState.PENDING_CONSENT).update(
            state=InstallationState.ACTIVE, updated_at=timezone.now()
        )
    return request


def consent_link_check(*, request_id: int, token: str) -> ConsentLink:
    """The link a token stands for, or ApplicationError saying exactly why not (nothing changes)."""
    try:
        payload = signing.loads(token, salt=CONSENT_LINK_SALT, max_age=settings.UPGRADE_LINK_MAX_AGE)
    except signing.SignatureExpired:
        days = settings.UPGRADE_LINK_MAX_AGE.days
        raise ApplicationError(
            f"This link has expired: approval links are valid for {days} days. Sign in to the portal to decide on the upgrade.",
            field="token",
            code="link_expired",
        ) from None
    except signing.BadSignature:
        raise ApplicationError(
            "This link is not valid: it was changed or cut short. Open the link exactly as it is in the e-mail.",
            field="token",
            code="link_invalid",
        ) from None
    if not isinstance(payload, dict) or payload.get("r") != request_id:
        raise ApplicationError("This link belongs to a different upgrade request.", field="token", code="link_foreign")
    try:
        nonce = uuid.UUID(hex=str(payload.get("l")))
    except ValueError:
        raise ApplicationError("This link is not valid.", field="token", code="link_invalid") from None
    link = (
        ConsentLink.objects.select_related("request__installation").filter(nonce=nonce, request_id=request_id).first()
    )
    if link is None or link.email != payload.get("e"):
        raise ApplicationError(
            "This link was issued to another recipient: use the link from your own e-mail.",
            field="token",
            code="link_foreign",
        )
    if not SiteAdmin.objects.filter(site_id=link.request.installation.site_id, email__iexact=link.email).exists():
        raise ApplicationError(
            f"{link.email} is no longer an admin of this site, so this link can't approve or reject anything.",
            field="token",
            code="link_foreign",
        )
    return link


def consent_link_use(*, request_id: int, token: str, action: str, actor: Any = None) -> UpgradeRequest:
    """Approve or reject through an e-mailed link: once, by the recipient it was sent to."""
    if action not in ("approve", "reject"):
        raise ApplicationError("Choose Approve or Reject.", field="action")
    with transaction.atomic():
        link = consent_link_check(request_id=request_id, token=token)
        link = ConsentLink.objects.select_for_update().get(pk=link.pk)
        if link.used_at is not None:
            when = timezone.localtime(link.used_at).strftime("%Y-%m-%d %H:%M %Z")
            raise TransitionNotAllowed(
                f"This link was already used on {when} (to {link.used_for}); each link works once. Nothing changed.",
                field="token",
            )
        decider = actor if getattr(actor, "is_authenticated", False) else None
        if action == "approve":
            upgrade_request_approve(request_id=request_id, actor=decider, email=link.email, via_link=True)
        else:
            upgrade_request_reject(request_id=request_id, actor=decider, email=link.email, via_link=True)
        link.used_at = timezone.now()
        link.used_for = action
        link.save(update_fields=["used_at", "used_for"])
    return UpgradeRequest.objects.select_related("installation__version", "to_version").get(pk=request_id)


def installation_upgrade(*, installation_id: int, actor: Any) -> Upgrade:
    """The customer admin's manual "Upgrade" (OCP major upgrades, expired or rejected requests, auto-update off)."""
    from upgrades.selectors import installation_update

    installation = (
        Installation.objects.select_related("site__host_product", "listing", "version")
        .filter(pk=installation_id)
        .first()
    )
    if installation is None:
        raise NotFound("No such installation.")
    require_site_admin(actor, installation.site_id)
    offer = installation_update(installation)
    if offer is None:
        raise ApplicationError(
            f"{installation.listing.name} {installation.version.number} is the newest version this site can run.",
            field="installation",
        )
    with transaction.atomic():
        pending = (
            UpgradeRequest.objects.select_for_update()
            .filter(installation_id=installation.pk, state=RequestState.PENDING, to_version=offer["version"])
            .first()
        )
        if pending is not None:
            return upgrade_request_approve(request_id=pending.pk, actor=actor)
        locked = Installation.objects.select_for_update().get(pk=installation.pk)
        if locked.version_id != installation.version_id:
            raise TransitionNotAllowed("The installation changed meanwhile; reload the page.")
        UpgradeRequest.objects.filter(installation=locked, state=RequestState.PENDING).update(
            state=RequestState.SUPERSEDED, decided_at=timezone.now()
        )
        Upgrade.objects.filter(installation=locked, state=UpgradeState.SCHEDULED).update(
            state=UpgradeState.SUPERSEDED, outcome="replaced by a manual upgrade"
        )
        upgrade = Upgrade.objects.create(
            installation=locked,
            rollout=Rollout.objects.filter(version=offer["version"]).first(),
            from_version_id=locked.version_id,
            to_version=offer["version"],
            due_at=timezone.now(),
            approved_by=actor,
            outcome="",
        )
        _apply([upgrade], timezone.now())
        upgrade.refresh_from_db()
    return upgrade


# --- housekeeping (beat) -------------------------------------------------------------------


def upgrade_requests_due_reminder(*, now: datetime | None = None) -> list[int]:
    """Mark pending requests old enough for a reminder; the caller sends one e-mail per admin."""
    now = now or timezone.now()
    with transaction.atomic():
        ids = list(
            UpgradeRequest.objects.select_for_update(skip_locked=True)
            .filter(
                state=RequestState.PENDING,
                reminded_at__isnull=True,
                created_at__lte=now - settings.UPGRADE_REMINDER_AFTER,
            )
            .values_list("pk", flat=True)[:1000]
        )
        UpgradeRequest.objects.filter(pk__in=ids).update(reminded_at=now)
        if ids:
            _on_commit_delay("send_upgrade_reminder_emails", ids)
    return ids


def upgrade_requests_expire(*, now: datetime | None = None) -> int:
    """Requests nobody answered while their links were valid expire; the installations keep their version."""
    now = now or timezone.now()
    with transaction.atomic():
        stale = UpgradeRequest.objects.filter(
            state=RequestState.PENDING, created_at__lte=now - settings.UPGRADE_LINK_MAX_AGE
        )
        installation_ids = list(stale.values_list("installation_id", flat=True))
        count = stale.update(state=RequestState.EXPIRED, decided_at=now)
        Installation.objects.filter(pk__in=installation_ids, state=InstallationState.PENDING_CONSENT).update(
            state=InstallationState.ACTIVE, updated_at=now
        )
    return count
