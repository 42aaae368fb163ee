"""The site admin's sites: list, page, settings, and upgrading one installation."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from core.errors import ApplicationError
from core.forms import add_application_error
from core.http import status_for
from core.views import paginate, posted
from upgrades import selectors, services
from upgrades.forms import ProductMigrationForm, SiteInvitationForm, SiteRegisterForm, SiteTokenForm
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
            # Every list pages (each with its own parameter); none is cut off silently.
            "sites": paginate(request, selectors.site_list_for_user(user=request.user).order_by("name", "pk")),
            "pending": paginate(request, selectors.upgrade_request_list(user=request.user), param="pending_page"),
            "to_test": paginate(request, versions_for_member(user=request.user), param="test_page"),
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
    token_form: SiteTokenForm | None = None,
    invite_form: SiteInvitationForm | None = None,
    new_token: str | None = None,
) -> HttpResponse:
    products = migration_selectors.migration_products_for(site)
    return render(
        request,
        "upgrades/site_detail.html",
        {
            "site": site,
            "updates": selectors.site_updates(site=site),
            "apps": paginate(request, selectors.site_apps(site=site), param="apps_page", per_page=50),
            "windows": describe_windows(site.maintenance_windows or [], site.time_zone),
            "windows_text": windows_as_text(site.maintenance_windows or []) if windows_text is None else windows_text,
            "migration_form": migration_form or ProductMigrationForm(products=products),
            "migrations": paginate(
                request, migration_selectors.product_migration_list(site=site), param="moves_page", per_page=5
            ),
            "switched_off": migration_selectors.site_switched_off_count(site),
            "history": paginate(request, selectors.site_history(site=site), param="history_page"),
            "token_form": token_form or SiteTokenForm(),
            "invite_form": invite_form or SiteInvitationForm(),
            "new_token": new_token,
            **selectors.site_team(site=site),
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
# --- customer onboarding: register a site, its admins, its tokens ---------------------------


@signed_in_page
def site_register(request: HttpRequest) -> HttpResponse:
    form = SiteRegisterForm(posted(request))
    if request.method == "POST" and form.is_valid():
        try:
            site = services.site_register(actor=request.user, **form.cleaned_data)
        except ApplicationError as exc:
            add_application_error(form, exc)
        else:
            messages.success(
                request, f"{site.name} is registered and you are its admin. Make a token for its update check below."
            )
            return redirect("upgrades:site", pk=site.pk)
    return render(
        request, "upgrades/site_register.html", {"form": form}, status=400 if request.method == "POST" else 200
    )


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


@signed_in_page
@require_POST
def site_token_create(request: HttpRequest, pk: int) -> HttpResponse:
    site = selectors.site_get_for_user(user=request.user, pk=pk)
    form = SiteTokenForm(request.POST)
    if form.is_valid():
        try:
            token, raw = services.site_token_create(site=site, name=form.cleaned_data["name"], actor=request.user)
        except ApplicationError as exc:
            add_application_error(form, exc)
            return site_page(request, site, token_form=form, status=status_for(exc))
        messages.success(request, f"Token {token.name!r} is made. Copy it now: it is shown only once.")
        return site_page(request, site, new_token=raw)
    return site_page(request, site, token_form=form, status=400)


@signed_in_page
@require_POST
def site_token_revoke(request: HttpRequest, pk: int, token_pk: int) -> HttpResponse:
    site = selectors.site_get_for_user(user=request.user, pk=pk)
    try:
        token = services.site_token_revoke(site=site, actor=request.user, token_id=token_pk)
    except ApplicationError as exc:
        messages.error(request, f"Nothing changed: {exc.message}")
        return site_page(request, site, status=status_for(exc))
    messages.success(
        request, f"Token {token.name or token.prefix!r} is revoked: the update check refuses it from now on."
    )
    return redirect("upgrades:site", pk=pk)


@signed_in_page
@require_POST
def site_invite(request: HttpRequest, pk: int) -> HttpResponse:
    site = selectors.site_get_for_user(user=request.user, pk=pk)
    form = SiteInvitationForm(request.POST)
    if form.is_valid():
        try:
            invitation = services.site_invitation_create(
                actor=request.user, site=site, email=form.cleaned_data["email"]
            )
        except ApplicationError as exc:
            add_application_error(form, exc)
            return site_page(request, site, invite_form=form, status=status_for(exc))
        messages.success(request, f"Invitation sent to {invitation.email}.")
        return redirect("upgrades:site", pk=pk)
    return site_page(request, site, invite_form=form, status=400)


@signed_in_page
@require_POST
def site_invitation_revoke(request: HttpRequest, pk: int, invitation_pk: int) -> HttpResponse:
    site = selectors.site_get_for_user(user=request.user, pk=pk)
    try:
        invitation = services.site_invitation_revoke(actor=request.user, site=site, invitation_id=invitation_pk)
    except ApplicationError as exc:
        messages.error(request, f"Nothing changed: {exc.message}")
        return site_page(request, site, status=status_for(exc))
    messages.success(request, f"The invitation to {invitation.email} is revoked: its link no longer works.")
    return redirect("upgrades:site", pk=pk)


def site_invitation(request: HttpRequest, token: str) -> HttpResponse:
    """The e-mailed link: what it invites to; a signed-in, verified invitee accepts with one button."""
    try:
        invitation = services.site_invitation_get_by_link(link_token=token)
    except ApplicationError as exc:
        return render(request, "portal/invitation.html", {"error": exc.message}, status=404)
    context = {"invitation": invitation, "target": invitation.site.name, "role": "Admin"}
    if request.method == "POST" and request.user.is_authenticated:
        try:
            services.site_invitation_accept(user=request.user, link_token=token)
        except ApplicationError as exc:
            return render(request, "portal/invitation.html", {**context, "error": exc.message}, status=status_for(exc))
        messages.success(request, f"You are now an admin of {invitation.site.name}.")
        return redirect("upgrades:site", pk=invitation.site_id)
    return render(request, "portal/invitation.html", context)
