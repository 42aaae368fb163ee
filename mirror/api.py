"""The mirror feed: what a downstream portal (an internal market) reads to mirror this one.

Read-only, paginated, `Authorization: Mirror <token>` only. Every page carries
the feed's snapshot fingerprint; the ETag is made from it, so an unchanged
feed answers 304 after one query.
"""

from __future__ import annotations

import hashlib
from typing import Any

from django.conf import settings
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import generics, permissions
from rest_framework.request import Request
from rest_framework.response import Response

from core.pagination import PageNumberPagination
from core.serializers import error_responses
from core.tokens import HashedTokenAuthentication
from mirror import selectors
from mirror.feed import FEED_FORMAT
from mirror.models import MirrorToken
from mirror.serializers import FeedListingSerializer


class MirrorTokenAuthentication(HashedTokenAuthentication):
    """`Authorization: Mirror <token>`: a downstream portal reading the feed, nothing else."""

    keyword = "Mirror"

    def lookup(self, raw: str) -> MirrorToken | None:
        return selectors.mirror_token_for(raw)


class HasMirrorToken(permissions.BasePermission):
    message = "Send a mirror token: Authorization: Mirror <token> (made in the upstream portal's admin)."

    def has_permission(self, request: Request, view: Any) -> bool:
        return isinstance(request.auth, MirrorToken)


class FeedPagination(PageNumberPagination):
    """Feed pages say which feed format they are in and which snapshot of the feed they come from."""

    max_page_size = 500
    extra_schema = {
        "format": {"type": "string", "enum": [FEED_FORMAT], "description": "The feed's format (mirror.feed)"},
        "snapshot": {"type": "string", "description": "Fingerprint of the whole feed; it changes with any listing"},
    }

    def get_page_size(self, request: Request) -> int:
        return settings.MIRROR_FEED_PAGE_SIZE


class MirrorFeedApi(generics.GenericAPIView):
    """Public, non-archived listings and their released (published and superseded) versions."""

    authentication_classes = [MirrorTokenAuthentication]
    permission_classes = [HasMirrorToken]
    pagination_class = FeedPagination
    serializer_class = FeedListingSerializer
    filter_backends: list = []

    @extend_schema(
        responses={
            200: FeedListingSerializer(many=True),
            304: OpenApiResponse(description="Not modified: the ETag sent in If-None-Match still holds"),
            **error_responses(403, 404),
        }
    )
    def get(self, request: Request) -> Response:
        snapshot = selectors.feed_snapshot()
        page_number = request.query_params.get("page", "1")
        etag = (
            '"'
            + hashlib.sha256(f"{snapshot}|{page_number}|{settings.MIRROR_FEED_PAGE_SIZE}".encode()).hexdigest()[:32]
            + '"'
        )
        if etag in [t.strip() for t in request.headers.get("If-None-Match", "").split(",")]:
            return Response(status=304, headers={"ETag": etag})
        page = self.paginate_queryset(selectors.feed_listings())
        response = self.paginator.get_paginated_response(
            FeedListingSerializer(page, many=True).data, format=FEED_FORMAT, snapshot=snapshot
        )
        response["ETag"] = etag
        response["Cache-Control"] = "private, no-cache"
        return response


class MirrorTokenScheme(OpenApiAuthenticationExtension):
    """Documents `Authorization: Mirror <token>` in the OpenAPI schema."""

    target_class = "mirror.api.MirrorTokenAuthentication"
    name = "mirrorToken"

    def get_security_definition(self, auto_schema: Any) -> dict[str, str]:
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": "A mirror token: `Mirror <token>` (made in the upstream portal's admin; shown once).",
        }
