"""Output of the mirror feed: only public facts about listings and their released versions."""

from __future__ import annotations

from rest_framework import serializers


class FeedComponentSerializer(serializers.Serializer):
    name = serializers.CharField()
    version = serializers.CharField()


class FeedVersionSerializer(serializers.Serializer):
    number = serializers.CharField()
    build_number = serializers.IntegerField()
    channel = serializers.CharField()
    update_notes = serializers.CharField()
    components = FeedComponentSerializer(many=True)
    scopes = serializers.ListField(child=serializers.CharField())
    pricing = serializers.CharField()
    state = serializers.CharField(help_text="published (live) or superseded")
    published_at = serializers.DateTimeField()


class FeedListingSerializer(serializers.Serializer):
    key = serializers.CharField()
    name = serializers.CharField()
    summary = serializers.CharField()
    scheme = serializers.CharField()
    pricing = serializers.CharField()
    vendor = serializers.CharField(source="vendor.name")
    versions = FeedVersionSerializer(source="feed", many=True)
