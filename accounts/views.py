"""A person's own pages: profile (name, time zone, notification address) and personal API tokens."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from accounts import selectors, services
from accounts.forms import ProfileForm, TokenForm
from accounts.permissions import has_second_factor, verified_emails
from accounts.signals import SESSION_TIME_ZONE
from core.errors import ApplicationError
from core.forms import add_application_error
from core.views import paginate, portal_view, posted


@portal_view
def profile(request: HttpRequest) -> HttpResponse:
    current = selectors.profile_get(user=request.user)
    emails = sorted(verified_emails(request.user))
    form = ProfileForm(
        posted(request),
        emails=emails,
        initial={
            "first_name": request.user.first_name,
            "last_name": request.user.last_name,
            "time_zone": current.time_zone,
            "notification_email": current.notification_email,
        },
    )
    if request.method == "POST" and form.is_valid():
        try:
            saved = services.profile_update(user=request.user, **form.cleaned_data)
        except ApplicationError as exc:
            add_application_error(form, exc)
        else:
            request.session[SESSION_TIME_ZONE] = saved.time_zone
            messages.success(request, "Your profile is saved.")
            return redirect("accounts:profile")
    return render(
        request,
        "accounts/profile.html",
        {"form": form, "emails": emails, "has_second_factor": has_second_factor(request.user)},
        status=400 if request.method == "POST" else 200,
    )


@portal_view
def tokens(request: HttpRequest) -> HttpResponse:
    form = TokenForm(posted(request))
    new_token = None
    if request.method == "POST" and form.is_valid():
        try:
            token, new_token = services.user_token_create(user=request.user, name=form.cleaned_data["name"])
        except ApplicationError as exc:
            add_application_error(form, exc)
        else:
            messages.success(request, f"Token {token.name!r} is made. Copy it now: it is shown only once.")
            form = TokenForm()
    status = 400 if request.method == "POST" and new_token is None else 200
    return render(
        request,
        "accounts/tokens.html",
        {
            "form": form,
            "new_token": new_token,
            "tokens": paginate(request, selectors.user_token_list(user=request.user)),
        },
        status=status,
    )


@portal_view
@require_POST
def token_revoke(request: HttpRequest, pk: int) -> HttpResponse:
    token = services.user_token_revoke(user=request.user, token_id=pk)
    messages.success(request, f"Token {token.name!r} is revoked: calls with it are refused from now on.")
    return redirect("accounts:tokens")


@portal_view
def notifications(request: HttpRequest) -> HttpResponse:
    """Which of the portal's e-mails about your vendors' apps your notification address gets."""
    from accounts.forms import EmailPreferencesForm
    from core.notifications import notification_address
    from core.selectors import email_preferences
    from core.services import email_preferences_set

    email = notification_address(request.user)
    form = EmailPreferencesForm(posted(request), initial=email_preferences(email=email))
    if request.method == "POST" and form.is_valid():
        try:
            email_preferences_set(email=email, preferences=form.cleaned_data, actor=request.user)
        except ApplicationError as exc:
            add_application_error(form, exc)
        else:
            messages.success(request, f"Your e-mail settings for {email} are saved.")
            return redirect("accounts:notifications")
    return render(request, "accounts/notifications.html", {"form": form, "email": email})
