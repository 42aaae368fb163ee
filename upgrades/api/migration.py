"""REST API of product migrations: a site admin moves the site to another host product and
takes (or keeps) what each app is offered. Thin: selectors and services."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema
from rest_framework import exceptions, generics
from rest_framework.request import Request
from rest_framework.response import Response

from core.serializers import error_responses
from upgrades import selectors, services
from upgrades.api.auth import SITE_AUTH, SiteOrSiteAdmin, SitePagination, site_for_request
from upgrades.models import Site
from upgrades.selectors import migration as migration_selectors
from upgrades.serializers import (
    MigrationInputSerializer,
    MigrationOfferOutputSerializer,
    ProductMigrationOutputSerializer,
)


class SiteMigrationsApi(generics.GenericAPIView):
    """POST: move the site to another host product (a site admin); GET: its moves, newest first, a page at a time."""

    authentication_classes = SITE_AUTH
    permission_classes = [SiteOrSiteAdmin]
    serializer_class = ProductMigrationOutputSerializer
    pagination_class = SitePagination
    filter_backends: list = []

    @extend_schema(responses={200: ProductMigrationOutputSerializer(many=True), **error_responses(403, 404)})
    def get(self, request: Request, pk: int) -> Response:
        site = site_for_request(request, pk)
        page = self.paginate_queryset(migration_selectors.product_migration_list(site=site))
        data = ProductMigrationOutputSerializer([_migration_data(m) for m in page], many=True).data
        return self.paginator.get_paginated_response(data, site=site.pk)

    @extend_schema(
        request=MigrationInputSerializer,
        responses={201: ProductMigrationOutputSerializer, **error_responses(400, 403, 404, 409)},
    )
    def post(self, request: Request, pk: int) -> Response:
        if isinstance(request.auth, Site):
            raise exceptions.PermissionDenied("Moving a site to another product needs a signed-in site admin.")
        site = selectors.site_get_for_user(user=request.user, pk=pk)
        data = MigrationInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        migration = services.site_migrate_product(
            site=site,
            host_product=data.validated_data.get("host_product"),
            host_version=data.validated_data.get("host_version"),
            actor=request.user,
        )
        return Response(ProductMigrationOutputSerializer(_migration_data(migration)).data, status=201)


def _migration_data(migration: Any) -> dict[str, Any]:
    offers = list(migration_selectors.migration_offer_list(migration=migration))
    return migration_selectors.product_migration_data(migration, offers)


class MigrationOffersApi(generics.GenericAPIView):
    """The move's offers: per installation the version offered, or why there is none."""

    authentication_classes = SITE_AUTH
    permission_classes = [SiteOrSiteAdmin]
    serializer_class = ProductMigrationOutputSerializer
    pagination_class = None

    @extend_schema(responses={200: ProductMigrationOutputSerializer, **error_responses(403, 404)})
    def get(self, request: Request, pk: int, migration_pk: int) -> Response:
        site = site_for_request(request, pk)
        migration = (
            migration_selectors.product_migration_list(site=site).select_related("site").filter(pk=migration_pk).first()
        )
        if migration is None:
            raise exceptions.NotFound("No such product move for this site.")
        return Response(ProductMigrationOutputSerializer(_migration_data(migration)).data)


class MigrationOfferAcceptApi(generics.GenericAPIView):
    """One-click upgrade; when the upgrade needs consent, this request is the site admin's consent."""

    serializer_class = MigrationOfferOutputSerializer

    @extend_schema(request=None, responses={200: MigrationOfferOutputSerializer, **error_responses(400, 403, 404, 409)})
    def post(self, request: Request, pk: int, offer_pk: int) -> Response:
        offer = migration_selectors.migration_offer_get_for_user(user=request.user, site_pk=pk, pk=offer_pk)
        offer = services.migration_offer_accept(offer=offer, actor=request.user)
        offer = migration_selectors.migration_offer_list(migration=offer.migration).get(pk=offer.pk)
        return Response(MigrationOfferOutputSerializer(migration_selectors.migration_offer_data(offer)).data)


class MigrationOfferKeepApi(generics.GenericAPIView):
    """Switch an app back on at its installed version, when that version runs on the site's new product."""

    serializer_class = MigrationOfferOutputSerializer

    @extend_schema(request=None, responses={200: MigrationOfferOutputSerializer, **error_responses(400, 403, 404, 409)})
    def post(self, request: Request, pk: int, offer_pk: int) -> Response:
        offer = migration_selectors.migration_offer_get_for_user(user=request.user, site_pk=pk, pk=offer_pk)
        offer = services.migration_offer_keep(offer=offer, actor=request.user)
        offer = migration_selectors.migration_offer_list(migration=offer.migration).get(pk=offer.pk)
        return Response(MigrationOfferOutputSerializer(migration_selectors.migration_offer_data(offer)).data)
