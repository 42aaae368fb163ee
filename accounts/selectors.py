"""Reads about people: profiles and personal API tokens."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from accounts.models import Profile, UserToken


def profile_get(*, user: Any) -> Profile:
    """The user's profile (an unsaved default one until they save theirs)."""
    return Profile.objects.filter(user_id=user.pk).first() or Profile(user=user)


def user_token_list(*, user: Any) -> QuerySet[UserToken]:
    return UserToken.objects.filter(user_id=user.pk).order_by("revoked_at", "-created_at")


def user_for_token(raw: str) -> Any | None:
    token = UserToken.active(raw).select_related("user").first()
    if token is None or not token.user.is_active:
        return None
    return token


def invitation_from_link(queryset: QuerySet, link_token: str, *, kind: str) -> Any:
    """The invitation a link names (any state); a tampered link or an unknown secret is refused."""
    from accounts.invitations import INVALID_LINK, invitation_digest_from_link
    from core.errors import ApplicationError

    invitation = queryset.filter(digest=invitation_digest_from_link(link_token, kind=kind)).first()
    if invitation is None:
        raise ApplicationError(INVALID_LINK, field="token", code="invalid_link")
    return invitation
