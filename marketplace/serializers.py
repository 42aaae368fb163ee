from rest_framework import serializers

from marketplace.models import Listing
from marketplace.schemes import SCHEME_CHOICES


class ListingInputSerializer(serializers.Serializer):
    key = serializers.CharField(max_length=63)
    name = serializers.CharField(max_length=120)
    summary = serializers.CharField(max_length=255, required=False, allow_blank=True, default="")
    vendor = serializers.SlugField(help_text="Slug of your vendor", required=False)
    scheme = serializers.ChoiceField(choices=SCHEME_CHOICES, default="manual")
    pricing = serializers.ChoiceField(choices=Listing.Pricing.choices, default="free")
    visibility = serializers.ChoiceField(choices=Listing.Visibility.choices, default="public")
    descriptor_url = serializers.CharField(max_length=500, required=False, allow_blank=True, default="")
    host_products = serializers.ListField(child=serializers.SlugField(), required=False, default=list)


class ListingUpdateSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=120, required=False)
    summary = serializers.CharField(max_length=255, required=False, allow_blank=True)
    pricing = serializers.ChoiceField(choices=Listing.Pricing.choices, required=False)
    visibility = serializers.ChoiceField(choices=Listing.Visibility.choices, required=False)
    descriptor_url = serializers.CharField(max_length=500, required=False, allow_blank=True)
    host_products = serializers.ListField(child=serializers.SlugField(), required=False)
    # The storefront's fields; their rules are the service's (marketplace.services.clean_description, clean_link).
    description = serializers.CharField(required=False, allow_blank=True, trim_whitespace=False)
    support_url = serializers.CharField(max_length=600, required=False, allow_blank=True)
    documentation_url = serializers.CharField(max_length=600, required=False, allow_blank=True)
    privacy_url = serializers.CharField(max_length=600, required=False, allow_blank=True)
    eula_url = serializers.CharField(max_length=600, required=False, allow_blank=True)


class ListingOutputSerializer(serializers.ModelSerializer):
    vendor = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    host_products = serializers.SlugRelatedField(slug_field="key", many=True, read_only=True)

    class Meta:
        model = Listing
        fields = [
            "key",
            "name",
            "summary",
            "vendor",
            "scheme",
            "pricing",
            "visibility",
            "descriptor_url",
            "host_products",
            "archived_at",
            "created_at",
            "updated_at",
        ]
