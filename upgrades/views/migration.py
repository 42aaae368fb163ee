"""Moving a site to another host product: the form, the migration page, and its offers."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from core.errors import ApplicationError
from core.forms import add_application_error
from upgrades import selectors, services
from upgrades.forms import ProductMigrationForm
from upgrades.selectors import migration as migration_selectors
from upgrades.views import signed_in_page
from upgrades.views.sites import site_page


@signed_in_page
@require_POST
def site_migrate(request: HttpRequest, pk: int) -> HttpResponse:
    """The site page's "Move to another product" form: a confirmation page first, then the move."""
    site = selectors.site_get_for_user(user=request.user, pk=pk)
    form = ProductMigrationForm(request.POST, products=migration_selectors.migration_products_for(site))
    form.is_valid()
    if request.POST.get("confirmed") != "yes":
        # First the confirmation page: what will be switched off, one danger button; nothing changes yet.
        try:
            product, version_text = services.site_migrate_product_check(
                site=site,
                host_product=form.cleaned_data.get("host_product", ""),
                host_version=form.cleaned_data.get("host_version", ""),
                actor=request.user,
            )
        except ApplicationError as exc:
            add_application_error(form, exc)
            return site_page(request, site, migration_form=form, status=400)
        return render(
            request,
            "upgrades/migration_confirm.html",
            {
                "site": site,
                "product": product,
                "host_version": version_text,
                "switched_off": list(migration_selectors.migration_switch_off_list(site)),
            },
        )
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
        return site_page(request, site, migration_form=form, status=400)
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
