"""REST API of rollouts for vendors: a listing's rollouts with their progress, halt and resume.
Thin: selectors and services."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema
from rest_framework import generics
from rest_framework.request import Request
from rest_framework.response import Response

from core.serializers import error_responses
from marketplace.selectors import listing_get_for_user
from upgrades import selectors, services
from upgrades.serializers import ListingRolloutsSerializer, RolloutStageSerializer, RolloutStateSerializer


def _rollout_data(item: dict[str, Any]) -> dict[str, Any]:
    r, p = item["rollout"], item["progress"]
    counts = {k: p[k] for k in ("applied", "scheduled", "awaiting_consent", "rejected", "failed", "expired", "total")}
    data = {"id": r.pk, "version": r.version.number, "state": r.state, "created_at": r.created_at, "counts": counts}
    if r.stages:  # issue #16: a rollout in stages says where it is
        data["staged"] = {
            "stages": r.stages,
            "stage": r.stage_index + 1,
            "percent": r.stage_percent,
            "started_at": r.stage_started_at,
            "advance_every_hours": r.advance_every_hours,
            "halt_failure_percent": r.halt_failure_percent,
            "halt_reason": r.halt_reason,
        }
    return data


class ListingRolloutsApi(generics.GenericAPIView):
    """The listing's latest rollouts with their progress, and how many installations run each version."""

    serializer_class = ListingRolloutsSerializer
    pagination_class = None

    @extend_schema(responses={200: ListingRolloutsSerializer, **error_responses(404)})
    def get(self, request: Request, key: str) -> Response:
        listing = listing_get_for_user(user=request.user, key=key)
        panel = selectors.listing_rollout_panel(listing=listing)
        body = {
            "listing": listing.key,
            "rollouts": [_rollout_data(i) for i in panel["rollouts"]],
            "adoption": panel["adoption"],
        }
        return Response(ListingRolloutsSerializer(body).data)


class RolloutControlApi(generics.GenericAPIView):
    action = "halt"
    serializer_class = RolloutStateSerializer

    @extend_schema(request=None, responses={200: RolloutStateSerializer, **error_responses(403, 404, 409)})
    def post(self, request: Request, pk: int) -> Response:
        rollout = selectors.rollout_get_for_user(user=request.user, pk=pk)
        if self.action == "halt":
            rollout = services.rollout_halt(rollout=rollout, actor=request.user)
        else:
            rollout = services.rollout_resume(rollout=rollout, actor=request.user)
        return Response(RolloutStateSerializer(rollout).data)


class RolloutStageAdvanceApi(generics.GenericAPIView):
    """Issue #16: advance a running staged rollout to its next stage."""

    serializer_class = RolloutStageSerializer

    @extend_schema(request=None, responses={200: RolloutStageSerializer, **error_responses(400, 403, 404, 409)})
    def post(self, request: Request, pk: int) -> Response:
        rollout = selectors.rollout_get_for_user(user=request.user, pk=pk)
        rollout = services.rollout_stage_advance(rollout=rollout, actor=request.user)
        return Response(RolloutStageSerializer(rollout).data)
