"""E-mails of the catalogue: an invitation to join a vendor (sent once by marketplace.services)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.urls import reverse

from marketplace.models import VendorInvitation


def vendor_invitation_context(invitation: VendorInvitation, link_token: str) -> dict[str, Any]:
    inviter = invitation.invited_by
    return {
        "inviter": (inviter.get_full_name() or inviter.email or inviter.get_username())
        if inviter
        else "A vendor owner",
        "target": invitation.vendor.name,
        "what": f"join {invitation.vendor.name} as {invitation.get_role_display().lower()}",
        "email": invitation.email,
        "expires_at": invitation.expires_at,
        "link_url": settings.PORTAL_BASE_URL + reverse("invitations:vendor", args=[link_token]),
        "portal_url": settings.PORTAL_BASE_URL,
    }
