"""What changed between the live version and the one under review: pure functions.

No database here: the admin hands in the two snapshots and the scope catalogue
and gets back plain data to render. Whether customers must consent is asked of
versions.policies.upgrade_requires_consent, the rule the rollout applies.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from marketplace.scopes import SENSITIVITY_NAMES, scope_change
from versions.policies import (
    FREE_TO_PAID,
    SCOPE_REMOVED,
    SCOPE_REPLACED,
    Snapshot,
    free_to_paid,
    upgrade_requires_consent,
)

_MISSING = object()


@dataclass(frozen=True)
class ScopeRow:
    name: str
    sensitivity: str
    increase: bool = False  # widens access versus the live version
    needs_consent: bool = False  # ...and the listing's scheme asks its customers about it


@dataclass(frozen=True)
class PricingChange:
    old: str | None
    new: str

    @property
    def changed(self) -> bool:
        return self.old is not None and self.old != self.new

    @property
    def free_to_paid(self) -> bool:
        return free_to_paid(self.old, self.new)


@dataclass(frozen=True)
class DescriptorChange:
    key: str
    old: Any = None
    new: Any = None

    @property
    def old_json(self) -> str:
        return json.dumps(self.old, sort_keys=True, ensure_ascii=False)

    @property
    def new_json(self) -> str:
        return json.dumps(self.new, sort_keys=True, ensure_ascii=False)


@dataclass(frozen=True)
class DescriptorDiff:
    added: tuple[DescriptorChange, ...] = ()
    removed: tuple[DescriptorChange, ...] = ()
    changed: tuple[DescriptorChange, ...] = ()

    @property
    def is_empty(self) -> bool:
        return not (self.added or self.removed or self.changed)


@dataclass(frozen=True)
class ReviewDiff:
    """Everything a reviewer compares against the live version of the channel."""

    has_previous: bool
    added: tuple[ScopeRow, ...] = ()
    removed: tuple[ScopeRow, ...] = ()
    pricing: PricingChange | None = None
    consent_reasons: tuple[str, ...] = field(default_factory=tuple)
    price_needs_consent: bool = False

    @property
    def needs_consent(self) -> bool:
        return bool(self.consent_reasons)


def _sensitivity_name(level: int) -> str:
    return SENSITIVITY_NAMES.get(level, "admin")


def review_diff(
    *,
    previous_scopes: Iterable[str] | None,
    scopes: Iterable[str],
    previous_pricing: str | None,
    pricing: str,
    catalogue: Mapping[str, int],
    consent_applies: bool = True,
    scheme: str = "manual",
    previous_number: str | None = None,
    number: str | None = None,
) -> ReviewDiff:
    """Scopes added/removed (with sensitivity) and pricing versus the live version.

    `previous_scopes=None` means nothing is live yet: every scope is new, but no
    installed customer has to consent to anything. `consent_applies=False` is for a
    comparison with another channel's live version: it shows what widens, but that
    channel's installations are not the ones this version upgrades. The consent
    reasons come from the one policy the rollout uses (versions.policies).
    """
    has_previous = previous_scopes is not None
    change = scope_change(list(previous_scopes or ()), list(scopes), catalogue)
    reasons = []
    if consent_applies and has_previous:
        reasons = upgrade_requires_consent(
            Snapshot(previous_number or number or "0.0.0", tuple(previous_scopes), previous_pricing or "free"),
            Snapshot(number or previous_number or "0.0.0", tuple(scopes), pricing),
            scheme,
            catalogue=catalogue,
        )
    asked = {r.scope for r in reasons if r.scope}
    increased = set(change.increased)
    unknown = set(change.added) - set(catalogue)
    added = tuple(
        ScopeRow(
            s,
            _sensitivity_name(change.sensitivity[s]) + (" (not in the catalogue)" if s in unknown else ""),
            increase=has_previous and s in increased,
            needs_consent=s in asked,
        )
        for s in change.added
    )
    # Connect and forge ask about removed and replaced scopes as well (versions.policies).
    asked_removed = {r.extra.get("replaces") or r.scope for r in reasons if r.code in (SCOPE_REMOVED, SCOPE_REPLACED)}
    removed = tuple(
        ScopeRow(s, _sensitivity_name(change.sensitivity[s]), needs_consent=s in asked_removed) for s in change.removed
    )
    pricing_change = PricingChange(previous_pricing if has_previous else None, pricing)
    return ReviewDiff(
        has_previous,
        added,
        removed,
        pricing_change,
        tuple(str(r) for r in reasons),
        price_needs_consent=any(r.code == FREE_TO_PAID for r in reasons),
    )


def _flatten(value: Any, prefix: str = "") -> dict[str, Any]:
    """Nested objects become dotted keys (`lifecycle.installed`); other values are leaves."""
    if isinstance(value, Mapping) and (value or not prefix):
        flat: dict[str, Any] = {}
        for key, sub in value.items():
            flat.update(_flatten(sub, f"{prefix}.{key}" if prefix else str(key)))
        return flat
    return {prefix: value}


def _same(key: str, old: Any, new: Any) -> bool:
    # Scope lists are sets: their order (and case) never means a change.
    if key.rsplit(".", 1)[-1].lower() == "scopes" and isinstance(old, list) and isinstance(new, list):
        return sorted(str(s).lower() for s in old) == sorted(str(s).lower() for s in new)
    return old == new


def descriptor_diff(old: Any, new: Any) -> DescriptorDiff:
    """Added, removed and changed keys between two JSON descriptors (either may be None)."""
    old_flat = _flatten(old) if isinstance(old, Mapping) else ({} if old is None else {"(descriptor)": old})
    new_flat = _flatten(new) if isinstance(new, Mapping) else ({} if new is None else {"(descriptor)": new})
    added = tuple(DescriptorChange(k, new=new_flat[k]) for k in sorted(new_flat.keys() - old_flat.keys()))
    removed = tuple(DescriptorChange(k, old=old_flat[k]) for k in sorted(old_flat.keys() - new_flat.keys()))
    changed = tuple(
        DescriptorChange(k, old_flat[k], new_flat[k])
        for k in sorted(old_flat.keys() & new_flat.keys())
        if not _same(k, old_flat[k], new_flat[k])
    )
    return DescriptorDiff(added, removed, changed)
