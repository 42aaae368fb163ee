"""Yank and un-yank a released version (issue #16, item 3).

A yanked version is offered to nobody and installable by nobody; its users are
offered a way off it (upgrades.selectors.updates). Its vendor's members or
staff yank it with a reason, which site admins running it read. Each change
touches the version's updated_at, so the update check's caches (ETags) change,
and calls the hook that stops its rollout's open work (upgrades).
"""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils import timezone

from core.errors import TransitionNotAllowed
from core.services import audit_record
from marketplace.permissions import require_vendor_member_or_staff
from versions import hooks, policies
from versions.models import Version, VersionYank
from versions.services._rules import _lock

YANKED, RELEASED = "yanked", "released"


def version_yank(*, version: Version, actor: Any, reason: str) -> VersionYank:
    reason = policies.yank_reason_check(reason)
    with transaction.atomic():
        version = _lock(version)
        require_vendor_member_or_staff(actor, version.listing.vendor_id)
        if version.state not in policies.RELEASED_STATES:
            raise TransitionNotAllowed(
                f"Only a released version can be yanked: {version} is {version.get_state_display().lower()}."
            )
        if VersionYank.objects.filter(version_id=version.pk).exists():
            raise TransitionNotAllowed(f"{version} is already yanked.")
        now = timezone.now()
        yank = VersionYank.objects.create(
            version=version,
            reason=reason,
            yanked_by=actor if getattr(actor, "is_authenticated", False) else None,
            yanked_at=now,
        )
        Version.objects.filter(pk=version.pk).update(updated_at=now)
        audit_record(
            actor=actor,
            action="version.yank",
            obj=version,
            object_repr=version.coordinates,
            from_state=RELEASED,
            to_state=YANKED,
            details={"reason": reason, "state": version.state},
            at=now,
        )
        hooks.version_yanked(version_id=version.pk)
    return yank


def version_unyank(*, version: Version, actor: Any) -> Version:
    with transaction.atomic():
        version = _lock(version)
        require_vendor_member_or_staff(actor, version.listing.vendor_id)
        yank = VersionYank.objects.filter(version_id=version.pk).first()
        if yank is None:
            raise TransitionNotAllowed(f"{version} is not yanked.")
        now = timezone.now()
        reason = yank.reason
        yank.delete()
        Version.objects.filter(pk=version.pk).update(updated_at=now)
        audit_record(
            actor=actor,
            action="version.unyank",
            obj=version,
            object_repr=version.coordinates,
            from_state=YANKED,
            to_state=RELEASED,
            details={"reason_was": reason},
            at=now,
        )
    return version
