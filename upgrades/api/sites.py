"""REST API: the update check (site token or site admin), installations,
upgrade requests, and rollout control for vendors. Thin: selectors and services."""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import exceptions, serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from upgrades import selectors, services
from upgrades.api.auth import SITE_AUTH, SiteOrSiteAdmin, site_for_request
from upgrades.models import Installation, Site


def _installation_row(i: Installation) -> dict:
    return {
        "id": i.pk,
        "listing": i.listing.key,
        "version": i.version.number,
        "build_number": i.version.build_number,
        "granted_scopes": i.granted_scopes,
        "license": i.license,
        "state": i.state,
        "disabled_reason": i.disabled_reason,
        "installed_at": i.installed_at,
    }


def _site_admin_only(request: Request) -> None:
    """Installing, uninstalling and switching apps is a site admin's decision, never a site token's."""
    if isinstance(request.auth, Site) or not request.user.is_authenticated:
        raise exceptions.PermissionDenied("Sign in as an admin of the site (session or user token) to change its apps.")


class InstallRequestSerializer(serializers.Serializer):
    listing = serializers.CharField(max_length=63, help_text="The app's key, e.g. jira-time-tracker")


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
        rows = [_installation_row(i) for i in selectors.installation_list(site=site)]
        return Response({"site": site.pk, "results": rows})

    @extend_schema(request=InstallRequestSerializer, responses={201: OpenApiTypes.OBJECT})
    def post(self, request: Request, pk: int) -> Response:
        """Install an app (its current release) on the site; the same rules as the storefront's Install."""
        _site_admin_only(request)
        data = InstallRequestSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        installation = services.installation_install(
            site_id=pk, listing_key=data.validated_data["listing"], actor=request.user
        )
        return Response(_installation_row(installation), status=status.HTTP_201_CREATED)


class InstallationApi(APIView):
    """DELETE uninstalls: open consent requests and scheduled upgrades end, the history stays."""

    @extend_schema(request=None, responses=OpenApiTypes.OBJECT)
    def delete(self, request: Request, pk: int, installation_pk: int) -> Response:
        _site_admin_only(request)
        installation = services.installation_uninstall(site_id=pk, installation_id=installation_pk, actor=request.user)
        return Response(_installation_row(installation))


class InstallationSwitchApi(APIView):
    """Disable or enable an installed app."""

    action = "disable"

    @extend_schema(request=None, responses=inline_serializer("InstallationState", {"id": serializers.IntegerField()}))
    def post(self, request: Request, pk: int, installation_pk: int) -> Response:
        _site_admin_only(request)
        service = services.installation_disable if self.action == "disable" else services.installation_enable
        installation = service(site_id=pk, installation_id=installation_pk, actor=request.user)
        return Response(_installation_row(installation))


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
