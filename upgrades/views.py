"""Pages: the e-mailed consent link, the site admin's sites and requests, the vendor's rollouts.

Thin: they read through selectors and write through services. A GET never
changes anything (mail scanners prefetch links); decisions are POSTs with CSRF.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from marketplace.errors import ApplicationError, NotFound
from marketplace.forms_helpers import add_application_error
from marketplace.selectors import listing_get_for_user
from upgrades import migration_selectors, selectors, services
from upgrades.forms import ProductMigrationForm
from upgrades.models import RequestState
from upgrades.windows import describe_windows, parse_windows_text, windows_as_text

LINK_ERROR_STATUS = {"link_expired": 410, "transition_not_allowed": 409, "not_found": 404}


def _link_error(request: HttpRequest, exc: ApplicationError, *, upgrade_request=None) -> HttpResponse:
    return render(
        request,
        "upgrades/link_error.html",
        {"message": exc.message, "upgrade_request": upgrade_request},
        status=LINK_ERROR_STATUS.get(exc.code, 400),
    )


def signed_in_page(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Signed-in pages: what the user may not see (another site, request, listing...) is a 404 page
    that names nothing; the selectors raise NotFound for it."""

    @login_required
    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        try:
            return view(request, *args, **kwargs)
        except NotFound as exc:
            return _link_error(request, exc)

    return wrapper


def consent(request: HttpRequest, request_id: int, token: str) -> HttpResponse:
    """The page an e-mailed link opens: shows the change; only the POST decides."""
    try:
        link = services.consent_link_check(request_id=request_id, token=token)
    except ApplicationError as exc:
        return _link_error(request, exc)
    upgrade_request = selectors.upgrade_request_for_page(pk=request_id)
    if request.method == "POST":
        action = request.POST.get("action", "")
        try:
            upgrade_request = services.consent_link_use(
                request_id=request_id, token=token, action=action, actor=request.user
            )
        except ApplicationError as exc:
            return _link_error(request, exc, upgrade_request=selectors.upgrade_request_for_page(pk=request_id))
        return render(request, "upgrades/decided.html", {"upgrade_request": upgrade_request, "decider": link.email})
    if link.used_at is not None or upgrade_request.state != RequestState.PENDING:
        message = (
            services.closed_request_message(upgrade_request)
            if upgrade_request.state != RequestState.PENDING
            else "This link was already used; each link works once."
        )
        return render(
            request, "upgrades/link_error.html", {"message": message, "upgrade_request": upgrade_request}, status=409
        )
    return render(
        request,
        "upgrades/consent.html",
        {
            "upgrade_request": upgrade_request,
            "changes": selectors.upgrade_request_changes(upgrade_request),
            "recipient": link.email,
        },
    )


@signed_in_page
def site_list(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "upgrades/site_list.html",
        {
            "sites": selectors.site_list_for_user(user=request.user),
            "pending": selectors.upgrade_request_list(user=request.user)[:50],
        },
    )


@signed_in_page
def site_detail(request: HttpRequest, pk: int) -> HttpResponse:
    site = selectors.site_get_for_user(user=request.user, pk=pk)
    return _site_page(request, site)


def _site_page(
    request: HttpRequest,
    site,
    *,
    windows_text: str | None = None,
    status: int = 200,
    migration_form: ProductMigrationForm | None = None,
) -> HttpResponse:
    products = migration_selectors.migration_products_for(site)
    return render(
        request,
        "upgrades/site_detail.html",
        {
            "site": site,
            "updates": selectors.site_updates(site=site),
            "windows": describe_windows(site.maintenance_windows or [], site.time_zone),
            "windows_text": windows_as_text(site.maintenance_windows or []) if windows_text is None else windows_text,
            "migration_form": migration_form or ProductMigrationForm(products=products),
            "migrations": migration_selectors.product_migration_list(site=site)[:5],
            "switched_off": migration_selectors.site_switched_off_count(site),
        },
        status=status,
    )


@signed_in_page
@require_POST
def site_settings(request: HttpRequest, pk: int) -> HttpResponse:
    """Automatic updates on/off and the maintenance windows, from the site page's form."""
    site = selectors.site_get_for_user(user=request.user, pk=pk)
    text = request.POST.get("maintenance_windows", "")
    try:
        services.site_update_settings(
            site=site,
            actor=request.user,
            auto_update=request.POST.get("auto_update") == "on",
            maintenance_windows=parse_windows_text(text),
        )
    except ApplicationError as exc:
        messages.error(request, f"Nothing changed: {exc.message}")
        return _site_page(request, site, windows_text=text, status=400)
    messages.success(request, "Settings saved.")
    return redirect("upgrades:site", pk=pk)


@signed_in_page
def request_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """The signed-in site admin's version of the approval page."""
    upgrade_request = selectors.upgrade_request_get_for_user(user=request.user, pk=pk)
    if request.method == "POST":
        action = request.POST.get("action")
        try:
            if action == "approve":
                services.upgrade_request_approve(request_id=pk, actor=request.user)
                messages.success(
                    request,
                    f"Approved: {upgrade_request.installation.listing.name} is now on {upgrade_request.to_version.number}.",
                )
            elif action == "reject":
                services.upgrade_request_reject(request_id=pk, actor=request.user)
                messages.success(
                    request,
                    f"Rejected: {upgrade_request.installation.site.name} keeps {upgrade_request.from_version.number}.",
                )
            else:
                raise ApplicationError("Choose Approve or Reject.", field="action")
        except ApplicationError as exc:
            messages.error(request, exc.message)
        return redirect("upgrades:site", pk=upgrade_request.installation.site_id)
    return render(
        request,
        "upgrades/request_detail.html",
        {"upgrade_request": upgrade_request, "changes": selectors.upgrade_request_changes(upgrade_request)},
    )


