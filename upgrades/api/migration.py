"""REST API: the update check (site token or site admin), installations,
upgrade requests, and rollout control for vendors. Thin: selectors and services."""

from __future__ import annotations

from typing import Any

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import exceptions
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from upgrades import selectors, services
from upgrades.api.auth import SITE_AUTH, SiteOrSiteAdmin, site_for_request
from upgrades.models import Site
from upgrades.selectors import migration as migration_selectors


class SiteMigrationsApi(APIView):
    """POST: move the site to another host product (a site admin); GET: its moves, newest first."""

    authentication_classes = SITE_AUTH
    permission_classes = [SiteOrSiteAdmin]

    @extend_schema(responses=OpenApiTypes.OBJECT)
    def get(self, request: Request, pk: int) -> Response:
        site = site_for_request(request, pk)
        migrations = list(migration_selectors.product_migration_list(site=site)[:20])
        return Response({"site": site.pk, "results": [_migration_data(m) for m in migrations]})

    @extend_schema(request=OpenApiTypes.OBJECT, responses={201: OpenApiTypes.OBJECT})
    def post(self, request: Request, pk: int) -> Response:
        if isinstance(request.auth, Site):
            raise exceptions.PermissionDenied("Moving a site to another product needs a signed-in site admin.")
        site = selectors.site_get_for_user(user=request.user, pk=pk)
        migration = services.site_migrate_product(
            site=site,
            host_product=request.data.get("host_product"),
            host_version=request.data.get("host_version"),
            actor=request.user,
        )
        return Response(_migration_data(migration), status=201)


def _migration_data(migration: Any) -> dict[str, Any]:
    offers = list(migration_selectors.migration_offer_list(migration=migration))
    return migration_selectors.product_migration_data(migration, offers)


class MigrationOffersApi(APIView):
    """The move's offers: per installation the version offered, or why there is none."""

    authentication_classes = SITE_AUTH
    permission_classes = [SiteOrSiteAdmin]

    @extend_schema(responses=OpenApiTypes.OBJECT)
    def get(self, request: Request, pk: int, migration_pk: int) -> Response:
        site = site_for_request(request, pk)
        migration = (
            migration_selectors.product_migration_list(site=site).select_related("site").filter(pk=migration_pk).first()
        )
        if migration is None:
            raise exceptions.NotFound("No such product move for this site.")
        return Response(_migration_data(migration))


class MigrationOfferAcceptApi(APIView):
    """One-click upgrade; when the upgrade needs consent, this request is the site admin's consent."""

    @extend_schema(request=None, responses=OpenApiTypes.OBJECT)
    def post(self, request: Request, pk: int, offer_pk: int) -> Response:
        offer = migration_selectors.migration_offer_get_for_user(user=request.user, site_pk=pk, pk=offer_pk)
        offer = services.migration_offer_accept(offer=offer, actor=request.user)
        offer = migration_selectors.migration_offer_list(migration=offer.migration).get(pk=offer.pk)
        return Response(migration_selectors.migration_offer_data(offer))


class MigrationOfferKeepApi(APIView):
    """Switch an app back on at its installed version, when that version runs on the site's new product."""

    @extend_schema(request=None, responses=OpenApiTypes.OBJECT)
    def post(self, request: Request, pk: int, offer_pk: int) -> Response:
        offer = migration_selectors.migration_offer_get_for_user(user=request.user, site_pk=pk, pk=offer_pk)
        offer = services.migration_offer_keep(offer=offer, actor=request.user)
        offer = migration_selectors.migration_offer_list(migration=offer.migration).get(pk=offer.pk)
        return Response(migration_selectors.migration_offer_data(offer))
