from rest_framework import serializers

from versions.models import Pricing, Version, VersionTransition


class VersionInputSerializer(serializers.Serializer):
    listing = serializers.CharField(help_text="Listing key", max_length=63)
    number = serializers.CharField(max_length=255)
    update_notes = serializers.CharField(allow_blank=True, trim_whitespace=False)
    scopes = serializers.ListField(child=serializers.CharField(max_length=200), required=False, default=list)
    members = serializers.ListField(child=serializers.CharField(max_length=254), required=False, default=list)
    pricing = serializers.ChoiceField(choices=Pricing.choices, required=False)
    api_version = serializers.IntegerField(required=False, default=1)
    channel = serializers.CharField(max_length=40, required=False, allow_blank=True)
    compatibility = serializers.JSONField(required=False, default=list)
    components = serializers.JSONField(required=False, default=list)
    build_number = serializers.IntegerField(required=False, min_value=1, max_value=2_147_483_647)
    breaking = serializers.BooleanField(
        required=False,
        default=False,
        help_text="Breaks compatibility with the live version: manual and OCP numbers must then bump MAJOR.",
    )


class VersionUpdateSerializer(serializers.Serializer):
    number = serializers.CharField(max_length=255, required=False)
    update_notes = serializers.CharField(allow_blank=True, trim_whitespace=False, required=False)
    scopes = serializers.ListField(child=serializers.CharField(max_length=200), required=False)
    members = serializers.ListField(child=serializers.CharField(max_length=254), required=False)
    pricing = serializers.ChoiceField(choices=Pricing.choices, required=False)
    api_version = serializers.IntegerField(required=False)
    channel = serializers.CharField(max_length=40, required=False)
    compatibility = serializers.JSONField(required=False)
    components = serializers.JSONField(required=False)
    breaking = serializers.BooleanField(
        required=False,
        help_text="Breaks compatibility with the live version: manual and OCP numbers must then bump MAJOR.",
    )


class TransitionInputSerializer(serializers.Serializer):
    comment = serializers.CharField(required=False, allow_blank=True, default="", max_length=5000)


class VersionTransitionSerializer(serializers.ModelSerializer):
    actor = serializers.CharField(source="actor_label")

    class Meta:
        model = VersionTransition
        fields = ["name", "from_state", "to_state", "actor", "comment", "at"]


class VersionOutputSerializer(serializers.ModelSerializer):
    listing = serializers.CharField(source="listing.key")
    coordinates = serializers.CharField()

    class Meta:
        model = Version
        fields = [
            "id",
            "listing",
            "coordinates",
            "number",
            "build_number",
            "channel",
            "state",
            "source",
            "update_notes",
            "scopes",
            "members",
            "pricing",
            "api_version",
            "descriptor_hash",
            "compatibility",
            "components",
            "breaking",
            "created_at",
            "submitted_at",
            "published_at",
        ]
