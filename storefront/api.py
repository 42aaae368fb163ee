"""The storefront's API: browse and read apps, without signing in. The same filters as the
pages (storefront.filters.CatalogueFilter); installing is the sites API's (upgrades.api.sites)."""

from __future__ import annotations

from django.http import Http404
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import exceptions, generics, permissions
from rest_framework.request import Request
from rest_framework.response import Response

from core.errors import NotFound
from core.serializers import error_responses
from marketplace.schemes import SCHEME_CHOICES
from storefront import selectors
from storefront.filters import SORT_CHOICES, CatalogueFilter
from storefront.markdown import render_markdown
from storefront.serializers import AppDetailSerializer, AppSerializer, VersionSerializer
from versions import policies


class AppListApi(generics.ListAPIView):
    """Apps a visitor may see: filters, search (ranked on PostgreSQL), sort, pagination.

    A ListAPIView (its own `get`), so the OpenAPI schema documents the paginated list, not one app."""

    permission_classes = [permissions.AllowAny]
    serializer_class = AppSerializer
    filter_backends: list = []  # the filterset below is applied by hand: it sorts after searching

    @extend_schema(
        operation_id="apps_list",
        parameters=[
            OpenApiParameter("q", str, description="Search words; the start of a word is enough"),
            OpenApiParameter("product", str, description="Host product key, e.g. jira"),
            OpenApiParameter("category", str, description="Category key, e.g. reporting"),
            OpenApiParameter("pricing", str, enum=["free", "paid"]),
            OpenApiParameter("scheme", str, enum=[key for key, _ in SCHEME_CHOICES]),
            OpenApiParameter("sort", str, enum=[key for key, _ in SORT_CHOICES]),
            OpenApiParameter("page", int),
        ],
    )
    def get(self, request: Request) -> Response:
        filterset = CatalogueFilter(request.query_params, queryset=selectors.catalogue_listings(user=request.user))
        if not filterset.is_valid():
            raise exceptions.ValidationError(filterset.errors)
        page = self.paginate_queryset(filterset.sorted_results())
        return self.get_paginated_response(AppSerializer(page, many=True).data)


class AppDetailApi(generics.GenericAPIView):
    permission_classes = [permissions.AllowAny]
    serializer_class = AppDetailSerializer

    @extend_schema(operation_id="apps_retrieve", responses={200: AppDetailSerializer, **error_responses(404)})
    def get(self, request: Request, key: str) -> Response:
        try:
            listing = selectors.catalogue_listing_get(user=request.user, key=key)
        except NotFound as exc:
            raise Http404(exc.message) from exc
        version = selectors.listing_live_version(listing)
        data = AppSerializer(listing).data
        data["description_html"] = render_markdown(listing.description)
        data["scopes"] = selectors.describe_scopes(list(version.scopes))
        data["compatibility"] = policies.describe_compatibility(
            version.compatibility, {p.key: p.name for p in listing.host_products.all()}
        )
        data["versions"] = VersionSerializer(selectors.listing_version_history(listing), many=True).data
        data["links"] = {
            name: getattr(listing, f"{name}_url")
            for name in ("support", "documentation", "privacy", "eula")
            if getattr(listing, f"{name}_url")
        }
        data["screenshots"] = [{"url": s.image.url, "caption": s.caption} for s in listing.screenshots.all()]
        return Response(data)
