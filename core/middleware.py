"""Middleware of the whole portal."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from typing import Any

from django.http import Http404, HttpRequest, HttpResponse, JsonResponse

from core.logging import request_id_var

API_PREFIX = "/api/"
# A proxy's request id is kept when it looks like one (no spaces or quotes to forge log lines with).
REQUEST_ID_RE = re.compile(r"^[A-Za-z0-9._:-]{8,128}$")
# Row ids are 64-bit (BigAutoField): a larger number in a URL names no row, and the database
# would refuse to compare with it (SQLite: OverflowError; PostgreSQL: "bigint out of range").
MAX_ROW_ID = 2**63 - 1


class ApiNotFoundMiddleware:
    """An API address that matches no route answers in the API's own error shape, not with an HTML page.

    A path such as /api/v1/versions/-3 (a negative id) or /api/v1/listings/a b/shares (not a key)
    never reaches a DRF view, so Django's HTML 404 page would answer a JSON client. The body is the
    one error body of core.serializers.ErrorSerializer.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if (
            response.status_code == 404
            and request.path.startswith(API_PREFIX)
            and not response.get("Content-Type", "").startswith("application/json")
        ):
            return JsonResponse(
                {"detail": "No such API address: check the path and the ids in it (ids are positive whole numbers)."},
                status=404,
            )
        return response


class RowIdRangeMiddleware:
    """A URL id beyond any row id is "not found" for every page and operation, before any query.

    URL patterns take ids as `<int:...>`, which accepts any number of digits; checking the
    range here, once, keeps a 30-digit id from reaching a selector (where it was a 500).
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_view(self, request: HttpRequest, view: Any, args: tuple, kwargs: dict[str, Any]) -> None:
        for name, value in kwargs.items():
            if isinstance(value, int) and not isinstance(value, bool) and value > MAX_ROW_ID:
                raise Http404(f"No such object: {name} {str(value)[:20]}… is larger than any id.")


class RequestIdMiddleware:
    """Every request gets an id, on each log line written while it is served and in X-Request-ID.

    A load balancer's X-Request-ID is kept (so its logs and ours join up); otherwise a new
    one is made. Installed with structured logs (LOG_FORMAT=json, config/settings/base.py),
    and gunicorn's access line reads the response header (gunicorn.conf.py).
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        offered = request.headers.get("X-Request-ID", "")
        request_id = offered if REQUEST_ID_RE.match(offered) else uuid.uuid4().hex
        # Kept until the response is closed (core.logging.forget_request_id on request_finished):
        # Django logs an error answer after the middleware has returned it.
        request_id_var.set(request_id)
        response = self.get_response(request)
        response["X-Request-ID"] = request_id
        return response
