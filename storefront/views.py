"""The storefront's pages: browse and search (/apps/), a listing's page, and Install.

Browsing is for everyone; installing needs a signed-in admin of the site. Thin:
reads through storefront.selectors, the install through upgrades.services.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse

from core.errors import ApplicationError, NotFound
from core.http import status_for
from core.throttles import page_rate_limit
from core.views import paginate
from storefront import selectors
from storefront.filters import CatalogueFilter
from storefront.markdown import render_markdown
from upgrades import services as upgrade_services
from versions import policies

CATALOGUE_PAGE_SIZE = 24


def catalogue(request: HttpRequest) -> HttpResponse:
    filterset = CatalogueFilter(request.GET, queryset=selectors.catalogue_listings(user=request.user))
    valid = filterset.is_valid()
    results = filterset.sorted_results() if valid else filterset.queryset.none()
    page = paginate(request, results, per_page=CATALOGUE_PAGE_SIZE)
    filtered = any(request.GET.get(name) for name in ("product", "category", "pricing", "scheme"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "storefront/catalogue.html",
        {
            "filter": filterset,
            "page": page,
            "count": page.paginator.count,
            "filtered": filtered,
            "search": request.GET.get("q", ""),
            "querystring": query.urlencode(),
        },
        status=200 if valid else 400,
    )


def _listing_context(request: HttpRequest, key: str) -> dict:
    try:
        listing = selectors.catalogue_listing_get(user=request.user, key=key)
    except NotFound as exc:
        raise Http404(exc.message) from exc
    version = selectors.listing_live_version(listing)
    return {
        "listing": listing,
        "version": version,
        "description": render_markdown(listing.description),
        "scopes": selectors.describe_scopes(list(version.scopes)),
        "history": selectors.listing_version_history(listing),
        "compatibility": policies.describe_compatibility(
            version.compatibility, {p.key: p.name for p in listing.host_products.all()}
        ),
    }


def listing_detail(request: HttpRequest, key: str) -> HttpResponse:
    context = _listing_context(request, key)
    context["choices"] = selectors.install_choices(
        user=request.user, listing=context["listing"], version=context["version"]
    )
    return render(request, "storefront/listing_detail.html", context)


@login_required
def listing_install(request: HttpRequest, key: str) -> HttpResponse:
    """GET: pick a site and see what is granted; POST: install on the picked site."""
    context = _listing_context(request, key)
    listing = context["listing"]
    choices = selectors.install_choices(user=request.user, listing=listing, version=context["version"])
    context["choices"] = choices
    if request.method != "POST":
        return render(request, "storefront/install.html", context)
    raw_site = request.POST.get("site", "")
    if not raw_site.isascii() or not raw_site.isdigit() or len(raw_site) > 18:
        context["site_error"] = "Site: choose one of your sites."
        return render(request, "storefront/install.html", context, status=400)
    try:
        installation = upgrade_services.installation_install(
            site_id=int(raw_site), listing_key=listing.key, actor=request.user
        )
    except ApplicationError as exc:
        context["site_error"] = exc.message
        context["picked"] = int(raw_site)
        return render(request, "storefront/install.html", context, status=status_for(exc))
    messages.success(request, f"{listing.name} is installed on {installation.site.name}.")
    return redirect(f"{reverse('upgrades:site', args=[installation.site_id])}#apps")


@login_required
@page_rate_limit("invitation")
def invitation_redeem(request: HttpRequest) -> HttpResponse:
    """A site admin redeems a vendor's invitation to a private app for one of their sites.
    GET shows the form (the link fills in the code and changes nothing); POST redeems."""
    code = (request.POST.get("code") if request.method == "POST" else request.GET.get("code")) or ""
    sites = selectors.administered_sites(user=request.user)
    context = {"code": code[:100], "sites": sites}
    if request.method != "POST":
        return render(request, "storefront/invitation.html", context)
    raw_site = request.POST.get("site", "")
    if not raw_site.isascii() or not raw_site.isdigit() or len(raw_site) > 18:
        context["errors"] = {"site": "Site: choose one of your sites."}
        return render(request, "storefront/invitation.html", context, status=400)
    try:
        invitation = upgrade_services.listing_invitation_redeem(code=code, site_id=int(raw_site), actor=request.user)
    except ApplicationError as exc:
        context["errors"] = {exc.field or "code": exc.message}
        return render(request, "storefront/invitation.html", context, status=status_for(exc))
    listing = invitation.listing
    messages.success(request, f"{listing.name} is now open to {invitation.redeemed_site.name}: install it from here.")
    return redirect("storefront:listing", key=listing.key)
