"""REST API of the reviewer workspace: a version's conversation and the vendor's reply (the vendor's
people and tokens), and the reviewer metrics (staff: review leads)."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import generics, status
from rest_framework.request import Request
from rest_framework.response import Response

from core.errors import ApplicationError, PermissionDenied
from core.serializers import error_responses
from reviews import services
from reviews.policies import is_review_lead
from reviews.selectors import review_metrics, review_thread
from reviews.serializers import ReplyInputSerializer, ReviewMessageSerializer, ReviewMetricsSerializer
from versions.selectors import version_get_for_user


class VersionMessagesApi(generics.GenericAPIView):
    """The version's review conversation (questions and replies; never the private notes)."""

    serializer_class = ReviewMessageSerializer
    pagination_class = None
    filter_backends: list = []

    @extend_schema(responses={200: ReviewMessageSerializer(many=True), **error_responses(404)})
    def get(self, request: Request, pk: int) -> Response:
        version = version_get_for_user(user=request.user, pk=pk)
        return Response(ReviewMessageSerializer(review_thread(version=version), many=True).data)

    @extend_schema(
        operation_id="versions_messages_reply",
        request=ReplyInputSerializer,
        responses={201: ReviewMessageSerializer, **error_responses(400, 404, 409)},
        description="Answer the reviewer's open question: the version returns to its reviewer.",
    )
    def post(self, request: Request, pk: int) -> Response:
        version = version_get_for_user(user=request.user, pk=pk)
        data = ReplyInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        message = services.review_reply(version=version, actor=request.user, body=data.validated_data["body"])
        return Response(ReviewMessageSerializer(message).data, status=status.HTTP_201_CREATED)


class ReviewMetricsApi(generics.GenericAPIView):
    """Reviewer metrics for review leads: decisions per reviewer per week, median time to decision,
    the oldest versions waiting."""

    serializer_class = ReviewMetricsSerializer
    pagination_class = None
    filter_backends: list = []

    @extend_schema(
        parameters=[OpenApiParameter("weeks", int, description="How many weeks back (1-52, default 8)")],
        responses={200: ReviewMetricsSerializer, **error_responses(400, 403)},
    )
    def get(self, request: Request) -> Response:
        if not is_review_lead(request.user):
            raise PermissionDenied("Only review leads (staff in the Review leads group) may see the reviewer metrics.")
        raw = request.query_params.get("weeks", "8")
        if not raw.isdigit() or not 1 <= int(raw) <= 52:
            raise ApplicationError("weeks must be a whole number from 1 to 52.", field="weeks")
        return Response(ReviewMetricsSerializer(review_metrics(weeks=int(raw))).data)
