"""Housekeeping only: keep the signed-in user's time zone in the session, so pages show their times
without a query per request (accounts.middleware activates it)."""

from __future__ import annotations

from django.contrib.auth.signals import user_logged_in
from django.dispatch import receiver

SESSION_TIME_ZONE = "accounts_time_zone"


@receiver(user_logged_in)
def remember_time_zone(sender, request, user, **kwargs) -> None:
    if request is None or not hasattr(request, "session"):
        return
    from accounts.models import Profile

    tz = Profile.objects.filter(user_id=user.pk).values_list("time_zone", flat=True).first()
    request.session[SESSION_TIME_ZONE] = tz or "UTC"
