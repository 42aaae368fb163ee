"""The authorization matrix: every page (from the URL resolver) and every API operation
(from the OpenAPI schema), for every role, pointed at another tenant's objects.

It fails on any read or change a role must not make: a read is a page or an
answer the role should have been refused (or any answer carrying the victim's
private text); a change is any row of any table that differs after a request the
role should have been refused. Every request runs in a savepoint rolled back
afterwards, so the roles allowed to change things don't change the world for the
next request. The table (tests/security/matrix.py) says who may do what; the
allowed roles are checked too (an answer of 'not found' for them means the
matrix is not pointing at real objects).
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.db import transaction
from django.test import Client
from drf_spectacular.generators import SchemaGenerator

from core.services import heartbeat_record
from marketplace.models import VendorMembership
from reviews.services import reviewers_group_sync
from tests.security.matrix import (
    MAY_NOT_SEE_SITE_PRIVATE,
    MAY_NOT_SEE_VENDOR_PRIVATE,
    QUERIES,
    ROLES,
    TOKEN_ROLES,
    access_for,
    api_routes,
    fill,
    fingerprint,
    page_routes,
    points_at_no_row,
    route_shape,
)
from tests.security.world import make_catalogue, make_reviewer, make_tenant

LOGIN_PATHS = ("/accounts/login/", "/admin/login/")
CHANGING = ("post", "put", "patch", "delete")


def _clients(victim, other) -> dict[str, Client]:
    reviewers = reviewers_group_sync()
    conflicted = make_reviewer("conflicted-reviewer", reviewers)
    VendorMembership.objects.create(vendor=victim.listing.vendor, user=conflicted, role="developer")
    people = {
        "anonymous": None,
        "vendor": victim.vendor_user,
        "other_vendor": other.vendor_user,
        "reviewer": make_reviewer("plain-reviewer", reviewers),
        "conflicted_reviewer": conflicted,
        "site_admin": victim.site_admin,
        "other_site_admin": other.site_admin,
        "superuser": get_user_model().objects.create_superuser("root", "root@example.com", "pass"),
    }
    clients = {}
    for role, user in people.items():
        client = Client(raise_request_exception=False)
        if user is not None:
            client.force_login(user)
        clients[role] = client
    tokens = {
        "vendor_token": f"Token {victim.vendor_token}",
        "other_vendor_token": f"Token {other.vendor_token}",
        "site_token": f"Site {victim.site_token}",
        "other_site_token": f"Site {other.site_token}",
    }
    for role, header in tokens.items():
        clients[role] = Client(raise_request_exception=False, HTTP_AUTHORIZATION=header)
    return clients


def _refused(response, access=None) -> bool:
    """Refused: 401, 403, 404, 405, or sent to sign in (or, in the admin, back to its index: "no such object")."""
    if response.status_code in (401, 403, 404, 405):
        return True
    location = response.get("Location", "").split("?")[0]
    if response.status_code not in (301, 302, 303):
        return False
    if access is not None and access.redirects:
        return False
    return location.endswith(LOGIN_PATHS) or location == "/admin/"


class Matrix:
    def __init__(self, victim, clients, baseline: str) -> None:
        self.victim = victim
        self.clients = clients
        self.baseline = baseline
        self.requests = 0
        self.failures: list[str] = []

    def check(self, label: str, role: str, method: str, url: str, access) -> None:
        client = self.clients[role]
        session = client.cookies.get(settings.SESSION_COOKIE_NAME)
        kwargs = {"data": "{}", "content_type": "application/json"} if method in ("put", "patch") else {}
        if method == "post":
            kwargs = {"data": "{}", "content_type": "application/json"} if url.startswith("/api/") else {"data": {}}
        allowed = role in (access.change if method in CHANGING else access.read)
        with transaction.atomic():
            response = getattr(client, method)(url, **kwargs)
            changed = method in CHANGING and not allowed and fingerprint() != self.baseline
            transaction.set_rollback(True)
        if session is not None:  # a sign-out (rolled back above) must not sign the role out for the next request
            client.cookies[settings.SESSION_COOKIE_NAME] = session.value
        cache.clear()
        self.requests += 1
        where = f"{role:<20} {method.upper():<6} {url} ({label})"
        status = response.status_code
        if status >= 500:
            self.failures.append(f"{where}: server error {status}")
            return
        if changed:
            self.failures.append(f"{where}: changed data the role may not change (answered {status})")
        if allowed and _refused(response, access) and status != 405 and not points_at_no_row(url):
            self.failures.append(f"{where}: refused ({status}) a role the table allows: wrong table or wrong ids")
        if not allowed and method == "get" and not _refused(response):
            self.failures.append(f"{where}: read allowed ({status}) to a role that must be refused")
        body = b"" if response.streaming else response.content
        if role in MAY_NOT_SEE_VENDOR_PRIVATE and self.victim.private_vendor_text.encode() in body:
            self.failures.append(f"{where}: shows the victim vendor's private text")
        if role in MAY_NOT_SEE_SITE_PRIVATE and not access.link and self.victim.private_site_text.encode() in body:
            self.failures.append(f"{where}: shows the victim site's private text")


@pytest.fixture
def matrix(db, django_capture_on_commit_callbacks, settings):
    make_catalogue()
    victim = make_tenant("alpha", django_capture_on_commit_callbacks)
    other = make_tenant("bravo", django_capture_on_commit_callbacks)
    clients = _clients(victim, other)
    # /readyz answers 200 all through the walk (a missing or stale heartbeat is a 503 by design).
    heartbeat_record(name="celery-worker")
    settings.WORKER_HEARTBEAT_MAX_AGE = timedelta(days=1)
    cache.clear()
    return Matrix(victim, clients, fingerprint())


def test_every_page_and_operation_refuses_what_each_role_may_not_read_or_change(matrix):
    # Pages: every URL pattern, every person, GET and POST.
    pages = list(page_routes())
    for route in pages:
        access = access_for(route.namespace, route.name)
        label = f"{route.namespace}:{route.name}" if route.namespace else route.name
        url = fill(route.route, matrix.victim) + QUERIES.get(label, "").format(key=matrix.victim.listing.key)
        for role in ROLES:
            for method in ("get", "post"):
                matrix.check(label, role, method, url, access)

    # API: every operation of the OpenAPI schema, every person and every kind of token.
    schema = SchemaGenerator().get_schema(request=None, public=True)
    operations = [
        (path, method)
        for path, item in schema["paths"].items()
        for method in item
        if method in ("get", "post", "put", "patch", "delete")
    ]
    for path, method in operations:
        access = access_for("api", "", method=method.upper(), path=path)
        url = fill(path, matrix.victim)
        for role in ROLES + TOKEN_ROLES:
            matrix.check(f"{method.upper()} {path}", role, method, url, access)

    # Nothing escapes the walk: every API route of the resolver is an operation of the schema.
    documented = {route_shape(path) for path, _ in operations}
    undocumented = [r for r in api_routes() if route_shape(r) not in documented]

    print(
        f"\nauthorization matrix: {matrix.requests} requests over {len(pages)} page routes and "
        f"{len(operations)} API operations, {len(matrix.failures)} failures"
    )
    assert not undocumented, f"API routes missing from the OpenAPI schema (the matrix can't walk them): {undocumented}"
    assert len(pages) > 200 and len(operations) > 25
    print("\n".join(matrix.failures))
    assert not matrix.failures, "\n".join(matrix.failures[:80]) + f"\n... {len(matrix.failures)} in all"
