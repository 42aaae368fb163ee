"""The site admin's pages, by subject (sites, consent, rollouts, product migration, beta links).

Thin: they read through selectors and write through services. A GET never
changes anything (mail scanners prefetch links); decisions are POSTs with CSRF.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from core.errors import ApplicationError, NotFound
from core.http import status_for


def link_error_page(request: HttpRequest, exc: ApplicationError, *, upgrade_request=None) -> HttpResponse:
    """A refused link or page: the message, with the status of the one error map (404, 409, 410...)."""
    return render(
        request,
        "upgrades/link_error.html",
        {"message": exc.message, "upgrade_request": upgrade_request},
        status=status_for(exc),
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
            return link_error_page(request, exc)

    return wrapper
