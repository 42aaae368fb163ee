"""REST API of upgrade requests: a site admin lists the requests of their sites and approves or
rejects one. Thin: selectors and services."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import exceptions, generics
from rest_framework.request import Request
from rest_framework.response import Response

from core.serializers import error_responses
from upgrades import selectors, services
from upgrades.models import RequestState
from upgrades.serializers import UpgradeRequestOutputSerializer


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


class UpgradeRequestListApi(generics.GenericAPIView):
    """The upgrade requests of the caller's sites, newest first, a page at a time."""

    serializer_class = UpgradeRequestOutputSerializer
    filter_backends: list = []

    @extend_schema(
        parameters=[OpenApiParameter("state", str, enum=[*RequestState.values, "all"], description="default: pending")],
        responses={200: UpgradeRequestOutputSerializer(many=True), **error_responses(400, 404)},
    )
    def get(self, request: Request) -> Response:
        state = request.query_params.get("state", RequestState.PENDING)
        if state not in [*RequestState.values, "all"]:
            raise exceptions.ValidationError(
                {"state": [f"state must be one of {', '.join(RequestState.values)} or all."]}
            )
        qs = selectors.upgrade_request_list(user=request.user, state=None if state == "all" else state)
        page = self.paginate_queryset(qs)
        return self.get_paginated_response(
            UpgradeRequestOutputSerializer([_request_data(r) for r in page], many=True).data
        )


class UpgradeRequestDecisionApi(generics.GenericAPIView):
    action = "approve"
    serializer_class = UpgradeRequestOutputSerializer

    @extend_schema(request=None, responses={200: UpgradeRequestOutputSerializer, **error_responses(400, 403, 404, 409)})
    def post(self, request: Request, pk: int) -> Response:
        selectors.upgrade_request_get_for_user(user=request.user, pk=pk)
        if self.action == "approve":
            services.upgrade_request_approve(request_id=pk, actor=request.user)
        else:
            services.upgrade_request_reject(request_id=pk, actor=request.user)
        decided = selectors.upgrade_request_get_for_user(user=request.user, pk=pk)
        return Response(UpgradeRequestOutputSerializer(_request_data(decided)).data)
