"""REST API of the release controls (issue #16): publish in stages, yank and un-yank. Thin: one service each."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import generics
from rest_framework.request import Request
from rest_framework.response import Response

from core.serializers import error_responses
from versions.models import Version
from versions.selectors import version_get_for_user
from versions.serializers import (
    PublishInStagesInputSerializer,
    VersionOutputSerializer,
    VersionYankOutputSerializer,
    YankInputSerializer,
)
from versions.services.stages import version_publish_in_stages
from versions.services.yanks import version_unyank, version_yank


def yank_data(version: Version) -> dict:
    yank = getattr(version, "yank", None)
    return {
        "id": version.pk,
        "number": version.number,
        "yanked": yank is not None,
        "reason": yank.reason if yank else "",
        "yanked_at": yank.yanked_at if yank else None,
    }


class VersionPublishInStagesApi(generics.GenericAPIView):
    serializer_class = PublishInStagesInputSerializer

    @extend_schema(
        request=PublishInStagesInputSerializer,
        responses={200: VersionOutputSerializer, **error_responses(400, 403, 404, 409)},
    )
    def post(self, request: Request, pk: int) -> Response:
        version = version_get_for_user(user=request.user, pk=pk)
        data = PublishInStagesInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        version = version_publish_in_stages(version=version, actor=request.user, **data.validated_data)
        return Response(VersionOutputSerializer(version).data)


class VersionYankApi(generics.GenericAPIView):
    serializer_class = YankInputSerializer

    @extend_schema(
        request=YankInputSerializer, responses={200: VersionYankOutputSerializer, **error_responses(400, 403, 404, 409)}
    )
    def post(self, request: Request, pk: int) -> Response:
        version = version_get_for_user(user=request.user, pk=pk)
        data = YankInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        version_yank(version=version, actor=request.user, reason=data.validated_data["reason"])
        return Response(VersionYankOutputSerializer(yank_data(Version.objects.get(pk=version.pk))).data)


class VersionUnyankApi(generics.GenericAPIView):
    serializer_class = VersionYankOutputSerializer

    @extend_schema(request=None, responses={200: VersionYankOutputSerializer, **error_responses(403, 404, 409)})
    def post(self, request: Request, pk: int) -> Response:
        version = version_get_for_user(user=request.user, pk=pk)
        version_unyank(version=version, actor=request.user)
        return Response(VersionYankOutputSerializer(yank_data(Version.objects.get(pk=version.pk))).data)
