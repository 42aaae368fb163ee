"""Notification settings pages (issue #16 item 5): a site admin's e-mails for one site, and the
e-mailed unsubscribe link's confirm page.

The unsubscribe link needs no sign-in (its signature is the authority). A GET
only shows what it would turn off (mail scanners prefetch links); the POST of
the confirm page, or a mail client's one-click POST (RFC 8058, the
List-Unsubscribe-Post header), turns off exactly that one preference. The POST
is exempt from CSRF: a mail client has no token, and the signed link is the
proof.
"""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from core.errors import ApplicationError
from core.forms import add_application_error
from core.views import posted
from upgrades import selectors
from upgrades.forms import SiteNotificationsForm
from upgrades.selectors.notifications import site_admin_of
from upgrades.services.notifications import site_notifications_set, unsubscribe_confirm, unsubscribe_describe
from upgrades.views import link_error_page, signed_in_page


@signed_in_page
@require_http_methods(["GET", "POST"])
def site_notifications(request: HttpRequest, pk: int) -> HttpResponse:
    site = selectors.site_get_for_user(user=request.user, pk=pk)
    admin = site_admin_of(user=request.user, site_id=site.pk)
    form = SiteNotificationsForm(
        posted(request), initial={"applied_upgrades": admin.applied_upgrades if admin else "immediately"}
    )
    if request.method == "POST" and form.is_valid():
        try:
            admin = site_notifications_set(
                site=site, actor=request.user, applied_upgrades=form.cleaned_data["applied_upgrades"]
            )
        except ApplicationError as exc:
            add_application_error(form, exc)
        else:
            messages.success(
                request, f"Upgrades applied on {site.name}: {admin.get_applied_upgrades_display().lower()}."
            )
            return redirect("upgrades:site", pk=site.pk)
    return render(
        request,
        "upgrades/site_notifications.html",
        {"site": site, "form": form, "site_admin": admin},
        status=400 if request.method == "POST" else 200,
    )


@csrf_exempt
@require_http_methods(["GET", "POST"])
def unsubscribe(request: HttpRequest, token: str) -> HttpResponse:
    try:
        preference = unsubscribe_confirm(token=token) if request.method == "POST" else unsubscribe_describe(token=token)
    except ApplicationError as exc:
        return link_error_page(request, exc)
    return render(
        request,
        "upgrades/unsubscribe.html",
        {"preference": preference, "done": request.method == "POST", "token": token},
    )
