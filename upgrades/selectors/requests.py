"""Reads: the update check (the hot path), sites and installations, rollout progress, adoption."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from core.errors import NotFound
from marketplace.selectors import scope_catalogue, scope_descriptions
from upgrades.models import (
    RequestState,
    UpgradeRequest,
)
from upgrades.selectors.sites import site_list_for_user
from versions import policies

# --- sites -------------------------------------------------------------------------------


def upgrade_request_list(*, user: Any, state: str | None = RequestState.PENDING) -> QuerySet[UpgradeRequest]:
    qs = UpgradeRequest.objects.filter(installation__site__in=site_list_for_user(user=user)).select_related(
        "installation__site", "installation__listing", "from_version", "to_version", "decided_by"
    )
    if state:
        qs = qs.filter(state=state)
    return qs.order_by("-created_at", "-id")


def upgrade_request_get_for_user(*, user: Any, pk: int) -> UpgradeRequest:
    request = upgrade_request_list(user=user, state=None).filter(pk=pk).first()
    if request is None:
        raise NotFound("No such upgrade request among your sites.")
    return request


def upgrade_request_changes(request: UpgradeRequest) -> dict[str, Any]:
    """Exactly what approving changes: versions, scopes added/removed with sensitivity, price."""
    installation = request.installation
    catalogue = scope_catalogue()
    scopes = policies.scope_changes_for_display(installation.granted_scopes, request.to_version.scopes, catalogue)
    words = scope_descriptions(row["scope"] for rows in scopes.values() for row in rows)
    for rows in scopes.values():
        for row in rows:
            row["words"] = words[row["scope"]]
    return {
        "from_number": installation.version.number if installation.version_id else request.from_version.number,
        "to_number": request.to_version.number,
        "scopes": scopes,
        "price": policies.price_change(installation.license, request.to_version.pricing),
        "update_notes": request.to_version.update_notes,
        "reasons": request.reasons,
    }


def upgrade_request_for_page(*, pk: int) -> UpgradeRequest:
    return UpgradeRequest.objects.select_related(
        "installation__site",
        "installation__listing",
        "installation__version",
        "from_version",
        "to_version",
        "decided_by",
    ).get(pk=pk)
