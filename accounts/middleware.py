"""Per request: the user's time zone for every time shown, and two-factor before the admin."""

from __future__ import annotations

import zoneinfo
from collections.abc import Callable

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils import timezone

from accounts.permissions import has_second_factor, second_factor_required
from accounts.signals import SESSION_TIME_ZONE


class TimeZoneMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        tz = request.session.get(SESSION_TIME_ZONE) if hasattr(request, "session") else None
        if tz and tz in zoneinfo.available_timezones():
            timezone.activate(zoneinfo.ZoneInfo(tz))
        else:
            timezone.deactivate()
        return self.get_response(request)


class AdminSecondFactorMiddleware:
    """Staff and reviewers reach the admin only with two-factor authentication on (when required)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        if (
            request.path.startswith("/admin/")
            and user is not None
            and user.is_authenticated
            and user.is_staff
            and second_factor_required()
            and not has_second_factor(user)
        ):
            messages.warning(
                request,
                "The admin needs two-factor authentication: set up an authenticator app or a security key first.",
            )
            return redirect("mfa_index")
        return self.get_response(request)
