"""REST API of a listing's analytics for its vendor: the numbers the portal's analytics page draws."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import generics
from rest_framework.request import Request
from rest_framework.response import Response

from core.serializers import error_responses
from marketplace.selectors import listing_get_for_user
from upgrades.selectors.analytics import listing_analytics, listing_versions_over_time
from upgrades.serializers import ListingAnalyticsSerializer


class ListingAnalyticsApi(generics.GenericAPIView):
    """Installs, uninstalls and active installations per day over the last 90 days, versions in use
    (today and per day) and how site admins answered upgrade requests. The listing's vendor only."""

    serializer_class = ListingAnalyticsSerializer
    pagination_class = None

    @extend_schema(responses={200: ListingAnalyticsSerializer, **error_responses(404)})
    def get(self, request: Request, key: str) -> Response:
        listing = listing_get_for_user(user=request.user, key=key)
        data = listing_analytics(listing=listing)
        body = {
            **data,
            "listing": listing.key,
            "versions_over_time": listing_versions_over_time(listing=listing)["versions"],
        }
        return Response(ListingAnalyticsSerializer(body).data)
