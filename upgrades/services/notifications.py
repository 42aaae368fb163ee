"""Notification preferences (issue #16 item 5): writes.

- a site admin chooses, per site, how they hear about applied upgrades
  (immediately, a daily digest, or not at all); consent requests always come;
- a person chooses which vendor e-mails their address gets (core.services.email_preferences_set);
- an e-mailed unsubscribe link changes exactly the one preference it names;
- the daily digest: at most one per admin, site and day, each covering the time
  since the previous one, so every applied upgrade is in exactly one digest.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from functools import partial
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from core.errors import ApplicationError, NotFound
from core.models import EmailPreference
from core.notifications import APPLIED_UPGRADES, VENDOR_EMAIL_KINDS, unsubscribe_read
from core.services import audit_record, email_preference_set
from upgrades import tasks
from upgrades.models import AppliedUpgradeEmails, Site, SiteAdmin, Upgrade, UpgradeDigest, UpgradeState
from upgrades.permissions import require_site_admin
from upgrades.selectors.notifications import site_admin_of

# A digest covers at most this far back (the first one, or after a long pause).
DIGEST_MAX_PERIOD = timedelta(days=1)


def _clean_applied(value: Any) -> str:
    if value not in AppliedUpgradeEmails.values:
        raise ApplicationError(
            f"Applied upgrades must be one of {', '.join(AppliedUpgradeEmails.values)}; consent requests are "
            "always e-mailed and can't be turned off.",
            field="applied_upgrades",
        )
    return value


def _set_applied(admin: SiteAdmin, value: str, *, actor: Any, actor_label: str = "", via: str) -> SiteAdmin:
    locked = SiteAdmin.objects.select_for_update().select_related("site").get(pk=admin.pk)
    if locked.applied_upgrades == value:
        return locked
    before = locked.applied_upgrades
    locked.applied_upgrades = value
    locked.save(update_fields=["applied_upgrades"])
    audit_record(
        actor=actor,
        actor_label=actor_label,
        action="site_admin.applied_upgrade_emails",
        obj=locked,
        object_repr=f"{locked.email} on {locked.site.name}",
        from_state=before,
        to_state=value,
        details={"site_id": locked.site_id, "email": locked.email, "via": via},
    )
    return locked


def site_notifications_set(*, site: Site, actor: Any, applied_upgrades: Any) -> SiteAdmin:
    """The signed-in admin's own preference for this site (another admin's stays as it is)."""
    require_site_admin(actor, site)
    value = _clean_applied(applied_upgrades)
    admin = site_admin_of(user=actor, site_id=site.pk)
    if admin is None:  # require_site_admin passed, so the row exists; a race with its removal
        raise NotFound("No such site among the sites you administer.")
    with transaction.atomic():
        return _set_applied(admin, value, actor=actor, via="settings")


def unsubscribe_describe(*, token: str) -> dict[str, Any]:
    """What an unsubscribe link would turn off (for its confirm page); raises when the link is not valid."""
    data = unsubscribe_read(token)
    if data["kind"] == APPLIED_UPGRADES:
        admin = SiteAdmin.objects.select_related("site").filter(site_id=data["site_id"], email=data["email"]).first()
        if admin is None:
            raise NotFound("This address is no longer an admin of that site: it gets no e-mail about it.")
        return {
            **data,
            "what": f"e-mails about upgrades applied on {admin.site.name}",
            "current": admin.get_applied_upgrades_display(),
            "off": admin.applied_upgrades == AppliedUpgradeEmails.OFF,
        }
    off = EmailPreference.objects.filter(email=data["email"], kind=data["kind"], enabled=False).exists()
    return {**data, "what": VENDOR_EMAIL_KINDS[data["kind"]], "current": "off" if off else "on", "off": off}


def unsubscribe_confirm(*, token: str) -> dict[str, Any]:
    """Turn off exactly the one preference the link names (no sign-in: the signature is the authority)."""
    data = unsubscribe_describe(token=token)
    label = f"{data['email']} (unsubscribe link)"
    with transaction.atomic():
        if data["kind"] == APPLIED_UPGRADES:
            admin = SiteAdmin.objects.get(site_id=data["site_id"], email=data["email"])
            _set_applied(admin, AppliedUpgradeEmails.OFF, actor=None, actor_label=label, via="unsubscribe link")
        else:
            email_preference_set(email=data["email"], kind=data["kind"], enabled=False, actor=None, actor_label=label)
    return {**data, "off": True}


# --- the daily digest --------------------------------------------------------------------------


def upgrade_digests_make(*, now: datetime | None = None) -> list[int]:
    """Beat: make today's digest for every admin who chose it and has none today; returns the ids with news.

    Idempotent: the (admin, day) unique constraint makes a second run the same
    day (or a concurrent one) make nothing. A digest with no upgrade is kept
    (the next one starts where it ended) but sends nothing.
    """
    now = now or timezone.now()
    day = now.date()
    admins = SiteAdmin.objects.filter(applied_upgrades=AppliedUpgradeEmails.DIGEST).exclude(digests__day=day)
    made: list[int] = []
    for admin in admins.order_by("pk").iterator():
        last_end = (
            UpgradeDigest.objects.filter(site_admin=admin).order_by("-period_end").values_list("period_end", flat=True)
        ).first()
        start = max(last_end, now - DIGEST_MAX_PERIOD) if last_end else now - DIGEST_MAX_PERIOD
        ids = list(
            Upgrade.objects.filter(
                installation__site_id=admin.site_id,
                state=UpgradeState.APPLIED,
                applied_at__gte=start,
                applied_at__lt=now,
            )
            .order_by("applied_at", "pk")
            .values_list("pk", flat=True)
        )
        try:
            with transaction.atomic():
                digest = UpgradeDigest.objects.create(
                    site_admin=admin, day=day, period_start=start, period_end=now, upgrade_ids=ids
                )
                if ids:
                    transaction.on_commit(partial(tasks.send_upgrade_digest.delay, digest.pk), robust=True)
        except IntegrityError:
            continue  # another run made today's
        if ids:
            made.append(digest.pk)
    return made
