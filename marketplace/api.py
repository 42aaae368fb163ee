"""REST API for listings: thin views over marketplace.services and selectors."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import generics, status
from rest_framework.request import Request
from rest_framework.response import Response

from core.errors import ApplicationError
from core.serializers import error_responses
from marketplace import services
from marketplace.models import HostProduct, Listing
from marketplace.selectors import listing_get_for_user, listing_list, vendors_of
from marketplace.serializers import ListingInputSerializer, ListingOutputSerializer, ListingUpdateSerializer


def _host_products(keys: list[str]) -> list[HostProduct]:
    products = list(HostProduct.objects.filter(key__in=keys))
    missing = set(keys) - {p.key for p in products}
    if missing:
        raise ApplicationError(f"Unknown host product {sorted(missing)[0]!r}.", field="host_products")
    return products


class ListingListCreateApi(generics.GenericAPIView):
    serializer_class = ListingOutputSerializer

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # the schema generator has no user
            return Listing.objects.none()
        return listing_list(user=self.request.user).prefetch_related("host_products")

    @extend_schema(
        operation_id="listings_list", responses={200: ListingOutputSerializer(many=True), **error_responses(404)}
    )
    def get(self, request: Request) -> Response:
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(ListingOutputSerializer(page, many=True).data)

    @extend_schema(
        request=ListingInputSerializer, responses={201: ListingOutputSerializer, **error_responses(400, 403, 409)}
    )
    def post(self, request: Request) -> Response:
        data = ListingInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = dict(data.validated_data)
        vendors = list(vendors_of(request.user))
        slug = values.pop("vendor", None)
        if slug:
            vendor = next((v for v in vendors if v.slug == slug), None)
            if vendor is None:
                raise ApplicationError(f"You are not a member of vendor {slug!r}.", field="vendor")
        elif len(vendors) == 1:
            vendor = vendors[0]
        else:
            raise ApplicationError("Say which of your vendors owns the listing.", field="vendor")
        products = _host_products(values.pop("host_products"))
        listing = services.listing_create(vendor=vendor, actor=request.user, host_products=products, **values)
        return Response(ListingOutputSerializer(listing).data, status=status.HTTP_201_CREATED)


class ListingDetailApi(generics.GenericAPIView):
    serializer_class = ListingOutputSerializer

    @extend_schema(responses={200: ListingOutputSerializer, **error_responses(404)})
    def get(self, request: Request, key: str) -> Response:
        return Response(ListingOutputSerializer(listing_get_for_user(user=request.user, key=key)).data)

    @extend_schema(
        request=ListingUpdateSerializer, responses={200: ListingOutputSerializer, **error_responses(400, 403, 404, 409)}
    )
    def patch(self, request: Request, key: str) -> Response:
        listing = listing_get_for_user(user=request.user, key=key)
        data = ListingUpdateSerializer(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        values = dict(data.validated_data)
        products = _host_products(values.pop("host_products")) if "host_products" in values else None
        listing = services.listing_update(listing=listing, actor=request.user, host_products=products, **values)
        return Response(ListingOutputSerializer(listing).data)
