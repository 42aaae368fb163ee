"""The site admin's sites: list, page, settings, and upgrading one installation."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from core.errors import ApplicationError
from core.views import paginate
from upgrades import selectors, services
from upgrades.forms import ProductMigrationForm
from upgrades.selectors import migration as migration_selectors
from upgrades.selectors.testing import versions_for_member
from upgrades.views import signed_in_page
from upgrades.windows import describe_windows, parse_windows_text, windows_as_text


@signed_in_page
def site_list(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "upgrades/site_list.html",
        {
            "sites": selectors.site_list_for_user(user=request.user),
            "pending": selectors.upgrade_request_list(user=request.user)[:50],
            "to_test": versions_for_member(user=request.user),
        },
    )


@signed_in_page
def site_detail(request: HttpRequest, pk: int) -> HttpResponse:
    site = selectors.site_get_for_user(user=request.user, pk=pk)
    return site_page(request, site)


def site_page(
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
            "apps": selectors.site_apps(site=site),
            "windows": describe_windows(site.maintenance_windows or [], site.time_zone),
            "windows_text": windows_as_text(site.maintenance_windows or []) if windows_text is None else windows_text,
            "migration_form": migration_form or ProductMigrationForm(products=products),
            "migrations": migration_selectors.product_migration_list(site=site)[:5],
            "switched_off": migration_selectors.site_switched_off_count(site),
            "history": paginate(request, selectors.site_history(site=site), param="history_page"),
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
        return site_page(request, site, windows_text=text, status=400)
    messages.success(request, "Settings saved.")
    return redirect("upgrades:site", pk=pk)


@signed_in_page
@require_POST
def installation_upgrade(request: HttpRequest, site_pk: int, pk: int) -> HttpResponse:
    try:
        upgrade = services.installation_upgrade(site_id=site_pk, installation_id=pk, actor=request.user)
        messages.success(request, f"Upgraded to {upgrade.to_version.number}.")
    except ApplicationError as exc:
        messages.error(request, exc.message)
    return redirect("upgrades:site", pk=site_pk)


INSTALLATION_ACTIONS = {
    "disable": (
        services.installation_disable,
        "{name} is disabled: it does not run and gets no updates until enabled.",
    ),
    "enable": (services.installation_enable, "{name} is enabled again."),
    "uninstall": (
        services.installation_uninstall,
        "{name} is uninstalled; its open update requests ended. Its history stays on this page.",
    ),
    "buy-licence": (services.licence_buy, "Licence bought for {name}: it runs for a year from today."),
    "accept-price": (services.installation_accept_price, "{name} runs again on its paid version; its licence started."),
}


@signed_in_page
@require_POST
def installation_action(request: HttpRequest, site_pk: int, pk: int, action: str) -> HttpResponse:
    """Disable, enable, uninstall an app, or buy its licence, from the site's page."""
    service, done = INSTALLATION_ACTIONS[action]
    try:
        result = service(site_id=site_pk, installation_id=pk, actor=request.user)
        installation = getattr(result, "installation", result)
        messages.success(request, done.format(name=installation.listing.name))
    except ApplicationError as exc:
        messages.error(request, exc.message)
    return redirect(f"{reverse('upgrades:site', args=[site_pk])}#apps")
