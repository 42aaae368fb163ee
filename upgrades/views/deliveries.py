"""Callbacks and webhooks pages: the vendor's per listing (lifecycle URLs, webhook endpoints, the
delivery log with Redeliver), one delivery with its attempts, and a site admin's per installation
(its deliveries, and Retry when the app did not confirm its installation)."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from core.errors import ApplicationError
from core.forms import add_application_error
from core.views import paginate, portal_view
from marketplace.selectors import listing_get_for_user
from upgrades import selectors, services
from upgrades.forms import LifecycleUrlsForm, WebhookEndpointForm
from upgrades.lifecycle import CALLBACK_HELP, callback_names_for
from upgrades.models import WebhookEvent
from upgrades.views import signed_in_page


def _safe_next(request: HttpRequest, fallback: str) -> str:
    target = request.POST.get("next", "")
    return target if target.startswith("/") and not target.startswith("//") else fallback


def _page(request: HttpRequest, listing, *, lifecycle_form=None, endpoint_form=None, new_secret=None, status=200):
    state = request.GET.get("state", "")
    if state not in selectors.DELIVERY_FILTERS:
        state = ""
    return render(
        request,
        "upgrades/listing_deliveries.html",
        {
            "listing": listing,
            "callbacks": selectors.listing_callback_urls(listing=listing),
            "lifecycle_form": lifecycle_form
            or (
                None
                if listing.scheme == "connect"
                else LifecycleUrlsForm(
                    initial=listing.lifecycle_urls or {},
                    names=callback_names_for(listing.scheme),
                    helps=CALLBACK_HELP,
                )
            ),
            "endpoints": selectors.webhook_endpoint_list(listing=listing),
            "endpoint_form": endpoint_form or WebhookEndpointForm(events=WebhookEvent.choices),
            "new_secret": new_secret,
            "state": state,
            "filters": selectors.DELIVERY_FILTERS.items(),
            "deliveries": paginate(request, selectors.delivery_list(listing=listing, state=state)),
        },
        status=status,
    )


@portal_view
def listing_deliveries(request: HttpRequest, key: str) -> HttpResponse:
    return _page(request, listing_get_for_user(user=request.user, key=key))


@portal_view
@require_POST
def listing_lifecycle_urls(request: HttpRequest, key: str) -> HttpResponse:
    listing = listing_get_for_user(user=request.user, key=key)
    form = LifecycleUrlsForm(request.POST, names=callback_names_for(listing.scheme), helps=CALLBACK_HELP)
    if form.is_valid():
        try:
            services.listing_set_lifecycle_urls(listing=listing, actor=request.user, urls=form.cleaned_data)
        except ApplicationError as exc:
            add_application_error(form, exc)
        else:
            messages.success(request, "The lifecycle URLs are saved.")
            return redirect("portal:listing-deliveries", key=listing.key)
    return _page(request, listing, lifecycle_form=form, status=400)


@portal_view
@require_POST
def webhook_create(request: HttpRequest, key: str) -> HttpResponse:
    listing = listing_get_for_user(user=request.user, key=key)
    form = WebhookEndpointForm(request.POST, events=WebhookEvent.choices)
    if form.is_valid():
        try:
            endpoint, secret = services.webhook_endpoint_create(
                listing=listing,
                actor=request.user,
                url=form.cleaned_data["url"],
                events=form.cleaned_data["events"],
                description=form.cleaned_data["description"],
            )
        except ApplicationError as exc:
            add_application_error(form, exc)
        else:
            # Rendered, not redirected: the secret is shown on this one response and stored nowhere else.
            return _page(request, listing, new_secret={"endpoint": endpoint, "secret": secret})
    return _page(request, listing, endpoint_form=form, status=400)


@portal_view
@require_POST
def webhook_action(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    endpoint = selectors.webhook_endpoint_get_for_user(user=request.user, pk=pk)
    listing = endpoint.listing
    if action == "rotate":
        endpoint, secret = services.webhook_endpoint_rotate_secret(endpoint=endpoint, actor=request.user)
        return _page(request, listing, new_secret={"endpoint": endpoint, "secret": secret, "rotated": True})
    if action == "delete":
        services.webhook_endpoint_delete(endpoint=endpoint, actor=request.user)
        messages.success(request, f"The endpoint {endpoint.url} is deleted; its deliveries stay in the log.")
    elif action == "test":
        services.webhook_endpoint_send_test(endpoint=endpoint, actor=request.user)
        messages.success(request, f"A test event is on its way to {endpoint.url}; it appears in the log below.")
    return redirect("portal:listing-deliveries", key=listing.key)


@portal_view
def delivery_detail(request: HttpRequest, pk: int) -> HttpResponse:
    delivery = selectors.delivery_get_for_user(user=request.user, pk=pk)
    return render(request, "upgrades/delivery_detail.html", {"delivery": delivery})


@portal_view
@require_POST
def delivery_redeliver(request: HttpRequest, pk: int) -> HttpResponse:
    delivery = selectors.delivery_get_for_user(user=request.user, pk=pk)
    try:
        services.delivery_redeliver(delivery=delivery, actor=request.user)
        messages.success(request, f"{delivery.event} is being sent again (same delivery id).")
    except ApplicationError as exc:
        messages.error(request, exc.message)
    return redirect(_safe_next(request, reverse("portal:delivery-detail", args=[delivery.pk])))


@signed_in_page
def installation_deliveries(request: HttpRequest, site_pk: int, pk: int) -> HttpResponse:
    installation = selectors.installation_get_for_site_admin(user=request.user, site_id=site_pk, pk=pk)
    deliveries = selectors.delivery_list(listing=installation.listing, installation=installation)
    return render(
        request,
        "upgrades/installation_deliveries.html",
        {"installation": installation, "site": installation.site, "deliveries": paginate(request, deliveries)},
    )
