"""Writes about people: the profile and personal API tokens (each with its audit row)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts.models import Profile, UserToken, validate_time_zone
from core.errors import ApplicationError, NotFound
from core.services import audit_record

TOKEN_NAME_MAX = 80
# A token's last-used time is written at most once a minute: reading it is about "when", not "how often".
LAST_USED_RESOLUTION = timedelta(minutes=1)


def profile_update(
    *, user: Any, first_name: str, last_name: str, time_zone: str, notification_email: str = ""
) -> Profile:
    from django.core.exceptions import ValidationError

    time_zone = (time_zone or "").strip() or "UTC"
    try:
        validate_time_zone(time_zone)
    except ValidationError as exc:
        raise ApplicationError(exc.messages[0], field="time_zone") from None
    with transaction.atomic():
        profile, _ = Profile.objects.select_for_update().get_or_create(user=user)
        changed = {
            "first_name": (user.first_name, first_name.strip()[:150]),
            "last_name": (user.last_name, last_name.strip()[:150]),
            "time_zone": (profile.time_zone, time_zone),
            "notification_email": (profile.notification_email, (notification_email or "").strip().lower()),
        }
        changed = {k: v for k, v in changed.items() if v[0] != v[1]}
        user.first_name, user.last_name = first_name.strip()[:150], last_name.strip()[:150]
        user.save(update_fields=["first_name", "last_name"])
        profile.time_zone = time_zone
        profile.notification_email = (notification_email or "").strip().lower()
        profile.save()
        if changed:
            audit_record(actor=user, action="profile.update", obj=profile, details={"changed": sorted(changed)})
    return profile


def user_token_create(*, user: Any, name: str) -> tuple[UserToken, str]:
    """A named personal API token; the raw token is returned once and never stored."""
    name = (name or "").strip()
    if not name:
        raise ApplicationError(
            "Give the token a name (for example 'CI deploys'), so you can tell tokens apart.", field="name"
        )
    if len(name) > TOKEN_NAME_MAX:
        raise ApplicationError(f"Token name: at most {TOKEN_NAME_MAX} characters.", field="name")
    try:
        with transaction.atomic():
            token, raw = UserToken.issue(user=user, name=name)
            audit_record(actor=user, action="user_token.create", obj=token, to_state="active")
    except IntegrityError:
        raise ApplicationError(f"You already have an active token named {name!r}.", field="name") from None
    return token, raw


def user_token_revoke(*, user: Any, token_id: int) -> UserToken:
    with transaction.atomic():
        token = UserToken.objects.select_for_update().filter(pk=token_id, user_id=user.pk).first()
        if token is None:
            raise NotFound("No such token among yours.")
        if token.revoked_at is None:
            token.revoke()
            audit_record(actor=user, action="user_token.revoke", obj=token, from_state="active", to_state="revoked")
    return token


def user_token_touch(*, token: UserToken) -> None:
    """Note when a token was used (at most once per LAST_USED_RESOLUTION, in one UPDATE)."""
    now = timezone.now()
    if token.last_used_at is None or now - token.last_used_at >= LAST_USED_RESOLUTION:
        UserToken.objects.filter(pk=token.pk).update(last_used_at=now)
