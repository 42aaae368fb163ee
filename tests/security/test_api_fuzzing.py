"""Fuzzing the REST API from its OpenAPI schema with schemathesis, in-process through
Django's WSGI application (nothing leaves the process; the database is the test's).

Every operation of the schema gets generated requests, valid ones and invalid ones
(half of them pointed at a tenant's real objects, so bodies reach the services), each
sent three times: with a vendor's API token, with a site token, and as a
signed-in site admin (session and CSRF token). Bounded: FUZZ_EXAMPLES examples per
operation and mode (default 8 in `make test`, where it runs in the PostgreSQL phase;
`make fuzz` runs 100), and a time budget per
operation. The gate: no server error and no response that contradicts the schema
(body or content type). Undocumented status codes are counted and printed: the
response documentation is being completed on the API branch.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import time
from collections.abc import Iterator

import pytest
import schemathesis
from django.conf import settings
from django.core.cache import cache
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from django.test import Client
from hypothesis import HealthCheck, Phase, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import FailureGroup
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.security.matrix import path_values
from tests.security.world import make_catalogue, make_tenant

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "8"))
SECONDS_PER_OPERATION = float(os.environ.get("FUZZ_SECONDS_PER_OPERATION", "20"))
GATE = [not_a_server_error, response_schema_conformance, content_type_conformance]


def _identities(tenant) -> dict[str, dict]:
    """Request headers for the three callers: a vendor token, a site token, a signed-in site admin."""
    client = Client()
    client.force_login(tenant.site_admin)
    session = client.cookies[settings.SESSION_COOKIE_NAME].value
    csrf = secrets.token_hex(16)  # a 32-character secret: Django accepts it unmasked in both places
    return {
        "vendor token": {"Authorization": f"Token {tenant.vendor_token}"},
        "site token": {"Authorization": f"Site {tenant.site_token}"},
        "site admin": {
            "Cookie": f"{settings.SESSION_COOKIE_NAME}={session}; {settings.CSRF_COOKIE_NAME}={csrf}",
            "X-CSRFToken": csrf,
        },
    }


@contextlib.contextmanager
def _connection_kept_open() -> Iterator[None]:
    """Django's WSGI handler closes the database connection after each request, which would end the
    test's transaction on PostgreSQL; its test client avoids that the same way."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        yield
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


def _summary(exc: BaseException) -> str:
    """The failure's first lines and the request that reproduces it (schemathesis's curl line)."""
    text = str(exc)
    if isinstance(exc, FailureGroup):
        text = "\n".join(str(e) for e in exc.exceptions) + "\n" + text
    lines = [line for line in text.splitlines() if line.strip()]
    curl = next((line.strip() for line in lines if line.strip().startswith("curl ")), "")
    return " | ".join(lines[:4])[:500] + (f" | {curl}" if curl else "")


def _pointed_at(case, real_ids: dict):
    case.path_parameters = {**(case.path_parameters or {}), **real_ids}
    return case


def _fuzz(operation, mode, tenant, identities, tally, failures) -> None:
    started = time.monotonic()

    generated = operation.as_strategy(generation_mode=mode)
    real_ids = path_values(operation.path, tenant)
    if real_ids:
        # Half the cases point at the tenant's real objects, so the bodies reach the services, not only a 404.
        generated = st.one_of(generated, generated.map(lambda case: _pointed_at(case, real_ids)))

    @given(case=generated)
    @hypothesis_settings(
        max_examples=EXAMPLES,
        deadline=None,
        derandomize=True,  # the same cases on every run: a failure in CI is a failure on a laptop
        database=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    def run(case) -> None:
        if time.monotonic() - started > SECONDS_PER_OPERATION:
            return
        for who, headers in identities.items():
            response = case.call(headers={**(case.headers or {}), **headers})
            tally["requests"] += 1
            if response.status_code >= 500:
                tally["5xx"] += 1
            try:
                case.validate_response(response, checks=GATE, headers=headers)
            except (AssertionError, FailureGroup) as exc:
                failures.append(f"{operation.label} [{mode.value}, {who}]: {_summary(exc)}")
            try:
                case.validate_response(response, checks=[status_code_conformance], headers=headers)
            except (AssertionError, FailureGroup):
                tally["undocumented status"] += 1
                tally.setdefault("undocumented", set()).add(f"{operation.label} -> {response.status_code}")
        cache.clear()  # the throttles count per caller; the fuzz is not a rate-limit test

    with contextlib.suppress(Unsatisfiable):  # no invalid request exists for an operation without inputs
        run()


# Once per `make test`, on PostgreSQL (where a number too big for its column is an error, not a wrap).
@pytest.mark.integration
def test_the_api_answers_generated_requests_without_server_errors_or_schema_contradictions(
    db, django_capture_on_commit_callbacks
):
    make_catalogue()
    tenant = make_tenant("alpha", django_capture_on_commit_callbacks)
    make_tenant("bravo", django_capture_on_commit_callbacks)
    identities = _identities(tenant)
    tally = {"operations": 0, "requests": 0, "5xx": 0, "undocumented status": 0}
    failures: list[str] = []
    with _connection_kept_open():
        schema = schemathesis.openapi.from_wsgi("/api/schema/?format=json", get_wsgi_application())
        for result in schema.get_all_operations():
            operation = result.ok()
            tally["operations"] += 1
            for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
                _fuzz(operation, mode, tenant, identities, tally, failures)
    print(
        f"\nAPI fuzzing: {tally['requests']} requests over {tally['operations']} operations, "
        f"{tally['5xx']} server errors, {len(failures)} failed checks, "
        f"{tally['undocumented status']} responses with a status the schema does not list"
    )
    print("\n".join(failures))
    print("undocumented statuses (for the API's response documentation):", sorted(tally.get("undocumented", ())))
    assert tally["operations"] > 25 and tally["requests"] > tally["operations"] * 3
    assert tally["5xx"] == 0 and not failures, "\n".join(failures[:40])
