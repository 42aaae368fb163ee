"""Bundle scheme: a vendor shares an app group; the portal numbers it.

The vendor types the MAJOR; the MINOR counts one up on every share of that
MAJOR (1.0.0, 1.1.0, 1.2.0, ... then 2.0.0 when the vendor says so), also when
no component changed: the Rainbond seed accumulates the minor version on every
share. Each component carries its own deploy version, and an installation is
offered an update only when a component version differs from what it runs
(versions.policies.version_reaches), so a share that changed no component is
offered to nobody. Shares are system versions: they are released without
review, and customer sites whose components differ are upgraded by the rollout
without consent.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction

from core.errors import ApplicationError
from marketplace.models import Listing
from marketplace.permissions import require_vendor_member
from versions import validation
from versions.models import FROZEN_STATES, Source, Version
from versions.policies import component_changes
from versions.schemes import BUNDLE, DEFAULT_CHANNEL, bundle_next_number
from versions.services import last_published, version_create, version_submit


def _clean_major(value: Any) -> int:
    try:
        major = int(value)
    except (TypeError, ValueError):
        raise ApplicationError("MAJOR must be a whole number such as 1 or 2.", field="major") from None
    if isinstance(value, bool) or major < 0 or major > 10**6:
        raise ApplicationError("MAJOR must be a whole number from 0 to 1000000.", field="major")
    return major


def _notes_for(changes: list[dict[str, Any]]) -> str:
    parts = []
    for change in changes:
        if change["from"] is None:
            parts.append(f"{change['name']} {change['to']} (new)")
        elif change["to"] is None:
            parts.append(f"{change['name']} removed")
        else:
            parts.append(f"{change['name']} {change['from']} -> {change['to']}")
    if not parts:
        return "Shared again; no component changed, so no site is offered this version."
    notes = "Components updated: " + "; ".join(parts) + "."
    return notes if len(notes) <= validation.UPDATE_NOTES_MAX else notes[: validation.UPDATE_NOTES_MAX - 3] + "..."


def bundle_share(
    *, listing: Listing, actor: Any, major: Any, components: Any, update_notes: str = ""
) -> tuple[Version, list[dict[str, Any]]]:
    """Share the app group: returns the new version and the components it changed against the live one.

    Every share makes a version; an empty list of changes means no site is offered it.
    Refusals name the field.
    """
    require_vendor_member(actor, listing.vendor_id)
    if listing.scheme != BUNDLE:
        raise ApplicationError(
            f"{listing.key} uses the {listing.scheme} scheme: shares are for bundle listings.", field="listing"
        )
    major = _clean_major(major)
    components = validation.clean_components(components)
    if not components:
        raise ApplicationError("A share needs at least one component (name and version).", field="components")
    with transaction.atomic():
        # The listing lock makes concurrent shares count the MINOR one after the other.
        locked = Listing.objects.select_for_update().get(pk=listing.pk)
        released = [
            v.parsed_number
            for v in Version.objects.filter(listing=locked, channel=DEFAULT_CHANNEL, state__in=FROZEN_STATES).only(
                "number"
            )
        ]
        highest_major = max((n.major for n in released), default=None)
        if highest_major is not None and major < highest_major:
            raise ApplicationError(
                f"MAJOR {major} is below the live MAJOR {highest_major}: share with {highest_major} or higher.",
                field="major",
            )
        live = last_published(locked, DEFAULT_CHANNEL)
        changes = component_changes(live.components if live else [], components)
        version = version_create(
            listing=locked,
            actor=actor,
            number=bundle_next_number(major, released).text,
            update_notes=(update_notes or "").strip() or _notes_for(changes),
            components=components,
            scopes=live.scopes if live else [],
            pricing=live.pricing if live else locked.pricing,
            source=Source.SHARE,
        )
        comment = "shared app group" if changes else "shared app group: no component changed"
        return version_submit(version=version, actor=actor, comment=comment), changes
