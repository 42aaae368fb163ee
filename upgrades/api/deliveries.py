"""REST API of callbacks and webhooks for vendors: manage a listing's webhook endpoints (the secret
is in the answer of a creation or rotation only), send a test event, list deliveries (filter
`?state=failed`), read one with its attempts, redeliver a failed one. Thin: selectors and services."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import generics, status
from rest_framework.request import Request
from rest_framework.response import Response

from core.serializers import error_responses
from marketplace.selectors import listing_get_for_user
from upgrades import selectors, services
from upgrades.serializers import (
    DeliveryDetailSerializer,
    DeliverySerializer,
    WebhookEndpointInputSerializer,
    WebhookEndpointSerializer,
    WebhookEndpointWithSecretSerializer,
)


class WebhookEndpointListApi(generics.GenericAPIView):
    """GET: the listing's endpoints (no secrets); POST: register one (its secret is in this answer only)."""

    serializer_class = WebhookEndpointSerializer
    filter_backends: list = []

    @extend_schema(responses={200: WebhookEndpointSerializer(many=True), **error_responses(404)})
    def get(self, request: Request, key: str) -> Response:
        listing = listing_get_for_user(user=request.user, key=key)
        page = self.paginate_queryset(selectors.webhook_endpoint_list(listing=listing).select_related("listing"))
        return self.get_paginated_response(WebhookEndpointSerializer(page, many=True).data)

    @extend_schema(
        request=WebhookEndpointInputSerializer,
        responses={201: WebhookEndpointWithSecretSerializer, **error_responses(400, 404)},
    )
    def post(self, request: Request, key: str) -> Response:
        listing = listing_get_for_user(user=request.user, key=key)
        data = WebhookEndpointInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        endpoint, _secret = services.webhook_endpoint_create(
            listing=listing,
            actor=request.user,
            url=data.validated_data["url"],
            events=data.validated_data["events"],
            description=data.validated_data["description"],
        )
        return Response(WebhookEndpointWithSecretSerializer(endpoint).data, status=status.HTTP_201_CREATED)


class WebhookEndpointDetailApi(generics.GenericAPIView):
    serializer_class = WebhookEndpointSerializer

    @extend_schema(responses={200: WebhookEndpointSerializer, **error_responses(404)})
    def get(self, request: Request, pk: int) -> Response:
        return Response(
            WebhookEndpointSerializer(selectors.webhook_endpoint_get_for_user(user=request.user, pk=pk)).data
        )

    @extend_schema(
        request=WebhookEndpointInputSerializer, responses={200: WebhookEndpointSerializer, **error_responses(400, 404)}
    )
    def put(self, request: Request, pk: int) -> Response:
        endpoint = selectors.webhook_endpoint_get_for_user(user=request.user, pk=pk)
        data = WebhookEndpointInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        endpoint = services.webhook_endpoint_update(endpoint=endpoint, actor=request.user, **data.validated_data)
        return Response(WebhookEndpointSerializer(endpoint).data)

    @extend_schema(request=None, responses={200: WebhookEndpointSerializer, **error_responses(404)})
    def delete(self, request: Request, pk: int) -> Response:
        """Answers 200 with the endpoint as it was (the house style: a body, not 204); its deliveries stay."""
        endpoint = selectors.webhook_endpoint_get_for_user(user=request.user, pk=pk)
        data = WebhookEndpointSerializer(endpoint).data
        services.webhook_endpoint_delete(endpoint=endpoint, actor=request.user)
        return Response(data)


class WebhookEndpointActionApi(generics.GenericAPIView):
    """rotate: a new secret (in this answer only; the old one signs too for a day); test: a test event."""

    action = "test"
    serializer_class = WebhookEndpointWithSecretSerializer

    @extend_schema(
        request=None,
        responses={200: WebhookEndpointWithSecretSerializer, 202: DeliverySerializer, **error_responses(404)},
    )
    def post(self, request: Request, pk: int) -> Response:
        endpoint = selectors.webhook_endpoint_get_for_user(user=request.user, pk=pk)
        if self.action == "rotate":
            endpoint, _secret = services.webhook_endpoint_rotate_secret(endpoint=endpoint, actor=request.user)
            return Response(WebhookEndpointWithSecretSerializer(endpoint).data)
        delivery = services.webhook_endpoint_send_test(endpoint=endpoint, actor=request.user)
        return Response(DeliverySerializer(delivery).data, status=status.HTTP_202_ACCEPTED)


class DeliveryListApi(generics.GenericAPIView):
    """The listing's deliveries, newest first; `?state=failed|succeeded|pending`."""

    serializer_class = DeliverySerializer
    filter_backends: list = []

    @extend_schema(
        parameters=[OpenApiParameter("state", str, enum=["failed", "succeeded", "pending"], required=False)],
        responses={200: DeliverySerializer(many=True), **error_responses(404)},
    )
    def get(self, request: Request, key: str) -> Response:
        listing = listing_get_for_user(user=request.user, key=key)
        state = request.query_params.get("state", "")
        page = self.paginate_queryset(selectors.delivery_list(listing=listing, state=state).select_related("listing"))
        return self.get_paginated_response(DeliverySerializer(page, many=True).data)


class DeliveryDetailApi(generics.GenericAPIView):
    serializer_class = DeliveryDetailSerializer

    @extend_schema(responses={200: DeliveryDetailSerializer, **error_responses(404)})
    def get(self, request: Request, pk: int) -> Response:
        return Response(DeliveryDetailSerializer(selectors.delivery_get_for_user(user=request.user, pk=pk)).data)


class DeliveryRedeliverApi(generics.GenericAPIView):
    """Send a failed delivery again (same delivery id, a fresh set of attempts)."""

    serializer_class = DeliverySerializer

    @extend_schema(request=None, responses={202: DeliverySerializer, **error_responses(400, 404)})
    def post(self, request: Request, pk: int) -> Response:
        delivery = selectors.delivery_get_for_user(user=request.user, pk=pk)
        delivery = services.delivery_redeliver(delivery=delivery, actor=request.user)
        return Response(DeliverySerializer(delivery).data, status=status.HTTP_202_ACCEPTED)
