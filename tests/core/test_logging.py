"""Structured logs (LOG_FORMAT=json): one JSON object per line, with the request's id."""

from __future__ import annotations

import json
import logging

import pytest
from django.test import Client, override_settings

from core.logging import JsonFormatter, request_id_var


def _record(name="portal", msg="hello %s", args=("world",), **extra) -> logging.LogRecord:
    record = logging.makeLogRecord({"name": name, "msg": msg, "args": args, "levelname": "INFO", **extra})
    return record


def test_a_record_is_one_line_of_json_with_extra_fields():
    line = JsonFormatter().format(_record(status_code=404))
    assert "\n" not in line
    entry = json.loads(line)
    assert entry["message"] == "hello world" and entry["level"] == "INFO" and entry["logger"] == "portal"
    assert entry["status_code"] == 404
    assert entry["time"].endswith("+00:00")
    assert "request_id" not in entry


def test_an_exception_is_kept_in_the_line():
    try:
        raise ValueError("broken")
    except ValueError:
        import sys

        record = _record(exc_info=sys.exc_info())
    entry = json.loads(JsonFormatter().format(record))
    assert "ValueError: broken" in entry["exception"]


def test_the_request_id_of_the_context_is_added():
    token = request_id_var.set("abc123def456")
    try:
        entry = json.loads(JsonFormatter().format(_record()))
    finally:
        request_id_var.reset(token)
    assert entry["request_id"] == "abc123def456"


def test_gunicorns_access_line_becomes_fields():
    atoms = {
        "h": "10.0.0.7",
        "m": "GET",
        "U": "/api/v1/sites/1/updates",
        "q": "",
        "s": "200",
        "B": 512,
        "M": 12,
        "a": "curl/8",
        "f": "-",
        "{x-request-id}o": "r-1234567890",
    }
    # As gunicorn logs it: access_log.info(access_log_format, atoms).
    record = logging.LogRecord(
        "gunicorn.access", logging.INFO, __file__, 1, '%(h)s "%(m)s %(U)s" %(s)s', (atoms,), None
    )
    entry = json.loads(JsonFormatter().format(record))
    assert entry["message"] == '10.0.0.7 "GET /api/v1/sites/1/updates" 200'
    assert entry["status"] == 200 and entry["duration_ms"] == 12 and entry["bytes"] == 512
    assert entry["path"] == "/api/v1/sites/1/updates" and entry["request_id"] == "r-1234567890"
    assert "referer" not in entry and "query" not in entry


MIDDLEWARE_WITH_ID = ["core.middleware.RequestIdMiddleware", "django.middleware.common.CommonMiddleware"]


@pytest.mark.django_db
@override_settings(MIDDLEWARE=MIDDLEWARE_WITH_ID)
def test_every_response_carries_a_request_id_and_a_proxys_id_is_kept():
    client = Client()
    fresh = client.get("/healthz")
    assert len(fresh["X-Request-ID"]) == 32
    assert client.get("/healthz")["X-Request-ID"] != fresh["X-Request-ID"]
    assert client.get("/healthz", HTTP_X_REQUEST_ID="lb-7f3a9c21")["X-Request-ID"] == "lb-7f3a9c21"
    # Not an id (spaces, quotes: a forged log line): replaced.
    forged = client.get("/healthz", HTTP_X_REQUEST_ID='x" level="ERROR')["X-Request-ID"]
    assert forged != 'x" level="ERROR' and len(forged) == 32


@pytest.mark.django_db
@override_settings(MIDDLEWARE=MIDDLEWARE_WITH_ID)
def test_lines_logged_while_serving_a_request_carry_its_id():
    lines: list[str] = []

    class Collect(logging.Handler):
        def emit(self, record):  # formatted as it is written, like a StreamHandler does
            lines.append(self.format(record))

    handler = Collect()
    handler.setFormatter(JsonFormatter())
    logger = logging.getLogger("django.request")
    logger.addHandler(handler)
    try:
        response = Client().get("/no-such-page/", HTTP_X_REQUEST_ID="req-0001-abcd")
    finally:
        logger.removeHandler(handler)
    assert response.status_code == 404
    [line] = lines
    entry = json.loads(line)
    assert entry["request_id"] == "req-0001-abcd" and entry["status_code"] == 404
    assert request_id_var.get() is None  # not left behind for the next request of this thread
