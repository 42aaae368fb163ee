"""REST API for the release controls (issue #16): re-release, and schedule or cancel a publish."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import generics, status
from rest_framework.request import Request
from rest_framework.response import Response

from core.serializers import error_responses
from versions import services
from versions.selectors import version_get_for_user
from versions.serializers import RereleaseInputSerializer, ScheduleInputSerializer, VersionOutputSerializer
from versions.services.releases import publish_time_from_local


class VersionRereleaseApi(generics.GenericAPIView):
    """Re-release a superseded version: a new, higher version with its content (201: the new version)."""

    serializer_class = RereleaseInputSerializer

    @extend_schema(
        request=RereleaseInputSerializer,
        responses={201: VersionOutputSerializer, **error_responses(400, 403, 404, 409)},
    )
    def post(self, request: Request, pk: int) -> Response:
        version = version_get_for_user(user=request.user, pk=pk)
        data = RereleaseInputSerializer(data=request.data if hasattr(request.data, "get") else {})
        data.is_valid(raise_exception=True)
        copy = services.version_rerelease(version=version, actor=request.user, **data.validated_data)
        return Response(VersionOutputSerializer(copy).data, status=status.HTTP_201_CREATED)


class VersionScheduleApi(generics.GenericAPIView):
    """PUT: schedule (or move) the publish of an approved version; DELETE: cancel the schedule."""

    serializer_class = ScheduleInputSerializer

    @extend_schema(
        request=ScheduleInputSerializer,
        responses={200: VersionOutputSerializer, **error_responses(400, 403, 404, 409)},
    )
    def put(self, request: Request, pk: int) -> Response:
        version = version_get_for_user(user=request.user, pk=pk)
        data = ScheduleInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        profile = getattr(request.user, "profile", None)
        time_zone = data.validated_data["time_zone"].strip() or getattr(profile, "time_zone", "") or "UTC"
        at = publish_time_from_local(local=data.validated_data["publish_at"], time_zone=time_zone)
        version = services.version_schedule_publish(
            version=version, actor=request.user, publish_at=at, time_zone=time_zone
        )
        return Response(VersionOutputSerializer(version).data)

    @extend_schema(request=None, responses={200: VersionOutputSerializer, **error_responses(400, 403, 404)})
    def delete(self, request: Request, pk: int) -> Response:
        version = version_get_for_user(user=request.user, pk=pk)
        version = services.version_unschedule_publish(version=version, actor=request.user)
        return Response(VersionOutputSerializer(version).data)
