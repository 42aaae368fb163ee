"""REST API of private testing: the versions the signed-in user was invited to test, and
installing one on a site they administer. Thin: upgrades.services.testing decides.

Installing records the admin's consent to the scopes and price, so a site token
(a customer instance, not a person) can't do it.
"""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import exceptions, generics, status
from rest_framework.request import Request
from rest_framework.response import Response

from core.serializers import error_responses
from upgrades import services
from upgrades.api.auth import SITE_AUTH
from upgrades.models import Site
from upgrades.selectors import testing as testing_selectors
from upgrades.serializers import (
    TestedVersionInstallInputSerializer,
    TestedVersionInstallOutputSerializer,
    TestedVersionSerializer,
)
from versions.models import Version


class _SignedInPerson(generics.GenericAPIView):
    authentication_classes = SITE_AUTH
    queryset = Version.objects.none()  # the schema's model; every read goes through a selector
    filter_backends: list = []

    def permission_denied(self, request: Request, message=None, code=None):
        if isinstance(request.auth, Site):
            raise exceptions.PermissionDenied(
                "Testing a version needs a signed-in site admin (session or user token), not a site token."
            )
        return super().permission_denied(request, message=message, code=code)


class TestedVersionListApi(_SignedInPerson):
    """The versions open for testing whose members include your e-mail address."""

    serializer_class = TestedVersionSerializer

    @extend_schema(
        responses={200: TestedVersionSerializer(many=True), **error_responses(403)},
        auth=[{"tokenAuth": []}, {"cookieAuth": []}],
    )
    def get(self, request: Request) -> Response:
        if isinstance(request.auth, Site):
            self.permission_denied(request)
        page = self.paginate_queryset(testing_selectors.versions_for_member(user=request.user))
        return self.get_paginated_response(TestedVersionSerializer(page, many=True).data)


class TestedVersionInstallApi(_SignedInPerson):
    """Install a version you were invited to test on a site you administer (or upgrade the site to it)."""

    serializer_class = TestedVersionInstallInputSerializer

    @extend_schema(
        request=TestedVersionInstallInputSerializer,
        responses={201: TestedVersionInstallOutputSerializer, **error_responses(400, 403, 404, 409)},
        auth=[{"tokenAuth": []}, {"cookieAuth": []}],
    )
    def post(self, request: Request, pk: int) -> Response:
        if isinstance(request.auth, Site):
            self.permission_denied(request)
        data = TestedVersionInstallInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        installation = services.member_install(version_id=pk, site=data.validated_data["site"], actor=request.user)
        return Response(TestedVersionInstallOutputSerializer(installation).data, status=status.HTTP_201_CREATED)
