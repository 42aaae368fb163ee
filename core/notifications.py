"""Notification preferences shared by every app: the kinds of e-mail a person can turn off, and the
signed unsubscribe link every such e-mail carries (issue #16 item 5).

The link needs no sign-in: its token is signed with the project's key
(django.core.signing, its own salt) and names exactly one preference: a kind
and the address the e-mail went to (and, for a site admin's upgrade e-mails,
the site). Following it shows a confirm page; only its POST (or a mail
client's one-click POST, RFC 8058) changes that one preference. The page lives
in the upgrades app (`UNSUBSCRIBE_URL_NAME`), the top floor that can change
every kind of preference.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core import signing
from django.urls import reverse

from core.errors import ApplicationError

# E-mails to a vendor's people (core.emails.vendor_recipients): each can be turned off per address.
REVIEW_DECISIONS = "review_decisions"
POLL_FAILURES = "poll_failures"
AUTOMATIC_VERSIONS = "automatic_versions"
DELIVERY_FAILURES = "delivery_failures"
VENDOR_EMAIL_KINDS = {
    REVIEW_DECISIONS: "Review decisions: a reviewer approved or rejected a version",
    POLL_FAILURES: "Descriptor poll failures: the portal could not read your app's descriptor",
    AUTOMATIC_VERSIONS: "Automatic versions: the portal made a version from your descriptor or deploy",
    DELIVERY_FAILURES: "Delivery failures: callbacks or webhooks to your app keep failing",
}
# A site admin's e-mails about upgrades applied on one site (upgrades.SiteAdmin.applied_upgrades).
APPLIED_UPGRADES = "applied_upgrades"

UNSUBSCRIBE_SALT = "core.notifications.unsubscribe"
UNSUBSCRIBE_URL_NAME = "upgrades:unsubscribe"


def unsubscribe_token(*, kind: str, email: str, site_id: int | None = None) -> str:
    data: dict[str, Any] = {"k": kind, "e": email.strip().lower()}
    if site_id is not None:
        data["s"] = site_id
    return signing.dumps(data, salt=UNSUBSCRIBE_SALT, compress=True)


def unsubscribe_read(token: str) -> dict[str, Any]:
    """The preference a token names: {"kind", "email", "site_id"}; raises ApplicationError when it is not ours."""
    try:
        data = signing.loads(token, salt=UNSUBSCRIBE_SALT)
    except signing.BadSignature:
        raise ApplicationError(
            "This unsubscribe link is not valid (it may have been cut short): use the whole link from the e-mail.",
            field="token",
            code="invalid_link",
        ) from None
    kind = data.get("k")
    if kind not in VENDOR_EMAIL_KINDS and kind != APPLIED_UPGRADES:
        raise ApplicationError("This unsubscribe link names no preference the portal knows.", field="token")
    return {"kind": kind, "email": data.get("e", ""), "site_id": data.get("s")}


def unsubscribe_url(*, kind: str, email: str, site_id: int | None = None) -> str:
    path = reverse(UNSUBSCRIBE_URL_NAME, args=[unsubscribe_token(kind=kind, email=email, site_id=site_id)])
    return f"{settings.PORTAL_BASE_URL}{path}"


def unsubscribe_headers(url: str) -> dict[str, str]:
    """List-Unsubscribe (RFC 2369) with one-click unsubscribe (RFC 8058): the mail client POSTs to the link."""
    return {"List-Unsubscribe": f"<{url}>", "List-Unsubscribe-Post": "List-Unsubscribe=One-Click"}


def notification_address(user: Any) -> str:
    """Where a person's notices go: their profile's notification address, else their primary one (lower-cased).

    The same rule core.emails.vendor_recipients applies in SQL.
    """
    profile = getattr(user, "profile", None) if getattr(user, "pk", None) else None
    return ((getattr(profile, "notification_email", "") or "") or getattr(user, "email", "") or "").strip().lower()
