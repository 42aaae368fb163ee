"""Reads of the portal itself: the audit log's histories, and whether the portal is ready.

Callers decide what a person may see (a vendor's listings, a site admin's site) and
pass the objects' types and ids (or subqueries of ids); these functions only read.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from django.conf import settings
from django.db import connection
from django.db.models import Q, QuerySet
from django.utils import timezone

from core.models import AuditEvent, WorkerHeartbeat

logger = logging.getLogger(__name__)


def audit_history(obj: Any) -> QuerySet[AuditEvent]:
    """Every audit row of one object, newest first."""
    return AuditEvent.objects.filter(object_type=obj._meta.label_lower, object_id=obj.pk).select_related("actor")


def audit_for_objects(objects: Mapping[str, Iterable[int] | QuerySet]) -> QuerySet[AuditEvent]:
    """The audit rows of several kinds of objects at once, newest first.

    `objects` maps a type string (`versions.version`) to ids or a `values("pk")`
    subquery, so a listing's whole history (the listing, its versions, its
    rollouts) is one query on the (object_type, object_id, at) index.
    """
    condition = Q()
    for object_type, ids in objects.items():
        if not isinstance(ids, QuerySet):
            ids = list(ids)
        condition |= Q(object_type=object_type, object_id__in=ids)
    if not condition:
        return AuditEvent.objects.none()
    return AuditEvent.objects.filter(condition).select_related("actor")


def audit_by_actor(actor: Any) -> QuerySet[AuditEvent]:
    """What one user did, newest first."""
    return AuditEvent.objects.filter(actor=actor)


# --- readiness (/readyz) ---------------------------------------------------------------
# The heartbeat row beat's `worker-heartbeat` task writes through a worker (core.tasks).
WORKER_HEARTBEAT_NAME = "celery-worker"


class NotReady(Exception):
    """A dependency is not ready; the message says which, in words safe to show anyone."""


def _check_database() -> dict[str, Any]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return {}


def _check_broker() -> dict[str, Any]:
    """Reach the broker through Celery's own connection settings; Redis answers PING.

    Bounded: the connect and socket timeouts are READYZ_BROKER_TIMEOUT and there is
    no retry, so a dead broker makes /readyz answer 503 quickly instead of hanging.
    """
    from celery import current_app

    timeout = settings.READYZ_BROKER_TIMEOUT
    options = {"socket_timeout": timeout, "socket_connect_timeout": timeout, "max_retries": 1, "interval_start": 0}
    with current_app.connection_for_write(connect_timeout=timeout, transport_options=options) as conn:
        channel = conn.default_channel
        client = getattr(channel, "client", None)
        if client is not None and hasattr(client, "ping") and not client.ping():
            raise NotReady("the broker did not answer PING")
        return {"transport": conn.transport_cls}


def _check_worker() -> dict[str, Any]:
    beat = WorkerHeartbeat.objects.filter(name=WORKER_HEARTBEAT_NAME).first()
    if beat is None:
        raise NotReady("no Celery worker has checked in yet (beat sends the heartbeat through a worker)")
    age = (timezone.now() - beat.last_seen).total_seconds()
    limit = settings.WORKER_HEARTBEAT_MAX_AGE.total_seconds()
    details = {"last_seen": beat.last_seen.isoformat(), "age_seconds": round(age, 1), "max_age_seconds": limit}
    if age > limit:
        raise NotReady(f"the last worker heartbeat is {age:.0f} s old (at most {limit:.0f} s)", details)
    return details


READINESS_CHECKS: dict[str, Callable[[], dict[str, Any]]] = {
    "database": _check_database,
    "broker": _check_broker,
    "worker": _check_worker,
}


def readiness_checks() -> dict[str, dict[str, Any]]:
    """Each dependency's state: {"database": {"ok": True, ...}, "broker": ..., "worker": ...}.

    A failure is named and described in words (the full error goes to the log only:
    connection errors carry host names and user names a public endpoint should not show).
    """
    results: dict[str, dict[str, Any]] = {}
    for name, check in READINESS_CHECKS.items():
        try:
            results[name] = {"ok": True, **check()}
        except NotReady as exc:
            message, *details = exc.args
            results[name] = {"ok": False, "error": message, **(details[0] if details else {})}
        except Exception as exc:
            logger.warning("readiness check %s failed", name, exc_info=True)
            results[name] = {"ok": False, "error": f"{name} unreachable ({type(exc).__name__})"}
    return results


def email_preferences(*, email: str) -> dict[str, bool]:
    """{kind: on?} of every kind of vendor e-mail for one address (core.notifications.VENDOR_EMAIL_KINDS)."""
    from core.models import EmailPreference
    from core.notifications import VENDOR_EMAIL_KINDS

    off = set(EmailPreference.objects.filter(email=(email or "").lower(), enabled=False).values_list("kind", flat=True))
    return {kind: kind not in off for kind in VENDOR_EMAIL_KINDS}
