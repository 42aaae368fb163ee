"""The page an OCP beta share link opens. A GET only shows (the app, the beta, its scopes
and price, the admin's sites); Install is a POST with CSRF, and pressing it is the consent."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from marketplace.errors import ApplicationError
from upgrades import beta_selectors, services
from upgrades.models import BetaShareLink

BETA_ERROR_STATUS = {
    "link_invalid": 400,
    "not_found": 404,
    "link_revoked": 410,
    "link_expired": 410,
    "version_unavailable": 410,
    "transition_not_allowed": 409,
    "incompatible": 400,
}
# Refusals about the link or the version end the visit; a refusal about the chosen site
# shows the page again so the admin can pick another site.
LINK_FIELDS = ("token", "version")


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


def beta_link(request: HttpRequest, token: str) -> HttpResponse:
    try:
        link = services.beta_link_check(link_token=token)
    except ApplicationError as exc:
        return render(
            request, "upgrades/link_error.html", {"message": exc.message}, status=BETA_ERROR_STATUS.get(exc.code, 400)
        )
    if request.method != "POST":
        return _page(request, link)
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    chosen = request.POST.get("site", "")
    if not chosen.isdigit():
        return _page(request, link, error="Choose one of your sites to install the beta on.", status=400)
    try:
        record = services.beta_install(link_token=token, site=int(chosen), actor=request.user)
    except ApplicationError as exc:
        status = BETA_ERROR_STATUS.get(exc.code, 400)
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
