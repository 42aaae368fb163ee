"""Vendor pages for descriptor polling: the poll history and "Poll now" (thin views).

Also the demo descriptor endpoint used by `seed_demo`: only with DEBUG and
DESCRIPTOR_ALLOW_LOOPBACK, it serves var/demo/descriptors/<key>.json so the
portal can poll itself (edit the file, then press "Poll now").
"""

from __future__ import annotations

import hashlib

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseNotModified
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_POST

from core.errors import ApplicationError, NotFound
from marketplace.selectors import listing_get_for_user
from versions.demo import demo_descriptor_path
from versions.services import automatic as services_automatic


def _listing_or_404(request: HttpRequest, key: str):
    try:
        return listing_get_for_user(user=request.user, key=key)
    except NotFound as exc:
        raise Http404(exc.message) from None


@login_required
@require_GET
def listing_polls(request: HttpRequest, key: str) -> HttpResponse:
    listing = _listing_or_404(request, key)
    return render(request, "versions/listing_polls.html", {"listing": listing})


@login_required
@require_POST
def listing_poll_now(request: HttpRequest, key: str) -> HttpResponse:
    listing = _listing_or_404(request, key)
    try:
        services_automatic.listing_request_poll(listing=listing, actor=request.user)
    except ApplicationError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, f"Polling {listing.descriptor_url} now: the result appears in the poll history.")
    target = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        target = reverse("portal:listing-polls", kwargs={"key": listing.key})
    return redirect(target)


@require_GET
def demo_descriptor(request: HttpRequest, key: str) -> HttpResponse:
    """Development only: a descriptor the demo connect listing polls (with ETag, so 304s show too)."""
    if not (settings.DEBUG and settings.DESCRIPTOR_ALLOW_LOOPBACK):
        raise Http404("The demo descriptors are served only in development.")
    path = demo_descriptor_path(key)
    if path is None or not path.is_file():
        raise Http404("No such demo descriptor.")
    body = path.read_bytes()
    etag = '"' + hashlib.sha256(body).hexdigest()[:32] + '"'
    if etag in request.headers.get("If-None-Match", ""):
        response = HttpResponseNotModified()
    else:
        response = HttpResponse(body, content_type="application/json")
    response["ETag"] = etag
    return response
