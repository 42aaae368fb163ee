"""OCP beta share links: the vendor's buttons on a beta version's page, and the page a link opens.

The link's page: a GET only shows (the app, the beta, its scopes and price, the
admin's sites); Install is a POST with CSRF, and pressing it is the consent."""

from __future__ import annotations

import re

from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from core.errors import ApplicationError
from core.http import status_for
from core.throttles import page_rate_limit
from core.views import portal_view
from upgrades import services
from upgrades.models import BetaShareLink
from upgrades.selectors import beta as beta_selectors
from upgrades.selectors.beta import beta_share_link_get
from upgrades.services.beta import BETA_LINK_DEFAULT_DAYS, beta_share_link_create, beta_share_link_revoke
from versions.selectors import version_get_for_user

# Refusals about the link or the version end the visit; a refusal about the chosen site
# shows the page again so the admin can pick another site.
LINK_FIELDS = ("token", "version")
SITE_ID = re.compile(r"[0-9]{1,18}")


def _page(
    request: HttpRequest, link: BetaShareLink, *, error: str = "", chosen: str = "", status: int = 200
) -> HttpResponse:
    version = link.version
    return render(
        request,
        "upgrades/beta_link.html",
        {
            "link": link,
            "version": version,
            "listing": version.listing,
            "scopes": beta_selectors.beta_version_scopes(version),
            "sites": beta_selectors.beta_sites_for_user(user=request.user, version=version),
            "error": error,
            "chosen": chosen,
        },
        status=status,
    )


@page_rate_limit("beta-link", methods=("GET", "POST"))
def beta_link(request: HttpRequest, token: str) -> HttpResponse:
    try:
        link = services.beta_link_check(link_token=token)
    except ApplicationError as exc:
        return render(request, "upgrades/link_error.html", {"message": exc.message}, status=status_for(exc))
    if request.method != "POST":
        return _page(request, link)
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    chosen = request.POST.get("site", "")
    if not SITE_ID.fullmatch(chosen):  # ASCII digits only: "²" and "١" are no site ids
        return _page(request, link, error="Choose one of your sites to install the beta on.", status=400)
    try:
        record = services.beta_install(link_token=token, site=int(chosen), actor=request.user)
    except ApplicationError as exc:
        status = status_for(exc)
        if exc.field in LINK_FIELDS or exc.code == "not_found":
            return render(request, "upgrades/link_error.html", {"message": exc.message}, status=status)
        return _page(request, link, error=exc.message, chosen=chosen, status=status)
    installation = record.installation
    done = "upgraded from " + record.from_version.number + " to" if record.from_version_id else "installed at"
    messages.success(
        request,
        f"{link.version.listing.name} is {done} {link.version.number} on {installation.site.name}. "
        "Newer betas of it will reach this site like any update.",
    )
    return redirect("upgrades:site", pk=installation.site_id)


# --- the vendor's buttons on the beta version's page (portal namespace) -------------------


@portal_view
@require_POST
def version_beta_link_create(request: HttpRequest, pk: int) -> HttpResponse:
    version = version_get_for_user(user=request.user, pk=pk)
    days = request.POST.get("expires_in_days") or BETA_LINK_DEFAULT_DAYS
    try:
        link = beta_share_link_create(version=version, actor=request.user, expires_in_days=days)
    except ApplicationError as exc:
        messages.error(request, f"No link made: {exc.message}")
    else:
        messages.success(
            request, f"Share link made, valid until {link.expires_at:%Y-%m-%d}: copy it from the list below."
        )
    return redirect("portal:version-detail", pk=version.pk)


@portal_view
@require_POST
def version_beta_link_revoke(request: HttpRequest, pk: int, link_pk: int) -> HttpResponse:
    version = version_get_for_user(user=request.user, pk=pk)
    link = beta_share_link_get(version=version, pk=link_pk)
    already = link.revoked_at is not None
    link = beta_share_link_revoke(link=link, actor=request.user)
    if already:
        messages.info(request, "That link was already revoked; nothing changed.")
    else:
        messages.success(request, "Link revoked: it installs nothing more (sites that used it keep the beta).")
    return redirect("portal:version-detail", pk=version.pk)
