"""Pages every app shares: the home page, /healthz and /readyz, and the portal's view plumbing.

`portal_view` is the one place a page turns a refused request into the page a
person sees: an ApplicationError that escapes a view gets the status of
`core.http.status_for` (404 for another tenant's objects, 403, 409, ...).
"""

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.paginator import Page, Paginator
from django.db import connection
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.templatetags.static import static
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

from core.errors import ApplicationError, NotFound
from core.http import status_for
from core.models import WorkerHeartbeat
from core.selectors import readiness_checks


def healthz(request: HttpRequest) -> JsonResponse:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    beat = WorkerHeartbeat.objects.filter(name="celery-worker").first()
    return JsonResponse({"status": "ok", "worker_last_seen": beat.last_seen.isoformat() if beat else None})


@never_cache
@require_safe
def readyz(request: HttpRequest) -> JsonResponse:
    """Ready to serve: the database, the broker and a fresh worker heartbeat; 503 names what fails.

    /healthz says this process answers (and reaches its database); /readyz says the
    portal works end to end. The README's "Production" section says which a load
    balancer should ask.
    """
    checks = readiness_checks()
    failing = [name for name, result in checks.items() if not result["ok"]]
    body = {"status": "unavailable" if failing else "ok", "failing": failing, "checks": checks}
    return JsonResponse(body, status=503 if failing else 200)


PAGE_SIZE = 20


def home(request: HttpRequest) -> HttpResponse:
    return render(request, "home.html")


def favicon(request: HttpRequest) -> HttpResponse:
    """/favicon.ico, which browsers and crawlers ask for without reading the page: the static icon."""
    return redirect(static("favicon.svg"))


def portal_view(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Signed-in users only; other tenants' objects are 404, refused actions get their status (403, 409)."""

    @login_required
    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        try:
            return view(request, *args, **kwargs)
        except NotFound as exc:
            raise Http404(exc.message) from exc
        except ApplicationError as exc:
            # A form shows its own errors next to their fields; what escapes is a refused action.
            return render(request, "portal/forbidden.html", {"message": exc.message}, status=status_for(exc))

    return wrapper


def posted(request: HttpRequest) -> Any:
    """The POST data for a bound form, None for an unbound one (an empty POST still binds)."""
    return request.POST if request.method == "POST" else None


def paginate(request: HttpRequest, items: Any, *, param: str = "page", per_page: int = PAGE_SIZE) -> Page:
    return Paginator(items, per_page).get_page(request.GET.get(param))


RATE_LIMIT_RETRY_AFTER = 60


def rate_limited(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """django-allauth's limits (sign-in, sign-up, password reset) answer with this page (config.urls.handler429)."""
    response = render(request, "rate_limited.html", {"retry_after": RATE_LIMIT_RETRY_AFTER}, status=429)
    response["Retry-After"] = str(RATE_LIMIT_RETRY_AFTER)
    return response
