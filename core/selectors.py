"""Reads of the portal itself: the audit log's histories.

Callers decide what a person may see (a vendor's listings, a site admin's site) and
pass the objects' types and ids (or subqueries of ids); these functions only read.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from django.db.models import Q, QuerySet

from core.models import AuditEvent


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


def email_preferences(*, email: str) -> dict[str, bool]:
    """{kind: on?} of every kind of vendor e-mail for one address (core.notifications.VENDOR_EMAIL_KINDS)."""
    from core.models import EmailPreference
    from core.notifications import VENDOR_EMAIL_KINDS

    off = set(EmailPreference.objects.filter(email=(email or "").lower(), enabled=False).values_list("kind", flat=True))
    return {kind: kind not in off for kind in VENDOR_EMAIL_KINDS}
