"""Applying upgrades: set-based, idempotent (a second run changes nothing).

Apps with an OCP onUpgrade hook are the exception: their upgrades leave the
set-based path and wait for the hook's delivery (upgrades.services.callbacks),
which applies each one with `_apply(..., on_upgrade_called=True)` once the app
answered, so no call to an app ever happens inside this transaction.
"""

from __future__ import annotations

import time
from collections import defaultdict
from datetime import datetime
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from core.db import run_in_threads
from core.services import audit_event, audit_record_many, audit_record_rows, audit_row
from upgrades import emails, tasks
from upgrades.lifecycle import lifecycle_url
from upgrades.models import (
    NOT_RUNNING_STATES,
    Installation,
    InstallationState,
    RolloutState,
    Upgrade,
    UpgradeState,
)
from upgrades.services._common import UPGRADE, installation_row
from upgrades.services.callbacks import upgrade_hook_deliveries, upgrades_wait_for_hook
from versions.models import Version


def _apply(
    upgrades: list[Upgrade],
    now: datetime,
    *,
    actor: Any = None,
    actor_label: str = "",
    on_upgrade_called: bool = False,
) -> list[int]:
    """Apply locked, scheduled upgrades: a fixed number of statements per target version.

    An installation deactivated meanwhile (its site moved to another host
    product, or the app was switched off) is not touched: its upgrade fails
    with the reason, and the vendor sees it counted as failed.

    Each upgrade gets its audit row (applied or failed), and each upgraded
    installation one (its version moved), all written with one bulk insert.
    `actor` is whoever asked for it now (an approving admin); None: the system.

    An app with an onUpgrade hook is called first (unless `on_upgrade_called`:
    its delivery is applying it now): its upgrades stay scheduled, marked as
    waiting for the hook. onFinalizeUpgrade deliveries are made for what moved.
    """
    if not upgrades:
        return []
    read = list(
        Installation.objects.filter(pk__any=[u.installation_id for u in upgrades]).values_list("pk", "state", "site_id")
    )
    states = {pk: state for pk, state, _ in read}
    site_of = {pk: site_id for pk, _, site_id in read}
    failed = [u.pk for u in upgrades if states.get(u.installation_id) in NOT_RUNNING_STATES]
    common = {"actor": actor, "actor_label": actor_label, "at": now}
    events = []
    rows: list[tuple] = []
    if failed:
        outcome = "not applied: the installation is deactivated, disabled or uninstalled"
        Upgrade.objects.filter(pk__any=failed, state=UpgradeState.SCHEDULED).update(
            state=UpgradeState.FAILED, applied_at=now, outcome=outcome
        )
        events += [
            audit_event(
                action="upgrade.fail",
                object_type=UPGRADE,
                object_id=u.pk,
                object_repr=f"{u.to_version.listing.name} {u.to_version.number}",
                from_state=UpgradeState.SCHEDULED,
                to_state=UpgradeState.FAILED,
                details={"reason": outcome, "installation_id": u.installation_id},
                **common,
            )
            for u in upgrades
            if u.pk in failed
        ]
    by_version: dict[int, list[Upgrade]] = defaultdict(list)
    for upgrade in upgrades:
        if upgrade.pk not in failed:
            by_version[upgrade.to_version_id].append(upgrade)
    applied: list[int] = []
    for group in by_version.values():
        version = group[0].to_version
        if not on_upgrade_called and lifecycle_url(listing=version.listing, version=version, event="onUpgrade"):
            events += upgrades_wait_for_hook(upgrades=group, version=version, now=now, common=common)
            continue
        Installation.objects.filter(pk__any=[u.installation_id for u in group]).update(
            version_id=version.pk,
            granted_scopes=sorted(version.scopes),
            license=version.pricing,
            state=InstallationState.ACTIVE,
            updated_at=now,
        )
        ids = [u.pk for u in group]
        Upgrade.objects.filter(pk__any=ids, state=UpgradeState.SCHEDULED).update(
            state=UpgradeState.APPLIED, applied_at=now, outcome=f"installed {version.number}"
        )
        upgrade_hook_deliveries(upgrades=group, version=version, hook="onFinalizeUpgrade", now=now)
        applied.extend(ids)
        name, number = version.listing.name, version.number
        object_repr = f"{name} {number}"
        for upgrade in group:
            moved = {"upgrade_id": upgrade.pk, "from_version_id": upgrade.from_version_id, "to_version": number}
            rows.append(
                audit_row(
                    action="upgrade.apply",
                    object_type=UPGRADE,
                    object_id=upgrade.pk,
                    object_repr=object_repr,
                    from_state=UpgradeState.SCHEDULED,
                    to_state=UpgradeState.APPLIED,
                    details={"installation_id": upgrade.installation_id, "to_version": number},
                    **common,
                )
            )
            rows.append(
                installation_row(
                    action="installation.upgrade",
                    installation_id=upgrade.installation_id,
                    name=name,
                    from_state=states.get(upgrade.installation_id, ""),
                    to_state=InstallationState.ACTIVE,
                    details=moved,
                    **common,
                )
            )
    audit_record_many(events)
    audit_record_rows(rows)  # the applied upgrades' rows: tuples, no model instances (thousands a batch)
    # The "upgraded" e-mails are queued with the change they announce (the outbox, upgrades.emails).
    sites = {u.pk: site_of[u.installation_id] for u in upgrades if u.installation_id in site_of}
    if applied and emails.outbox_add_applied(applied, new=True, sites=sites):
        transaction.on_commit(tasks.send_outbox.delay)
    return applied


