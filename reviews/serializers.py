"""API shapes of the reviewer workspace: the version's conversation, a reply, the reviewer metrics."""

from __future__ import annotations

from rest_framework import serializers

from reviews.models import MESSAGE_MAX, ReviewMessage


class ReviewMessageSerializer(serializers.ModelSerializer):
    author = serializers.CharField(source="author_label", read_only=True)

    class Meta:
        model = ReviewMessage
        fields = ["id", "kind", "author", "body", "created_at"]
        read_only_fields = fields


class ReplyInputSerializer(serializers.Serializer):
    body = serializers.CharField(
        max_length=MESSAGE_MAX,
        allow_blank=True,
        trim_whitespace=True,
        help_text="The vendor's answer to the reviewer's question.",
    )


class ReviewerWeekSerializer(serializers.Serializer):
    reviewer = serializers.CharField()
    week = serializers.DateField(help_text="Monday of the week")
    decisions = serializers.IntegerField(help_text="Approvals and rejections")


class WaitingVersionSerializer(serializers.Serializer):
    id = serializers.IntegerField(source="pk")
    coordinates = serializers.CharField()
    state = serializers.CharField()
    submitted_at = serializers.DateTimeField(allow_null=True)
    reviewer = serializers.CharField(source="reviewer.username", allow_null=True, default=None)


class ReviewMetricsSerializer(serializers.Serializer):
    weeks = serializers.IntegerField()
    decisions = serializers.IntegerField()
    median_hours_to_decision = serializers.FloatField(allow_null=True)
    per_reviewer_week = ReviewerWeekSerializer(many=True)
    oldest_waiting = WaitingVersionSerializer(many=True)
