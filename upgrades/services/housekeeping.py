"""The beat's minute of upkeep: apply what became due, remind, expire."""

from __future__ import annotations

from upgrades.services.applying import upgrades_apply_due
from upgrades.services.consent import upgrade_requests_due_reminder, upgrade_requests_expire


def upgrades_housekeeping() -> dict[str, int]:
    return {
        "applied": upgrades_apply_due(),
        "reminded": len(upgrade_requests_due_reminder()),
        "expired": upgrade_requests_expire(),
    }
