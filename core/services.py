"""Writes of the portal itself (not of any app's domain): heartbeats and the audit log."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from django.db import models, transaction
from django.utils import timezone

from core.bulk import bulk_insert, bulk_insert_rows
from core.errors import ApplicationError
from core.models import AuditEvent, EmailPreference, WorkerHeartbeat
from core.notifications import VENDOR_EMAIL_KINDS

SYSTEM = "system"


def heartbeat_record(*, name: str, hostname: str = "") -> None:
    """Note that a Celery worker is alive (idempotent: one row per name, last write wins)."""
    WorkerHeartbeat.objects.update_or_create(name=name, defaults={"last_seen": timezone.now(), "hostname": hostname})


# --- audit log -------------------------------------------------------------------------


def audit_object_type(obj_or_model: Any) -> str:
    """The short type string of a model or instance: `versions.version`, `upgrades.rollout`."""
    return obj_or_model._meta.label_lower


def _actor_fields(actor: Any, actor_label: str) -> tuple[Any, str]:
    user = actor if getattr(actor, "is_authenticated", False) else None
    if user is not None:
        return user, actor_label or user.get_username()
    return None, actor_label or SYSTEM


def audit_event(
    *,
    actor: Any,
    action: str,
    obj: models.Model | None = None,
    object_type: str = "",
    object_id: int | None = None,
    object_repr: str | None = None,
    from_state: Any = "",
    to_state: Any = "",
    details: dict[str, Any] | None = None,
    actor_label: str = "",
    at: datetime | None = None,
) -> AuditEvent:
    """An unsaved audit row, for `audit_record_many` (bulk services build one per changed row).

    Name the object with `obj`, or with `object_type` and `object_id` when only ids are
    at hand (set-based work). `actor` is a user, or None/anonymous for the system, in
    which case `actor_label` says who (an e-mailed admin's address, "system").
    """
    if obj is not None:
        object_type = object_type or audit_object_type(obj)
        object_id = obj.pk if object_id is None else object_id
        if object_repr is None:
            object_repr = str(obj)
    if not object_type or object_id is None:
        raise ValueError("An audit row names its object: pass obj, or object_type and object_id.")
    user, label = _actor_fields(actor, actor_label)
    return AuditEvent(
        actor=user,
        actor_label=label[:254],
        action=action,
        object_type=object_type,
        object_id=object_id,
        object_repr=(object_repr or "")[:200],
        from_state=str(from_state or ""),
        to_state=str(to_state or ""),
        details=details or {},
        at=at or timezone.now(),
    )


def audit_record(**kwargs: Any) -> AuditEvent:
    """Write one audit row (call it inside the transaction that makes the change); see `audit_event`."""
    event = audit_event(**kwargs)
    event.save(force_insert=True)
    return event


def audit_record_many(events: Iterable[AuditEvent]) -> list[AuditEvent]:
    """Write the rows of a set-based change in bulk, never one statement per row: streamed with COPY
    on PostgreSQL (core.bulk; a rollout chunk writes thousands), batches of INSERTs elsewhere."""
    return bulk_insert(events, with_pks=False)


# The columns of an `audit_row` tuple.
AUDIT_ROW_FIELDS = (
    "actor_id",
    "actor_label",
    "action",
    "object_type",
    "object_id",
    "object_repr",
    "from_state",
    "to_state",
    "details",
    "at",
)


def audit_row(
    *,
    actor: Any,
    action: str,
    object_type: str,
    object_id: int,
    at: datetime,
    object_repr: str = "",
    from_state: Any = "",
    to_state: Any = "",
    details: dict[str, Any] | None = None,
    actor_label: str = "",
) -> tuple:
    """An audit row as a tuple of AUDIT_ROW_FIELDS, for `audit_record_rows`: what `audit_event`
    makes, without a model instance (the set-based services write tens of thousands)."""
    user, label = _actor_fields(actor, actor_label)
    return (
        user.pk if user is not None else None,
        label[:254],
        action,
        object_type,
        object_id,
        (object_repr or "")[:200],
        str(from_state or ""),
        str(to_state or ""),
        details or {},
        at,
    )


def audit_record_rows(rows: Iterable[tuple]) -> int:
    """Write `audit_row` tuples in bulk (COPY on PostgreSQL, core.bulk.bulk_insert_rows); returns how many."""
    return bulk_insert_rows(AuditEvent, AUDIT_ROW_FIELDS, rows)


# --- notification preferences (issue #16 item 5) ------------------------------------------------


def email_preference_set(*, email: str, kind: str, enabled: bool, actor: Any, actor_label: str = "") -> Any:
    """Turn one kind of e-mail on or off for one address (core.notifications.VENDOR_EMAIL_KINDS); audited.

    Setting what is already set changes nothing and writes no audit row.
    """
    if kind not in VENDOR_EMAIL_KINDS:
        raise ApplicationError(
            f"Unknown kind of e-mail {kind!r}: one of {', '.join(sorted(VENDOR_EMAIL_KINDS))}.", field="kind"
        )
    if not isinstance(enabled, bool):
        raise ApplicationError(f"{kind} must be true or false.", field=kind)
    email = (email or "").strip().lower()
    if not email:
        raise ApplicationError("There is no e-mail address to set this for.", field="email")
    with transaction.atomic():
        preference, _created = EmailPreference.objects.select_for_update().get_or_create(email=email, kind=kind)
        before = preference.enabled  # a new row holds the default: on
        if before == enabled:
            return preference
        preference.enabled = enabled
        preference.save(update_fields=["enabled", "updated_at"])
        audit_record(
            actor=actor,
            actor_label=actor_label,
            action="notifications.email_preference",
            obj=preference,
            object_repr=f"{email}: {kind}",
            from_state="on" if before else "off",
            to_state="on" if enabled else "off",
            details={"email": email, "kind": kind},
        )
        return preference


def email_preferences_set(*, email: str, preferences: dict[str, Any], actor: Any) -> None:
    """Set several kinds at once (a settings form, the API): all or nothing, one audit row per change."""
    unknown = sorted(set(preferences) - set(VENDOR_EMAIL_KINDS))
    if unknown:
        raise ApplicationError(
            f"Unknown kind of e-mail {unknown[0]!r}: one of {', '.join(sorted(VENDOR_EMAIL_KINDS))}.",
            field=unknown[0],
        )
    with transaction.atomic():
        for kind, enabled in preferences.items():
            email_preference_set(email=email, kind=kind, enabled=enabled, actor=actor)
