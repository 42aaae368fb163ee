"""REST API of private testing: the versions the signed-in user was invited to test, and
installing one on a site they administer. Thin: upgrades.services.testing decides.

Installing records the admin's consent to the scopes and price, so a site token
(a customer instance, not a person) can't do it.
"""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import exceptions, serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from upgrades import services
from upgrades.api.auth import SITE_AUTH
from upgrades.models import Site
from upgrades.selectors import testing as testing_selectors


class TestedVersionInstallInput(serializers.Serializer):
    site = serializers.IntegerField(min_value=1, max_value=2**63 - 1)


def _version_data(version) -> dict:
    return {
        "id": version.pk,
        "listing": version.listing.key,
        "name": version.listing.name,
        "vendor": version.listing.vendor.name,
        "number": version.number,
        "build_number": version.build_number,
        "state": version.state,
        "scopes": version.scopes,
        "pricing": version.pricing,
        "update_notes": version.update_notes,
    }


class _SignedInPerson(APIView):
    authentication_classes = SITE_AUTH

    def permission_denied(self, request: Request, message=None, code=None):
        if isinstance(request.auth, Site):
            raise exceptions.PermissionDenied(
                "Testing a version needs a signed-in site admin (session or user token), not a site token."
            )
        return super().permission_denied(request, message=message, code=code)


class TestedVersionListApi(_SignedInPerson):
    """The versions open for testing whose members include your e-mail address."""

    @extend_schema(responses={200: OpenApiTypes.OBJECT}, auth=[{"tokenAuth": []}, {"cookieAuth": []}])
    def get(self, request: Request) -> Response:
        if isinstance(request.auth, Site):
            self.permission_denied(request)
        versions = testing_selectors.versions_for_member(user=request.user)
        return Response({"results": [_version_data(v) for v in versions]})


class TestedVersionInstallApi(_SignedInPerson):
    """Install a version you were invited to test on a site you administer (or upgrade the site to it)."""

    @extend_schema(
        request=TestedVersionInstallInput,
        responses={201: OpenApiTypes.OBJECT},
        auth=[{"tokenAuth": []}, {"cookieAuth": []}],
    )
    def post(self, request: Request, pk: int) -> Response:
        if isinstance(request.auth, Site):
            self.permission_denied(request)
        data = TestedVersionInstallInput(data=request.data)
        data.is_valid(raise_exception=True)
        installation = services.member_install(version_id=pk, site=data.validated_data["site"], actor=request.user)
        return Response(
            {
                "installation": installation.pk,
                "site": installation.site_id,
                "listing": installation.listing.key,
                "version": installation.version.number,
                "granted_scopes": installation.granted_scopes,
                "license": installation.license,
                "state": installation.state,
            },
            status=status.HTTP_201_CREATED,
        )
