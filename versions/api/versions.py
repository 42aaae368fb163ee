"""REST API for versions: validate input, call one service or selector, serialise."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import generics, status
from rest_framework.request import Request
from rest_framework.response import Response

from core.serializers import error_responses
from marketplace.selectors import listing_get_for_user
from versions import services
from versions.models import Version
from versions.selectors import VersionFilter, version_get_for_user, version_history, version_list
from versions.serializers import (
    TransitionInputSerializer,
    VersionDuplicateInputSerializer,
    VersionInputSerializer,
    VersionOutputSerializer,
    VersionTransitionSerializer,
    VersionUpdateSerializer,
)

VENDOR_TRANSITIONS = {
    "submit": services.version_submit,
    "cancel": services.version_cancel,
    # Back to draft from pending approval, in review or approved (optional "comment": why).
    "withdraw": services.version_withdraw,
    "publish": services.version_publish,
}


class VersionListCreateApi(generics.GenericAPIView):
    serializer_class = VersionOutputSerializer
    filterset_class = VersionFilter
    queryset = Version.objects.none()  # names the model for the schema's filters; rows come from version_list

    @extend_schema(
        operation_id="versions_list",
        parameters=[
            OpenApiParameter("listing", str, description="Listing key"),
            OpenApiParameter("state", str, many=True),
            OpenApiParameter("channel", str),
            OpenApiParameter("number_min", str, description="Lowest version number (SemVer precedence)"),
            OpenApiParameter("number_max", str, description="Highest version number (SemVer precedence)"),
        ],
        responses={200: VersionOutputSerializer(many=True), **error_responses(400, 404)},
    )
    def get(self, request: Request) -> Response:
        qs = version_list(user=request.user, filters=request.query_params)
        page = self.paginate_queryset(qs)
        return self.get_paginated_response(VersionOutputSerializer(page, many=True).data)

    @extend_schema(
        request=VersionInputSerializer, responses={201: VersionOutputSerializer, **error_responses(400, 403, 404, 409)}
    )
    def post(self, request: Request) -> Response:
        data = VersionInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = dict(data.validated_data)
        listing = listing_get_for_user(user=request.user, key=values.pop("listing"))
        version = services.version_create(listing=listing, actor=request.user, source="api", **values)
        return Response(VersionOutputSerializer(version).data, status=status.HTTP_201_CREATED)


class VersionDetailApi(generics.GenericAPIView):
    serializer_class = VersionOutputSerializer

    @extend_schema(responses={200: VersionOutputSerializer, **error_responses(404)})
    def get(self, request: Request, pk: int) -> Response:
        return Response(VersionOutputSerializer(version_get_for_user(user=request.user, pk=pk)).data)

    @extend_schema(
        request=VersionUpdateSerializer, responses={200: VersionOutputSerializer, **error_responses(400, 403, 404, 409)}
    )
    def patch(self, request: Request, pk: int) -> Response:
        version = version_get_for_user(user=request.user, pk=pk)
        data = VersionUpdateSerializer(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        version = services.version_update(version=version, actor=request.user, **data.validated_data)
        return Response(VersionOutputSerializer(version).data)


class VersionHistoryApi(generics.GenericAPIView):
    """The version's transitions, newest first (a version has a handful: not paged)."""

    serializer_class = VersionTransitionSerializer
    pagination_class = None
    filter_backends: list = []

    @extend_schema(responses={200: VersionTransitionSerializer(many=True), **error_responses(404)})
    def get(self, request: Request, pk: int) -> Response:
        version = version_get_for_user(user=request.user, pk=pk)
        return Response(VersionTransitionSerializer(version_history(version=version), many=True).data)


class VersionTransitionApi(generics.GenericAPIView):
    serializer_class = TransitionInputSerializer
    transition: str = ""

    @extend_schema(
        request=TransitionInputSerializer,
        responses={200: VersionOutputSerializer, **error_responses(400, 403, 404, 409)},
    )
    def post(self, request: Request, pk: int) -> Response:
        version = version_get_for_user(user=request.user, pk=pk)
        data = TransitionInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        version = VENDOR_TRANSITIONS[self.transition](version=version, actor=request.user, **data.validated_data)
        return Response(VersionOutputSerializer(version).data)


class VersionDuplicateApi(generics.GenericAPIView):
    serializer_class = VersionDuplicateInputSerializer

    @extend_schema(
        request=VersionDuplicateInputSerializer,
        responses={201: VersionOutputSerializer, **error_responses(400, 403, 404, 409)},
    )
    def post(self, request: Request, pk: int) -> Response:
        version = version_get_for_user(user=request.user, pk=pk)
        data = VersionDuplicateInputSerializer(data=request.data if hasattr(request.data, "get") else {})
        data.is_valid(raise_exception=True)
        copy = services.version_duplicate(version=version, actor=request.user, number=data.validated_data.get("number"))
        return Response(VersionOutputSerializer(copy).data, status=status.HTTP_201_CREATED)