@signed_in_page
@require_POST
def installation_upgrade(request: HttpRequest, site_pk: int, pk: int) -> HttpResponse:
    try:
        upgrade = services.installation_upgrade(installation_id=pk, actor=request.user)
        messages.success(request, f"Upgraded to {upgrade.to_version.number}.")
    except ApplicationError as exc:
        messages.error(request, exc.message)
    return redirect("upgrades:site", pk=site_pk)


# --- vendor: rollouts ------------------------------------------------------------------------


@signed_in_page
def listing_rollouts(request: HttpRequest, key: str) -> HttpResponse:
    listing = listing_get_for_user(user=request.user, key=key)
    return render(
        request,
        "upgrades/listing_rollouts.html",
        {"listing": listing, **selectors.listing_rollout_panel(listing=listing)},
    )


@signed_in_page
@require_POST
def rollout_control(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    rollout = selectors.rollout_get_for_user(user=request.user, pk=pk)
    try:
        if action == "halt":
            services.rollout_halt(rollout=rollout, actor=request.user)
            messages.success(request, f"The rollout of {rollout.version.number} is halted.")
        else:
            services.rollout_resume(rollout=rollout, actor=request.user)
            messages.success(request, f"The rollout of {rollout.version.number} is running again.")
    except ApplicationError as exc:
        messages.error(request, exc.message)
    next_url = request.POST.get("next", "")
    if next_url.startswith("/") and not next_url.startswith("//"):
        return redirect(next_url)
    return redirect("upgrades:listing-rollouts", key=rollout.listing.key)


# --- site admin: moving a site to another host product ------------------------------------


@signed_in_page
@require_POST
def site_migrate(request: HttpRequest, pk: int) -> HttpResponse:
    """The site page's "Move to another product" form."""
    site = selectors.site_get_for_user(user=request.user, pk=pk)
    form = ProductMigrationForm(request.POST, products=migration_selectors.migration_products_for(site))
    form.is_valid()
    try:
        migration = services.site_migrate_product(
            site=site,
            host_product=form.cleaned_data.get("host_product", ""),
            host_version=form.cleaned_data.get("host_version", ""),
            actor=request.user,
        )
    except ApplicationError as exc:
        add_application_error(form, exc)
        messages.error(request, f"Nothing changed: {exc.message}")
        return _site_page(request, site, migration_form=form, status=400)
    messages.success(
        request,
        f"{site.name} now runs {migration.to_product.name} {migration.to_version}; "
        f"{migration.deactivated} app(s) were switched off until you upgrade them.",
    )
    return redirect("upgrades:migration", site_pk=site.pk, pk=migration.pk)


@signed_in_page
def migration_detail(request: HttpRequest, site_pk: int, pk: int) -> HttpResponse:
    """What each app is offered after the move, or exactly why nothing is."""
    migration = migration_selectors.product_migration_get_for_user(user=request.user, site_pk=site_pk, pk=pk)
    offers = list(migration_selectors.migration_offer_list(migration=migration))
    return render(
        request,
        "upgrades/migration_detail.html",
        {
            "migration": migration,
            "site": migration.site,
            "offers": offers,
            "keepable": migration_selectors.migration_offers_keepable(offers=offers, site=migration.site),
        },
    )


@signed_in_page
@require_POST
def migration_offer_accept(request: HttpRequest, site_pk: int, pk: int) -> HttpResponse:
    """The offer's Upgrade button (a POST: accepting may be the admin's consent)."""
    offer = migration_selectors.migration_offer_get_for_user(user=request.user, site_pk=site_pk, pk=pk)
    already = offer.accepted_at is not None
    try:
        offer = services.migration_offer_accept(offer=offer, actor=request.user)
    except ApplicationError as exc:
        messages.error(request, f"Nothing changed: {exc.message}")
    else:
        name, number = offer.installation.listing.name, offer.offered_version.number
        if already:
            messages.info(request, f"{name} was already upgraded to {number}; nothing changed.")
        else:
            messages.success(request, f"{name} is on {number} and switched on again.")
    return redirect("upgrades:migration", site_pk=site_pk, pk=offer.migration_id)


@signed_in_page
@require_POST
def migration_offer_keep(request: HttpRequest, site_pk: int, pk: int) -> HttpResponse:
    """Switch an app back on at its installed version (it already runs on the new product)."""
    offer = migration_selectors.migration_offer_get_for_user(user=request.user, site_pk=site_pk, pk=pk)
    try:
        offer = services.migration_offer_keep(offer=offer, actor=request.user)
    except ApplicationError as exc:
        messages.error(request, f"Nothing changed: {exc.message}")
    else:
        messages.success(
            request, f"{offer.installation.listing.name} is switched on again on {offer.installed_version.number}."
        )
    return redirect("upgrades:migration", site_pk=site_pk, pk=offer.migration_id)
