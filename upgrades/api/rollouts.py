"""REST API: the update check (site token or site admin), installations,
upgrade requests, and rollout control for vendors. Thin: selectors and services."""

from __future__ import annotations

from typing import Any

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from marketplace.selectors import listing_get_for_user
from upgrades import selectors, services


def _rollout_data(item: dict[str, Any]) -> dict[str, Any]:
    r, p = item["rollout"], item["progress"]
    counts = {k: p[k] for k in ("applied", "scheduled", "awaiting_consent", "rejected", "failed", "expired", "total")}
    return {"id": r.pk, "version": r.version.number, "state": r.state, "created_at": r.created_at, "counts": counts}


class ListingRolloutsApi(APIView):
    @extend_schema(responses=OpenApiTypes.OBJECT)
    def get(self, request: Request, key: str) -> Response:
        listing = listing_get_for_user(user=request.user, key=key)
        panel = selectors.listing_rollout_panel(listing=listing)
        return Response(
            {
                "listing": listing.key,
                "rollouts": [_rollout_data(i) for i in panel["rollouts"]],
                "adoption": panel["adoption"],
            }
        )


class RolloutControlApi(APIView):
    action = "halt"

    @extend_schema(request=None, responses=OpenApiTypes.OBJECT)
    def post(self, request: Request, pk: int) -> Response:
        rollout = selectors.rollout_get_for_user(user=request.user, pk=pk)
        if self.action == "halt":
            rollout = services.rollout_halt(rollout=rollout, actor=request.user)
        else:
            rollout = services.rollout_resume(rollout=rollout, actor=request.user)
        return Response({"id": rollout.pk, "state": rollout.state})
