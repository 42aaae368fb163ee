"""The account rules other apps ask: a verified address before acting, two-factor where it is required.

`require_verified_email(user)` is THE "verified e-mail before install / publish /
create" rule: services call it (vendor creation, site registration,
invitations, the storefront's installs), never a copy of it.
"""

from __future__ import annotations

from typing import Any

from allauth.account.models import EmailAddress
from allauth.mfa.models import Authenticator
from django.conf import settings
from django.db.models import Exists
from django.urls import reverse

from core.errors import PermissionDenied

SECOND_FACTORS = (Authenticator.Type.TOTP, Authenticator.Type.WEBAUTHN)


def _signed_in(user: Any) -> bool:
    return bool(user is not None and getattr(user, "is_authenticated", False) and user.is_active)


def verified_emails(user: Any) -> set[str]:
    """The user's verified addresses, lower-cased."""
    if not _signed_in(user):
        return set()
    return {
        e.lower() for e in EmailAddress.objects.filter(user_id=user.pk, verified=True).values_list("email", flat=True)
    }


def has_verified_email(user: Any) -> bool:
    """A verified address: allauth verified one, or an administrator made the account with its address
    (no address record: nobody typed it at sign-up). One query."""
    if not _signed_in(user):
        return False
    flags = list(EmailAddress.objects.filter(user_id=user.pk).values_list("verified", flat=True))
    if flags:
        return any(flags)
    return bool(getattr(user, "email", ""))


def require_verified_email(user: Any, *, action: str = "do this") -> None:
    """Refuse (and say how to fix it) when the user has no verified e-mail address."""
    if not has_verified_email(user):
        raise PermissionDenied(
            f"Verify your e-mail address before you {action}: open the link we e-mailed you, "
            f"or send a new one from {reverse('account_email')}.",
            field="email",
        )


def email_is_unverified(user: Any, email: str) -> bool:
    """True when allauth knows this address of the user and it is not verified yet.

    Accounts made by an administrator (no address record) are trusted as they are;
    an address someone typed at sign-up grants nothing until it is verified.
    """
    if not email:
        return True
    return EmailAddress.objects.filter(user_id=user.pk, email__iexact=email, verified=False).exists()


def email_unverified_exists(user: Any, email: str) -> Exists:
    """The same rule as a subquery, for filters that must not cost a query per call."""
    return Exists(EmailAddress.objects.filter(user_id=user.pk, email__iexact=email, verified=False))


def has_second_factor(user: Any) -> bool:
    return _signed_in(user) and Authenticator.objects.filter(user_id=user.pk, type__in=SECOND_FACTORS).exists()


def second_factor_required() -> bool:
    """The marketplace's policy switch (settings.MFA_REQUIRED: on by default in production)."""
    return bool(getattr(settings, "MFA_REQUIRED", False))


def require_second_factor(user: Any, *, action: str) -> None:
    """Refuse when the policy is on and the user has no authenticator app or security key yet."""
    if second_factor_required() and not has_second_factor(user):
        raise PermissionDenied(
            f"Turn on two-factor authentication before you {action}: the marketplace requires it. "
            f"Set it up at {reverse('mfa_index')}.",
            field="mfa",
        )


def invitation_check_open(invitation: Any, *, user: Any, target: str) -> None:
    """An invitation used, revoked, expired, or for another address is refused, saying what to do."""
    from core.errors import Conflict

    state = invitation.state
    if state == "accepted":
        raise Conflict("This invitation was used already: an invitation link works once.", field="token")
    if state == "revoked":
        raise Conflict(f"This invitation was revoked. Ask {target}'s owners or admins for a new one.", field="token")
    if state == "expired":
        raise Conflict(f"This invitation expired. Ask {target}'s owners or admins for a new one.", field="token")
    require_verified_email(user, action="accept an invitation")
    if invitation.email.lower() not in verified_emails(user):
        raise PermissionDenied(
            f"This invitation is for {invitation.email}, which is not a verified address of your account. "
            "Sign in with that address, or add and verify it under E-mail addresses.",
            field="email",
        )
