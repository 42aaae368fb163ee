"""Consent: approve or reject (signed in or through an e-mailed link), manual upgrades, reminders, expiry."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from django.conf import settings
from django.core import signing
from django.db import transaction
from django.utils import timezone

from core.errors import ApplicationError, NotFound, TransitionNotAllowed
from core.services import audit_event, audit_record, audit_record_many
from marketplace.selectors import scope_catalogue
from upgrades import emails, tasks
from upgrades.emails import CONSENT_LINK_SALT
from upgrades.models import (
    ConsentLink,
    DisabledReason,
    Installation,
    InstallationState,
    RequestState,
    Rollout,
    RolloutState,
    SentEmail,
    SiteAdmin,
    Upgrade,
    UpgradeRequest,
    UpgradeState,
)
from upgrades.permissions import require_site_admin
from upgrades.services._common import (
    UPGRADE,
    UPGRADE_REQUEST,
    installation_event,
    supersede_open_work,
)
from upgrades.services.applying import _apply
from upgrades.services.webhooks import webhook_event_enqueue
from versions import policies


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


def _request_repr(request: UpgradeRequest) -> str:
    return f"{request.installation.listing.name} {request.to_version.number}"


def _request_decided(request: UpgradeRequest, name: str, *, actor: Any, email: str) -> None:
    """Run approve/reject on a locked pending request, save it and write its audit row."""
    getattr(request, name)(actor, email)
    request.save()
    audit_record(
        actor=actor,
        actor_label=email if not getattr(actor, "is_authenticated", False) else "",
        action=f"upgrade_request.{name}",
        obj=request,
        object_repr=_request_repr(request),
        from_state=RequestState.PENDING,
        to_state=request.state,
        details={
            "installation_id": request.installation_id,
            "to_version": request.to_version.number,
            "email": request.decided_by_email,
        },
    )
    if name in ("approve", "reject"):
        webhook_event_enqueue(
            listing=request.installation.listing_id,
            event="consent.approved" if name == "approve" else "consent.rejected",
            data={
                "requestId": request.pk,
                "installationId": request.installation_id,
                "siteId": request.installation.site_id,
                "version": request.to_version.number,
            },
        )


def upgrade_scheduled(upgrade: Upgrade, *, actor: Any, name: str, actor_label: str = "", **details: Any) -> None:
    """The audit row of an upgrade just created (`name`: the app's name)."""
    audit_record(
        actor=actor,
        actor_label=actor_label,
        action="upgrade.schedule",
        object_type=UPGRADE,
        object_id=upgrade.pk,
        object_repr=f"{name} {upgrade.to_version.number}",
        to_state=UpgradeState.SCHEDULED,
        details={"installation_id": upgrade.installation_id, **details},
    )


def upgrade_request_created(request: UpgradeRequest, *, actor: Any, name: str, **details: Any) -> None:
    """The audit row of a consent request just created (`name`: the app's name)."""
    audit_record(
        actor=actor,
        action="upgrade_request.create",
        object_type=UPGRADE_REQUEST,
        object_id=request.pk,
        object_repr=f"{name} {request.to_version.number}",
        to_state=RequestState.PENDING,
        details={
            "installation_id": request.installation_id,
            "reasons": [r.get("code") for r in request.reasons],
            **details,
        },
    )


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
        _request_decided(request, "approve", actor=actor, email=email)
        label = email if not getattr(actor, "is_authenticated", False) else ""
        supersede_open_work(
            installations={"installation_id": installation.pk},
            outcome=f"replaced by the approved upgrade to {request.to_version.number}",
            now=now,
            actor=actor,
            actor_label=label,
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
        name = request.installation.listing.name
        upgrade_scheduled(upgrade, actor=actor, actor_label=label, name=name, request_id=request.pk)
        _apply([upgrade], now, actor=actor, actor_label=label)
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
        _request_decided(request, "reject", actor=actor, email=email)
        now = timezone.now()
        if any(r.get("code") == policies.FREE_TO_PAID for r in request.reasons or ()):
            _disable_until_price_accepted(request, actor=actor, email=email, now=now)
            return request
        moved = Installation.objects.filter(pk=request.installation_id, state=InstallationState.PENDING_CONSENT).update(
            state=InstallationState.ACTIVE, updated_at=now
        )
        if moved:
            audit_record_many(
                [
                    installation_event(
                        actor=actor,
                        actor_label=email if not getattr(actor, "is_authenticated", False) else "",
                        action="installation.activate",
                        installation_id=request.installation_id,
                        name=request.installation.listing.name,
                        from_state=InstallationState.PENDING_CONSENT,
                        to_state=InstallationState.ACTIVE,
                        details={"reason": f"the upgrade to {request.to_version.number} was rejected"},
                        at=now,
                    )
                ]
            )
    return request


def _disable_until_price_accepted(request: UpgradeRequest, *, actor: Any, email: str, now: Any) -> None:
    """A free app that became paid and whose admin turned the price down stops running: it stays
    disabled until the admin accepts the paid licence or uninstalls it (the marketplace's rule:
    approve the change to start paying, otherwise uninstall)."""
    installation = Installation.objects.select_for_update().get(pk=request.installation_id)
    if installation.state not in (InstallationState.ACTIVE, InstallationState.PENDING_CONSENT):
        return
    before = installation.state
    Installation.objects.filter(pk=installation.pk).update(
        state=InstallationState.DISABLED, disabled_reason=DisabledReason.PAID_NOT_ACCEPTED, updated_at=now
    )
    audit_record_many(
        [
            installation_event(
                actor=actor,
                actor_label=email if not getattr(actor, "is_authenticated", False) else "",
                action="installation.disable",
                installation_id=installation.pk,
                name=request.installation.listing.name,
                from_state=before,
                to_state=InstallationState.DISABLED,
                details={
                    "reason": DisabledReason.PAID_NOT_ACCEPTED,
                    "rejected": request.to_version.number,
                },
                at=now,
            )
        ]
    )


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


def _link_recipient(link: ConsentLink, site_id: int) -> Any:
    """The account of the site admin the link was sent to, if the address has one."""
    admin = (
        SiteAdmin.objects.filter(site_id=site_id, email__iexact=link.email, user__isnull=False)
        .select_related("user")
        .first()
    )
    return admin.user if admin else None


def consent_link_use(*, request_id: int, token: str, action: str) -> UpgradeRequest:
    """Approve or reject through an e-mailed link: once, by the recipient it was sent to.

    The decision is the recipient's, whoever's browser session the link is
    opened in: a link forwarded to (or clicked by) another signed-in user is
    still recorded as the admin it was sent to, never as that other user.
    """
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
        decider = _link_recipient(link, link.request.installation.site_id)
        if action == "approve":
            upgrade_request_approve(request_id=request_id, actor=decider, email=link.email, via_link=True)
        else:
            upgrade_request_reject(request_id=request_id, actor=decider, email=link.email, via_link=True)
        link.used_at = timezone.now()
        link.used_for = action
        link.save(update_fields=["used_at", "used_for"])
    return UpgradeRequest.objects.select_related("installation__version", "to_version").get(pk=request_id)


def installation_upgrade(*, site_id: int, installation_id: int, actor: Any) -> Upgrade:
    """The customer admin's manual "Upgrade" (OCP major upgrades, expired or rejected requests, auto-update off).

    The site is checked first, so someone who does not administer it learns
    nothing about which installation ids exist there.
    """
    from upgrades.selectors import installation_update

    require_site_admin(actor, site_id)
    installation = (
        Installation.objects.select_related("site__host_product", "listing", "version")
        .filter(pk=installation_id, site_id=site_id)
        .first()
    )
    if installation is None:
        raise NotFound("No such installation on this site.")
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
        supersede_open_work(
            installations={"installation_id": locked.pk},
            outcome="replaced by a manual upgrade",
            now=timezone.now(),
            actor=actor,
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
        upgrade_scheduled(upgrade, actor=actor, name=installation.listing.name, manual=True)
        _apply([upgrade], timezone.now(), actor=actor)
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
        if ids and emails.outbox_add_requests(ids, kind=SentEmail.Kind.REMINDER):
            transaction.on_commit(tasks.send_outbox.delay)
    return ids


def upgrade_requests_expire(*, now: datetime | None = None) -> int:
    """Requests nobody answered while their links were valid expire; the installations keep their version."""
    now = now or timezone.now()
    with transaction.atomic():
        stale = list(
            UpgradeRequest.objects.select_for_update(of=("self",))
            .filter(state=RequestState.PENDING, created_at__lte=now - settings.UPGRADE_LINK_MAX_AGE)
            .values_list("pk", "installation_id", "installation__listing__name", "to_version__number")
        )
        if not stale:
            return 0
        count = UpgradeRequest.objects.filter(pk__in=[row[0] for row in stale]).update(
            state=RequestState.EXPIRED, decided_at=now
        )
        names = {installation_id: name for _, installation_id, name, _ in stale}
        waiting = list(
            Installation.objects.select_for_update()
            .filter(pk__in=list(names), state=InstallationState.PENDING_CONSENT)
            .values_list("pk", flat=True)
        )
        Installation.objects.filter(pk__in=waiting).update(state=InstallationState.ACTIVE, updated_at=now)
        reason = "nobody answered while the approval links were valid"
        audit_record_many(
            [
                audit_event(
                    actor=None,
                    action="upgrade_request.expire",
                    object_type=UPGRADE_REQUEST,
                    object_id=pk,
                    object_repr=f"{name} {number}",
                    from_state=RequestState.PENDING,
                    to_state=RequestState.EXPIRED,
                    details={"installation_id": installation_id, "reason": reason},
                    at=now,
                )
                for pk, installation_id, name, number in stale
            ]
            + [
                installation_event(
                    actor=None,
                    action="installation.activate",
                    installation_id=pk,
                    name=names[pk],
                    from_state=InstallationState.PENDING_CONSENT,
                    to_state=InstallationState.ACTIVE,
                    details={"reason": "its upgrade request expired"},
                    at=now,
                )
                for pk in waiting
            ]
        )
    return count


def installation_upgrade_now(
    *,
    installation: Installation,
    version: Any,
    actor: Any,
    now: datetime,
    replaced_by: str,
    outcome: str,
    rollout: Rollout | None = None,
    **details: Any,
) -> tuple[list[dict], Upgrade]:
    """Move a locked installation to `version` at once, because its admin pressed Install on a
    page that listed the scopes and the price (a beta share link, a version under test).

    What was still open for it is closed first. When the move needs consent, the press is the
    recorded approval (a request made and approved through the consent flow's own service);
    otherwise the upgrade is applied directly. Returns the consent reasons and the upgrade.
    """
    supersede_open_work(installations={"installation_id": installation.pk}, outcome=replaced_by, now=now, actor=actor)
    # The admin asked for this version: auto-update off does not apply.
    reasons = policies.consent_reasons(
        installation, version, version.listing, catalogue=scope_catalogue(), auto_update=True
    )
    common = {
        "installation": installation,
        "rollout": rollout,
        "from_version_id": installation.version_id,
        "to_version": version,
    }
    if reasons:
        request = UpgradeRequest.objects.create(reasons=reasons, **common)
        upgrade_request_created(request, actor=actor, name=version.listing.name, **details)
        upgrade = upgrade_request_approve(request_id=request.pk, actor=actor)
    else:
        upgrade = Upgrade.objects.create(due_at=now, approved_by=actor, **common)
        upgrade_scheduled(upgrade, actor=actor, name=version.listing.name, **details)
        _apply([upgrade], now, actor=actor)
        upgrade.refresh_from_db()
    upgrade.outcome = outcome
    Upgrade.objects.filter(pk=upgrade.pk).update(outcome=outcome)
    return reasons, upgrade
