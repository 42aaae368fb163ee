"""REST API: the update check (site token or site admin), installations,
upgrade requests, and rollout control for vendors. Thin: selectors and services."""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from upgrades import selectors, services
from upgrades.api.auth import SITE_AUTH, SiteOrSiteAdmin, site_for_request


class SiteUpdatesApi(APIView):
    """The update check: for each installation, the newest version it may move to and whether it needs consent."""

    authentication_classes = SITE_AUTH
    permission_classes = [SiteOrSiteAdmin]

    @extend_schema(responses=OpenApiTypes.OBJECT)
    def get(self, request: Request, pk: int) -> Response:
        return Response(selectors.site_updates(site=site_for_request(request, pk)))


class InstallationListApi(APIView):
    authentication_classes = SITE_AUTH
    permission_classes = [SiteOrSiteAdmin]

    @extend_schema(responses=OpenApiTypes.OBJECT)
    def get(self, request: Request, pk: int) -> Response:
        site = site_for_request(request, pk)
        rows = [
            {
                "id": i.pk,
                "listing": i.listing.key,
                "version": i.version.number,
                "build_number": i.version.build_number,
                "granted_scopes": i.granted_scopes,
                "license": i.license,
                "state": i.state,
            }
            for i in selectors.installation_list(site=site)
        ]
        return Response({"site": site.pk, "results": rows})


class InstallationUpgradeApi(APIView):
    """A site admin's manual Upgrade (OCP major upgrades, declined or expired requests)."""

    @extend_schema(request=None, responses=OpenApiTypes.OBJECT)
    def post(self, request: Request, pk: int, installation_pk: int) -> Response:
        selectors.site_get_for_user(user=request.user, pk=pk)
        upgrade = services.installation_upgrade(site_id=pk, installation_id=installation_pk, actor=request.user)
        return Response(
            {
                "upgrade": upgrade.pk,
                "state": upgrade.state,
                "version": upgrade.to_version.number,
                "hooks": upgrade.hooks,
            }
        )
