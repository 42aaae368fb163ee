"""Vendor pages for descriptor polling: the poll history and "Poll now" (thin views).

Also the demo descriptor endpoint used by `seed_demo`: only with DEBUG and
DESCRIPTOR_ALLOW_LOOPBACK, it serves var/demo/descriptors/<key>.json so the
portal can poll itself (edit the file, then press "Poll now").
"""

from __future__ import annotations

import hashlib
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseNotModified, JsonResponse
from django.middleware.csrf import get_token
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_POST

from core.errors import ApplicationError, NotFound
from marketplace.selectors import listing_get_for_user
from versions.demo import demo_descriptor_path
from versions.services import automatic as services_automatic
from versions.templatetags.descriptor_polling import poll_panel_context


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
    polled = False
    try:
        services_automatic.listing_request_poll(listing=listing, actor=request.user)
    except ApplicationError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(
            request,
            f"Polling {listing.descriptor_url} now: the poll history below updates by itself when the poll ends.",
        )
        polled = True
    target = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        target = reverse("portal:listing-polls", kwargs={"key": listing.key})
    if polled:
        # The page watches for a poll newer than the last one (templatetags.descriptor_polling).
        target = _with_param(target, "poll_after", str(services_automatic.last_poll_id(listing=listing)))
    return redirect(target + ("#descriptor-polls" if polled else ""))


def _with_param(url: str, name: str, value: str) -> str:
    parts = urlsplit(url)
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k != name]
    query.append((name, value))
    return urlunsplit((parts.scheme, parts.netloc, parts.path, urlencode(query), ""))


@login_required
@require_GET
def listing_polls_live(request: HttpRequest, key: str) -> JsonResponse:
    """The poll panel again, for the page's self-update after "Poll now" (static/js/polls.js).

    `after`: the id of the last poll before "Poll now"; `done` once a newer poll is recorded.
    """
    listing = _listing_or_404(request, key)
    raw = request.GET.get("after", "")
    after = int(raw) if raw.isdigit() else 0
    context = poll_panel_context(listing=listing, request=None, csrf_token=get_token(request), waiting_after=after)
    context["next"] = (
        request.GET.get("next", "")
        if url_has_allowed_host_and_scheme(
            request.GET.get("next", ""), allowed_hosts={request.get_host()}, require_https=request.is_secure()
        )
        else ""
    )
    html = render_to_string("versions/_poll_panel.html", context, request=request)
    return JsonResponse({"done": not context["waiting"], "html": html})


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
