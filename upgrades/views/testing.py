"""Private testing pages: the versions a site admin was invited to test, and installing one.

A GET only shows (the version, its scopes and price, the admin's sites); Install
is a POST with CSRF, and pressing it is the consent. To anyone who is not one of
the version's members the page is the same 404 as an unknown id.
"""

from __future__ import annotations

import re

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from core.errors import ApplicationError, NotFound
from core.http import status_for
from upgrades import services
from upgrades.selectors import testing as testing_selectors
from upgrades.selectors.beta import beta_version_scopes
from upgrades.views import signed_in_page
from versions.models import Version

SITE_ID = re.compile(r"[0-9]{1,18}")


def _page(request: HttpRequest, version: Version, *, error: str = "", chosen: str = "", status: int = 200):
    return render(
        request,
        "upgrades/tested_version.html",
        {
            "version": version,
            "listing": version.listing,
            "scopes": beta_version_scopes(version),
            "sites": testing_selectors.member_sites_for_user(user=request.user, version=version),
            "error": error,
            "chosen": chosen,
        },
        status=status,
    )


@signed_in_page
@require_http_methods(["GET", "POST"])
def tested_version(request: HttpRequest, pk: int) -> HttpResponse:
    try:
        version = services.member_version_check(version_id=pk, actor=request.user)
    except NotFound:
        raise
    except ApplicationError as exc:
        return render(request, "upgrades/link_error.html", {"message": exc.message}, status=status_for(exc))
    if request.method != "POST":
        return _page(request, version)
    chosen = request.POST.get("site", "")
    if not SITE_ID.fullmatch(chosen):
        return _page(request, version, error="Site: choose one of your sites to install the version on.", status=400)
    try:
        installation = services.member_install(version_id=version.pk, site=int(chosen), actor=request.user)
    except NotFound as exc:
        if exc.field == "site":
            return _page(request, version, error=exc.message, chosen=chosen, status=status_for(exc))
        raise
    except ApplicationError as exc:
        return _page(request, version, error=exc.message, chosen=chosen, status=status_for(exc))
    messages.success(
        request,
        f"{version.listing.name} {version.number} runs on {installation.site.name} for testing. "
        "When a newer version is published it reaches the site like any update.",
    )
    return redirect("upgrades:site", pk=installation.site_id)
