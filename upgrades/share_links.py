"""Signed tokens of OCP beta share links (the URL a vendor hands to a customer).

The token is signed with its own salt (a consent-link token can never pass as
one) and names the BetaShareLink row and its random nonce. It carries no
timestamp: the expiry and the revocation live on the row, where the vendor
lists and controls them, so the same link shows the same URL every time.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.core import signing
from django.urls import reverse

from core.errors import ApplicationError

BETA_LINK_SALT = "upgrades.beta-share-link"


def _signer() -> signing.Signer:
    return signing.Signer(salt=BETA_LINK_SALT)


def beta_link_token(link) -> str:
    return _signer().sign_object({"l": link.pk, "n": link.nonce.hex})


def beta_link_path(link) -> str:
    return reverse("upgrades:beta-link", args=[beta_link_token(link)])


def beta_link_url(link) -> str:
    """Absolute: the vendor pastes it into an e-mail to a customer."""
    return f"{settings.PORTAL_BASE_URL}{beta_link_path(link)}"


def beta_link_unsign(token: str) -> tuple[int, uuid.UUID]:
    """(link id, nonce) a token names, or ApplicationError when it was changed or cut short."""
    try:
        payload = _signer().unsign_object(str(token or ""))
        link_id, nonce = payload["l"], uuid.UUID(hex=str(payload["n"]))
        if not isinstance(link_id, int):
            raise ValueError
    except (signing.BadSignature, ValueError, TypeError, KeyError):
        raise ApplicationError(
            "This beta link is not valid: it was changed or cut short. Open it exactly as the vendor sent it.",
            field="token",
            code="link_invalid",
        ) from None
    return link_id, nonce
