"""Reads for notification preferences (issue #16 item 5): who gets which upgrade e-mail.

`applied_email_recipients` is the one filter the e-mail code calls where it
writes the "upgrade applied" outbox rows: only admins who chose "immediately"
for that site get one; "digest" admins get the daily digest
(upgrades.services.notifications), "off" admins nothing. Consent requests are
not filtered: they always go to every admin of the site.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from typing import Any

from upgrades.models import AppliedUpgradeEmails, SiteAdmin
from upgrades.permissions import site_admin_filter


def applied_email_recipients(site_ids: Iterable[int]) -> dict[int, list[str]]:
    """{site id: sorted addresses} of the admins who get each applied upgrade's e-mail at once (one query)."""
    admins: dict[int, set[str]] = defaultdict(set)
    rows = SiteAdmin.objects.filter(
        site_id__any=list(set(site_ids)), applied_upgrades=AppliedUpgradeEmails.IMMEDIATELY
    ).values_list("site_id", "email")
    for site_id, email in rows:
        admins[site_id].add(email)
    return {site_id: sorted(emails) for site_id, emails in admins.items()}


def site_admin_of(*, user: Any, site_id: int) -> SiteAdmin | None:
    """The user's own admin row for a site (its preferences), or None."""
    if not getattr(user, "is_authenticated", False):
        return None
    return SiteAdmin.objects.filter(site_admin_filter(user), site_id=site_id).order_by("pk").first()
