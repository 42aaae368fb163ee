"""Invitation links: a random secret, signed, whose digest the invitation row keeps.

Pure helpers (no queries): the services of marketplace (vendors) and upgrades
(sites) make, check and consume the rows.
"""

from __future__ import annotations

import secrets
from datetime import timedelta

from django.conf import settings
from django.core import signing

from core.errors import ApplicationError
from core.tokens import token_digest

INVALID_LINK = "This invitation link is not valid: it was changed or cut short. Ask for a new invitation."


def invitation_max_age() -> timedelta:
    return timedelta(days=settings.INVITATION_MAX_AGE_DAYS)


def invitation_secret() -> tuple[str, str]:
    """A new secret for a link and the digest to store."""
    raw = secrets.token_urlsafe(24)
    return raw, token_digest(raw)


def invitation_link_token(raw: str, *, kind: str) -> str:
    """What goes into the link: the secret signed for one kind of invitation (a vendor link is no site link)."""
    return signing.Signer(salt=f"invitation:{kind}").sign(raw)


def invitation_digest_from_link(token: str, *, kind: str) -> str:
    """The digest to look the invitation up by; a tampered or truncated link is refused."""
    try:
        raw = signing.Signer(salt=f"invitation:{kind}").unsign(token or "")
    except signing.BadSignature:
        raise ApplicationError(INVALID_LINK, field="token", code="invalid_link") from None
    return token_digest(raw)
