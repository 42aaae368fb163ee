"""REST API of a site: the update check (site token or site admin), its installations, and a
site admin's manual upgrade. Thin: selectors and services."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import generics
from rest_framework.request import Request
from rest_framework.response import Response

from core.serializers import error_responses
from upgrades import selectors, services
from upgrades.api.auth import SITE_AUTH, SiteOrSiteAdmin, SitePagination, site_for_request
from upgrades.serializers import (
    InstallationOutputSerializer,
    InstallationUpgradeOutputSerializer,
    SiteUpdatesSerializer,
)


class SiteUpdatesApi(generics.GenericAPIView):
    """The update check: for each installation, the newest version it may move to and whether it needs consent."""

    authentication_classes = SITE_AUTH
    permission_classes = [SiteOrSiteAdmin]
    serializer_class = SiteUpdatesSerializer
    pagination_class = None

    @extend_schema(responses={200: SiteUpdatesSerializer, **error_responses(403, 404)})
    def get(self, request: Request, pk: int) -> Response:
        return Response(SiteUpdatesSerializer(selectors.site_updates(site=site_for_request(request, pk))).data)


class InstallationListApi(generics.GenericAPIView):
    """The site's installations, by listing name, a page at a time."""

    authentication_classes = SITE_AUTH
    permission_classes = [SiteOrSiteAdmin]
    serializer_class = InstallationOutputSerializer
    pagination_class = SitePagination
    filter_backends: list = []

    @extend_schema(responses={200: InstallationOutputSerializer(many=True), **error_responses(403, 404)})
    def get(self, request: Request, pk: int) -> Response:
        site = site_for_request(request, pk)
        page = self.paginate_queryset(selectors.installation_list(site=site))
        return self.paginator.get_paginated_response(InstallationOutputSerializer(page, many=True).data, site=site.pk)


class InstallationUpgradeApi(generics.GenericAPIView):
    """A site admin's manual Upgrade (OCP major upgrades, declined or expired requests)."""

    serializer_class = InstallationUpgradeOutputSerializer

    @extend_schema(
        request=None, responses={200: InstallationUpgradeOutputSerializer, **error_responses(400, 403, 404, 409)}
    )
    def post(self, request: Request, pk: int, installation_pk: int) -> Response:
        selectors.site_get_for_user(user=request.user, pk=pk)
        upgrade = services.installation_upgrade(site_id=pk, installation_id=installation_pk, actor=request.user)
        return Response(InstallationUpgradeOutputSerializer(upgrade).data)
