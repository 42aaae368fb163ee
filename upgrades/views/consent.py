"""The e-mailed consent link and the upgrade request page: a GET shows, only a POST decides."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from core.errors import ApplicationError
from core.throttles import page_rate_limit
from upgrades import selectors, services
from upgrades.models import RequestState
from upgrades.views import link_error_page, signed_in_page


@page_rate_limit("consent-link", methods=("GET", "POST"))
def consent(request: HttpRequest, request_id: int, token: str) -> HttpResponse:
    """The page an e-mailed link opens: shows the change; only the POST decides."""
    try:
        link = services.consent_link_check(request_id=request_id, token=token)
    except ApplicationError as exc:
        return link_error_page(request, exc)
    upgrade_request = selectors.upgrade_request_for_page(pk=request_id)
    if request.method == "POST":
        action = request.POST.get("action", "")
        try:
            upgrade_request = services.consent_link_use(request_id=request_id, token=token, action=action)
        except ApplicationError as exc:
            return link_error_page(request, exc, upgrade_request=selectors.upgrade_request_for_page(pk=request_id))
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
