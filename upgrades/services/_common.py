"""Shared by the service modules: closing what is still open for some installations, with its audit rows."""

from __future__ import annotations

from typing import Any

from core.models import AuditEvent
from core.services import audit_event, audit_record, audit_record_many, audit_row
from upgrades.models import Installation, InstallationState

# Type strings of this app's audited objects (core.AuditEvent.object_type).
INSTALLATION = "upgrades.installation"
UPGRADE = "upgrades.upgrade"
UPGRADE_REQUEST = "upgrades.upgraderequest"
MIGRATION_OFFER = "upgrades.migrationoffer"


def installation_create_active(*, site: Any, listing: Any, version: Any, actor: Any, details: dict, now: Any) -> Any:
    """A new installation of `version`, running, with its scopes granted and its price as licence;
    audited as installed (`details` say how: a beta link, a member's test). The caller holds the
    locks and has checked there is none yet."""
    installation = Installation.objects.create(
        site=site,
        listing=listing,
        version=version,
        granted_scopes=sorted(version.scopes),
        license=version.pricing,
        state=InstallationState.ACTIVE,
    )
    audit_record(
        actor=actor,
        action="installation.install",
        object_type=INSTALLATION,
        object_id=installation.pk,
        object_repr=listing.name,
        to_state=installation.state,
        details={"version": version.number, **details},
        at=now,
    )
    return installation


def installation_event(
    *,
    actor: Any,
    action: str,
    installation_id: int,
    name: str,
    from_state: str,
    to_state: str,
    details: dict[str, Any] | None = None,
    at: Any = None,
    actor_label: str = "",
) -> AuditEvent:
    """An (unsaved) audit row of an installation; `name` is the app's name, as the site's history shows it."""
    return audit_event(
        actor=actor,
        actor_label=actor_label,
        action=action,
        object_type=INSTALLATION,
        object_id=installation_id,
        object_repr=name,
        from_state=from_state,
        to_state=to_state,
        details=details,
        at=at,
    )


def installation_row(
    *,
    actor: Any,
    action: str,
    installation_id: int,
    name: str,
    from_state: str,
    to_state: str,
    at: Any,
    details: dict[str, Any] | None = None,
    actor_label: str = "",
) -> tuple:
    """`installation_event` as a tuple (core.services.audit_row), for the set-based services."""
    return audit_row(
        actor=actor,
        actor_label=actor_label,
        action=action,
        object_type=INSTALLATION,
        object_id=installation_id,
        object_repr=name,
        from_state=from_state,
        to_state=to_state,
        details=details,
        at=at,
    )


def supersede_open_work(
    *, installations: dict[str, Any], outcome: str, now: Any, actor: Any = None, actor_label: str = ""
) -> tuple[int, int]:
    """Close what is still open for some installations: pending consent requests and
    scheduled upgrades become superseded (set-based), each with its audit row.
    Returns (requests, upgrades).

    `installations` filters Upgrade/UpgradeRequest by installation, e.g.
    {"installation_id__in": ids} or {"installation__site_id": site_id}. A fixed
    number of statements whatever the number of rows: lock and read the ids,
    update them, insert the audit rows.
    """
    from upgrades.models import RequestState, Upgrade, UpgradeRequest, UpgradeState

    columns = ("pk", "installation__listing__name", "to_version__number")
    requests = list(
        UpgradeRequest.objects.select_for_update(of=("self",))
        .filter(state=RequestState.PENDING, **installations)
        .values_list(*columns)
    )
    upgrades = list(
        Upgrade.objects.select_for_update(of=("self",))
        .filter(state=UpgradeState.SCHEDULED, **installations)
        .values_list(*columns)
    )
    if requests:
        UpgradeRequest.objects.filter(pk__any=[r[0] for r in requests]).update(
            state=RequestState.SUPERSEDED, decided_at=now
        )
    if upgrades:
        Upgrade.objects.filter(pk__any=[u[0] for u in upgrades]).update(state=UpgradeState.SUPERSEDED, outcome=outcome)
    common = {"actor": actor, "actor_label": actor_label, "details": {"reason": outcome}, "at": now}
    audit_record_many(
        [
            audit_event(
                action="upgrade_request.supersede",
                object_type=UPGRADE_REQUEST,
                object_id=pk,
                object_repr=f"{name} {number}",
                from_state=RequestState.PENDING,
                to_state=RequestState.SUPERSEDED,
                **common,
            )
            for pk, name, number in requests
        ]
        + [
            audit_event(
                action="upgrade.supersede",
                object_type=UPGRADE,
                object_id=pk,
                object_repr=f"{name} {number}",
                from_state=UpgradeState.SCHEDULED,
                to_state=UpgradeState.SUPERSEDED,
                **common,
            )
            for pk, name, number in upgrades
        ]
    )
    return len(requests), len(upgrades)
