"""REST API: the update check (site token or site admin), installations,
upgrade requests, and rollout control for vendors. Thin: selectors and services."""

from __future__ import annotations

from typing import Any

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import exceptions
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from upgrades import selectors, services
from upgrades.models import RequestState


def _request_data(r: Any) -> dict[str, Any]:
    return {
        "id": r.pk,
        "site": r.installation.site_id,
        "installation": r.installation_id,
        "listing": r.installation.listing.key,
        "from": r.from_version.number,
        "to": r.to_version.number,
        "reasons": r.reasons,
        "state": r.state,
        "decided_by": r.decider_label if r.decided_at else None,
        "decided_at": r.decided_at,
        "created_at": r.created_at,
    }


class UpgradeRequestListApi(APIView):
    @extend_schema(
        parameters=[OpenApiParameter("state", str, enum=[*RequestState.values, "all"], description="default: pending")],
        responses=OpenApiTypes.OBJECT,
    )
    def get(self, request: Request) -> Response:
        state = request.query_params.get("state", RequestState.PENDING)
        if state not in [*RequestState.values, "all"]:
            raise exceptions.ValidationError(
                {"state": [f"state must be one of {', '.join(RequestState.values)} or all."]}
            )
        qs = selectors.upgrade_request_list(user=request.user, state=None if state == "all" else state)
        return Response({"results": [_request_data(r) for r in qs[:200]]})


class UpgradeRequestDecisionApi(APIView):
    action = "approve"

    @extend_schema(request=None, responses=OpenApiTypes.OBJECT)
    def post(self, request: Request, pk: int) -> Response:
        selectors.upgrade_request_get_for_user(user=request.user, pk=pk)
        if self.action == "approve":
            services.upgrade_request_approve(request_id=pk, actor=request.user)
        else:
            services.upgrade_request_reject(request_id=pk, actor=request.user)
        return Response(_request_data(selectors.upgrade_request_get_for_user(user=request.user, pk=pk)))
