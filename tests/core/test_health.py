"""/healthz (this process answers) and /readyz (database, broker and a fresh worker heartbeat)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from core.models import WorkerHeartbeat
from core.services import heartbeat_record

pytestmark = pytest.mark.django_db


def test_readyz_is_ready_with_a_fresh_heartbeat():
    heartbeat_record(name="celery-worker", hostname="worker-1")
    response = Client().get("/readyz")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok" and body["failing"] == []
    assert set(body["checks"]) == {"database", "broker", "worker"}
    assert all(check["ok"] for check in body["checks"].values())
    assert body["checks"]["worker"]["age_seconds"] < 60
    assert "no-cache" in response["Cache-Control"]


def test_readyz_names_a_missing_heartbeat():
    response = Client().get("/readyz")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "unavailable" and body["failing"] == ["worker"]
    assert "no Celery worker has checked in" in body["checks"]["worker"]["error"]
    assert body["checks"]["database"]["ok"] and body["checks"]["broker"]["ok"]


def test_readyz_names_a_stale_heartbeat(settings):
    settings.WORKER_HEARTBEAT_MAX_AGE = timedelta(seconds=150)
    WorkerHeartbeat.objects.create(name="celery-worker", last_seen=timezone.now() - timedelta(seconds=400))
    response = Client().get("/readyz")
    assert response.status_code == 503
    worker = response.json()["checks"]["worker"]
    assert response.json()["failing"] == ["worker"]
    assert worker["ok"] is False and "at most 150 s" in worker["error"] and worker["age_seconds"] >= 400


def test_readyz_names_an_unreachable_broker_without_showing_its_address(settings):
    from config.celery import app

    heartbeat_record(name="celery-worker")
    settings.READYZ_BROKER_TIMEOUT = 1.0
    old = app.conf.broker_url
    # A closed port on loopback: refused at once, and never retried.
    app.conf.broker_url = "redis://127.0.0.1:1/0"
    try:
        response = Client().get("/readyz")
    finally:
        app.conf.broker_url = old
    assert response.status_code == 503
    body = response.json()
    assert body["failing"] == ["broker"]
    assert body["checks"]["broker"]["error"].startswith("broker unreachable")
    assert "127.0.0.1" not in response.content.decode()


def test_readyz_only_reads():
    assert Client().post("/readyz").status_code == 405


def test_healthz_answers_and_shows_the_last_heartbeat():
    heartbeat_record(name="celery-worker")
    body = Client().get("/healthz").json()
    assert body["status"] == "ok" and body["worker_last_seen"] is not None
