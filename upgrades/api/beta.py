"""REST API of OCP beta share links: the vendor makes, lists and revokes them (a vendor
member's token or session); a signed-in site admin installs through one. Thin: the
services in upgrades.services.beta decide."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import exceptions, generics, status
from rest_framework.request import Request
from rest_framework.response import Response

from core.serializers import error_responses
from upgrades import services
from upgrades.api.auth import SITE_AUTH
from upgrades.models import Site
from upgrades.selectors import beta as beta_selectors
from upgrades.serializers import (
    BetaInstallInputSerializer,
    BetaInstallOutputSerializer,
    BetaLinkCreateInputSerializer,
    BetaLinkOutputSerializer,
)
from versions.selectors import version_get_for_user


class VersionBetaLinksApi(generics.GenericAPIView):
    """GET: the beta version's share links with their install counts, a page at a time; POST: a new link."""

    serializer_class = BetaLinkOutputSerializer
    filter_backends: list = []

    @extend_schema(responses={200: BetaLinkOutputSerializer(many=True), **error_responses(404)})
    def get(self, request: Request, pk: int) -> Response:
        version = version_get_for_user(user=request.user, pk=pk)
        page = self.paginate_queryset(beta_selectors.beta_share_link_list(version=version))
        data = BetaLinkOutputSerializer([beta_selectors.beta_link_data(link) for link in page], many=True).data
        return self.get_paginated_response(data)

    @extend_schema(
        request=BetaLinkCreateInputSerializer,
        responses={201: BetaLinkOutputSerializer, **error_responses(400, 403, 404, 409)},
    )
    def post(self, request: Request, pk: int) -> Response:
        version = version_get_for_user(user=request.user, pk=pk)
        data = BetaLinkCreateInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        link = services.beta_share_link_create(
            version=version, actor=request.user, expires_in_days=data.validated_data["expires_in_days"]
        )
        link = beta_selectors.beta_share_link_get(version=version, pk=link.pk)
        return Response(
            BetaLinkOutputSerializer(beta_selectors.beta_link_data(link)).data, status=status.HTTP_201_CREATED
        )


class VersionBetaLinkDetailApi(generics.GenericAPIView):
    """DELETE: revoke (installations made through the link keep the beta); revoking twice changes nothing.

    Answers 200 with the revoked link (not 204): the vendor sees when it was revoked and how many installed.
    """

    serializer_class = BetaLinkOutputSerializer

    @extend_schema(request=None, responses={200: BetaLinkOutputSerializer, **error_responses(403, 404)})
    def delete(self, request: Request, pk: int, link_pk: int) -> Response:
        version = version_get_for_user(user=request.user, pk=pk)
        link = beta_selectors.beta_share_link_get(version=version, pk=link_pk)
        services.beta_share_link_revoke(link=link, actor=request.user)
        link = beta_selectors.beta_share_link_get(version=version, pk=link_pk)
        return Response(BetaLinkOutputSerializer(beta_selectors.beta_link_data(link)).data)


class BetaInstallApi(generics.GenericAPIView):
    """Install a beta through its share link on a site the signed-in user administers.

    This request is the admin's consent to the version's scopes and price, so a
    site token (a customer instance, not a person) can't make it.
    """

    authentication_classes = SITE_AUTH
    serializer_class = BetaInstallInputSerializer

    def permission_denied(self, request: Request, message=None, code=None):
        if isinstance(request.auth, Site):
            raise exceptions.PermissionDenied(
                "Installing a beta needs a signed-in site admin (session or user token): it records their consent."
            )
        return super().permission_denied(request, message=message, code=code)

    @extend_schema(
        request=BetaInstallInputSerializer,
        responses={201: BetaInstallOutputSerializer, **error_responses(400, 403, 404, 409, 410)},
        auth=[{"tokenAuth": []}, {"cookieAuth": []}],
    )
    def post(self, request: Request) -> Response:
        data = BetaInstallInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        record = services.beta_install(
            link_token=data.validated_data["token"], site=data.validated_data["site"], actor=request.user
        )
        return Response(BetaInstallOutputSerializer(record).data, status=status.HTTP_201_CREATED)
