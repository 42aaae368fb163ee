"""What the storefront's API returns (output only: the API takes no input but filters).
AppDetailSerializer documents the detail answer in the OpenAPI schema; the view builds it."""

from __future__ import annotations

from rest_framework import serializers

from marketplace.models import Listing


class AppSerializer(serializers.ModelSerializer):
    vendor = serializers.CharField(source="vendor.name")
    host_products = serializers.SlugRelatedField(slug_field="key", many=True, read_only=True)
    categories = serializers.SlugRelatedField(slug_field="key", many=True, read_only=True)
    version = serializers.CharField(source="version_number")
    released_at = serializers.DateTimeField(allow_null=True)  # versions.Version.published_at is nullable
    active_installations = serializers.IntegerField(source="active_installs")
    icon = serializers.SerializerMethodField()

    class Meta:
        model = Listing
        fields = [
            "key",
            "name",
            "summary",
            "vendor",
            "pricing",
            "scheme",
            "host_products",
            "categories",
            "version",
            "released_at",
            "active_installations",
            "icon",
        ]

    def get_icon(self, listing: Listing) -> str | None:
        return listing.icon.url if listing.icon else None


class ScopeSerializer(serializers.Serializer):
    name = serializers.CharField()
    description = serializers.CharField()
    sensitivity = serializers.CharField()


class VersionSerializer(serializers.Serializer):
    number = serializers.CharField()
    published_at = serializers.DateTimeField(allow_null=True)
    update_notes = serializers.CharField()


class AppDetailSerializer(AppSerializer):
    description_html = serializers.CharField()
    scopes = ScopeSerializer(many=True)
    compatibility = serializers.CharField()
    versions = VersionSerializer(many=True)
    links = serializers.DictField(child=serializers.CharField())
    screenshots = serializers.ListField(child=serializers.DictField(child=serializers.CharField()))

    class Meta(AppSerializer.Meta):
        fields = [
            *AppSerializer.Meta.fields,
            "description_html",
            "scopes",
            "compatibility",
            "versions",
            "links",
            "screenshots",
        ]
