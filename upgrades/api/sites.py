"""REST API of a site: the update check (site token or site admin), its installations (list,
install, uninstall, disable, enable) and a site admin's manual upgrade. Thin: selectors and services."""

from __future__ import annotations

from django.conf import settings
from drf_spectacular.utils import extend_schema
from rest_framework import exceptions, generics, status
from rest_framework.request import Request
from rest_framework.response import Response

from core.renderers import ORJSONRenderer
from core.serializers import error_responses
from upgrades import selectors, services
from upgrades.api.auth import SITE_AUTH, SiteOrSiteAdmin, SitePagination, site_for_request
from upgrades.models import Site
from upgrades.serializers import (
    InstallationOutputSerializer,
    InstallationUpgradeOutputSerializer,
    InstallRequestSerializer,
    SiteUpdatesSerializer,
)


def _site_admin_only(request: Request) -> None:
    """Installing, uninstalling and switching apps is a site admin's decision, never a site token's."""
    if isinstance(request.auth, Site) or not request.user.is_authenticated:
        raise exceptions.PermissionDenied("Sign in as an admin of the site (session or user token) to change its apps.")


class SiteUpdatesApi(generics.GenericAPIView):
    """The update check: for each installation, the newest version it may move to and whether it needs consent.

    Answers with an ETag (the site's update fingerprint) and `Cache-Control: private, max-age=N`
    (settings.UPDATE_CHECK_MAX_AGE: how often an instance should ask); a request whose
    If-None-Match holds the current ETag gets 304 and no body. With a site token that costs
    the token lookup alone (one query). The body is SiteUpdatesSerializer's shape, built by the
    selector and rendered as it is by orjson (datetimes in UTC with Z, as DRF writes them; the
    serializer documents the shape; running it per item would cost more than the queries).
    """

    authentication_classes = SITE_AUTH
    site_token_reads_fingerprint = True  # the 304 costs the token lookup alone
    permission_classes = [SiteOrSiteAdmin]
    renderer_classes = [ORJSONRenderer]
    serializer_class = SiteUpdatesSerializer
    pagination_class = None

    @extend_schema(responses={200: SiteUpdatesSerializer, 304: None, **error_responses(403, 404)})
    def get(self, request: Request, pk: int) -> Response:
        site = site_for_request(request, pk)
        fingerprint = getattr(site, "update_fingerprint", None) or selectors.site_update_fingerprint(site=site)
        headers = {
            "ETag": f'"{fingerprint}"',
            "Cache-Control": f"private, max-age={settings.UPDATE_CHECK_MAX_AGE}",
            "Vary": "Authorization, Cookie",
        }
        if _etag_matches(request.headers.get("If-None-Match", ""), fingerprint):
            return Response(status=status.HTTP_304_NOT_MODIFIED, headers=headers)
        return Response(selectors.site_updates(site=site), headers=headers)


def _etag_matches(if_none_match: str, fingerprint: str) -> bool:
    """If-None-Match: "*", or a list of (possibly weak) entity tags one of which is ours."""
    tags = {tag.strip().removeprefix("W/").strip('"') for tag in if_none_match.split(",") if tag.strip()}
    return "*" in tags or fingerprint in tags


class InstallationListApi(generics.GenericAPIView):
    """GET: the site's installations, by listing name, a page at a time. POST: install an app."""

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

    @extend_schema(
        request=InstallRequestSerializer,
        responses={201: InstallationOutputSerializer, **error_responses(400, 403, 404, 409)},
    )
    def post(self, request: Request, pk: int) -> Response:
        """Install an app (its current release) on the site; the same rules as the storefront's Install."""
        _site_admin_only(request)
        data = InstallRequestSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        installation = services.installation_install(
            site_id=pk, listing_key=data.validated_data["listing"], actor=request.user
        )
        return Response(InstallationOutputSerializer(installation).data, status=status.HTTP_201_CREATED)


class InstallationApi(generics.GenericAPIView):
    """DELETE uninstalls: open consent requests and scheduled upgrades end, the history stays."""

    serializer_class = InstallationOutputSerializer

    @extend_schema(request=None, responses={200: InstallationOutputSerializer, **error_responses(403, 404, 409)})
    def delete(self, request: Request, pk: int, installation_pk: int) -> Response:
        _site_admin_only(request)
        installation = services.installation_uninstall(site_id=pk, installation_id=installation_pk, actor=request.user)
        return Response(InstallationOutputSerializer(installation).data)


class InstallationSwitchApi(generics.GenericAPIView):
    """Disable or enable an installed app."""

    action = "disable"
    serializer_class = InstallationOutputSerializer

    @extend_schema(request=None, responses={200: InstallationOutputSerializer, **error_responses(403, 404, 409)})
    def post(self, request: Request, pk: int, installation_pk: int) -> Response:
        _site_admin_only(request)
        service = services.installation_disable if self.action == "disable" else services.installation_enable
        installation = service(site_id=pk, installation_id=installation_pk, actor=request.user)
        return Response(InstallationOutputSerializer(installation).data)


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