def upgrades_apply_due(*, now: datetime | None = None, limit: int | None = None) -> int:
    """Apply one batch of the scheduled upgrades whose time has come (halted rollouts wait); returns
    how many were applied. A full batch enqueues the next one after its commit."""
    due, applied = _apply_due_batch(now=now or timezone.now(), limit=limit or settings.UPGRADE_APPLY_BATCH_SIZE)
    if due == (limit or settings.UPGRADE_APPLY_BATCH_SIZE):
        transaction.on_commit(tasks.upgrade_apply_due.delay)
    return applied


def upgrades_apply_due_for(*, budget_seconds: float | None = None) -> tuple[int, bool]:
    """Apply due upgrades batch after batch, each batch its own transaction, until none is due or
    UPGRADE_APPLY_SECONDS is spent: (applied, more left?). One task message applies 50,000, not
    one message (and its trip through the broker) per batch; the task sends another when more is left.

    On PostgreSQL, UPGRADE_APPLIERS threads of this one worker apply at once, each taking its own
    batches (SKIP LOCKED: never the same upgrade; an installation has one scheduled upgrade at
    most, so never the same installation either) on its own database connection: while one
    waits for its statements, another builds its rows. Inside a transaction (tests) one applies.
    """
    budget = settings.UPGRADE_APPLY_SECONDS if budget_seconds is None else budget_seconds
    deadline = time.monotonic() + budget
    return run_in_threads(_apply_due_until, threads=settings.UPGRADE_APPLIERS, deadline=deadline, name="apply")


def _apply_due_until(deadline: float) -> tuple[int, bool]:
    limit, total = settings.UPGRADE_APPLY_BATCH_SIZE, 0
    while time.monotonic() < deadline:
        due, applied = _apply_due_batch(now=timezone.now(), limit=limit)
        total += applied
        if due < limit:
            return total, False
    return total, True


def _apply_due_batch(*, now: datetime, limit: int) -> tuple[int, int]:
    """(upgrades due in this batch, upgrades applied)."""
    with transaction.atomic():
        due = list(
            Upgrade.objects.select_for_update(skip_locked=True, of=("self",))
            .filter(state=UpgradeState.SCHEDULED, due_at__lte=now, hook_started_at__isnull=True)
            .exclude(rollout__state=RolloutState.HALTED)
            .order_by("due_at", "pk")[:limit]
        )
        # A batch has few target versions: load each once (not one copy per upgrade, as a join would).
        versions = Version.objects.select_related("listing").in_bulk({u.to_version_id for u in due})
        for upgrade in due:
            upgrade.to_version = versions[upgrade.to_version_id]
        applied = _apply(due, now)
    return len(due), len(applied)


def upgrade_apply(*, upgrade_id: int, now: datetime | None = None) -> Upgrade | None:
    """Apply one upgrade now; applying it again changes nothing."""
    now = now or timezone.now()
    with transaction.atomic():
        upgrade = (
            Upgrade.objects.select_for_update(of=("self",))
            .select_related("to_version__listing")
            .filter(pk=upgrade_id)
            .first()
        )
        if upgrade is None or upgrade.state != UpgradeState.SCHEDULED or upgrade.hook_started_at is not None:
            return upgrade  # done, or waiting for the app's onUpgrade hook
        _apply([upgrade], now)
        upgrade.refresh_from_db()
    return upgrade
