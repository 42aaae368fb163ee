from datetime import datetime
from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from marketplace.scopes import missing_required_scopes
from marketplace.selectors import scope_requirements
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


class MissingScopeSerializer(serializers.Serializer):
    scope = serializers.CharField(help_text="A scope the version asks for")
    requires = serializers.CharField(help_text="The scope it requires, which the version lacks")
    add = serializers.CharField(help_text="The scope to add (PATCH scopes with it) before submitting")
    message = serializers.CharField()


class VersionOutputSerializer(serializers.ModelSerializer):
    listing = serializers.CharField(source="listing.key")
    coordinates = serializers.CharField()
    missing_required_scopes = serializers.SerializerMethodField(
        help_text="Scopes the catalogue says this version's scopes require but it lacks; submit is refused "
        "until they are added."
    )

    @extend_schema_field(MissingScopeSerializer(many=True))
    def get_missing_required_scopes(self, obj: Version) -> list[dict[str, str]]:
        # The requirements are read once per response (the selector caches them too).
        if "scope_requirements" not in self.context:
            self.context["scope_requirements"] = scope_requirements()
        return [m.as_dict() for m in missing_required_scopes(obj.scopes, self.context["scope_requirements"])]

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
            "missing_required_scopes",
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
            # Release controls (issue #16): the version this one re-releases; its scheduled publish.
            "rereleased_from",
            "publish_at",
            "publish_time_zone",
        ]


class VersionDuplicateInputSerializer(serializers.Serializer):
    number = serializers.CharField(
        max_length=255, required=False, allow_null=True, help_text="The copy's number (default: the next free one)"
    )


class RereleaseInputSerializer(serializers.Serializer):
    update_notes = serializers.CharField(
        required=False,
        allow_blank=True,
        default="",
        max_length=500,
        help_text="Default: 'Re-release of X: <its notes>'",
    )
    publish = serializers.BooleanField(
        required=False, default=True, help_text="When it needs no review: publish now (true) or leave it approved"
    )


class ScheduleInputSerializer(serializers.Serializer):
    publish_at = serializers.CharField(
        max_length=40,
        help_text="ISO 8601 date and time; without an offset it is read in time_zone (2026-12-01T09:30)",
    )
    time_zone = serializers.CharField(
        required=False, allow_blank=True, default="", max_length=64, help_text="IANA zone; default your profile's"
    )

    def validate_publish_at(self, value: str) -> datetime:
        try:
            return datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
        except ValueError:
            raise serializers.ValidationError(
                "Publish at must be an ISO 8601 date and time such as 2026-12-01T09:30 or 2026-12-01T09:30:00+01:00."
            ) from None


class DiffInputSerializer(serializers.Serializer):
    old = serializers.JSONField(help_text="The current descriptor: its text, or (JSON) the object itself")
    new = serializers.JSONField(help_text="The new descriptor: its text, or (JSON) the object itself")
    scheme = serializers.ChoiceField(choices=["connect", "forge"], default="connect")
    # `from` is a Python keyword: the field is declared below.

    def get_fields(self) -> dict[str, Any]:
        fields = super().get_fields()
        fields["from"] = serializers.CharField(required=False, allow_null=True, max_length=255)
        return fields


class DescriptorDiffOutputSerializer(serializers.Serializer):
    """What a new descriptor would do (versions.descriptors.DiffReport.as_dict)."""

    bump = serializers.ChoiceField(choices=["major", "minor", "patch", "none"])
    next = serializers.CharField(allow_null=True, help_text="The next version number, when the current one was given")
    reasons = serializers.ListField(child=serializers.CharField())
    consent_required = serializers.BooleanField()
    scopes_added = serializers.ListField(child=serializers.CharField())
    scopes_removed = serializers.ListField(child=serializers.CharField())
    free_to_paid = serializers.BooleanField()


class DeployInputSerializer(serializers.Serializer):
    manifest = serializers.CharField(help_text="The forge manifest's YAML text")


class ShareInputSerializer(serializers.Serializer):
    major = serializers.IntegerField(help_text="MAJOR, typed by the vendor; the MINOR counts shares of it")
    components = serializers.JSONField(help_text='[{"name": "api", "version": "2026.11.1"}, ...]')
    update_notes = serializers.CharField(required=False, allow_blank=True, default="", trim_whitespace=False)


class DeployOutputSerializer(serializers.Serializer):
    """A deploy: the version it made, or (created false) the one the same manifest made before."""

    created = serializers.BooleanField()
    version = VersionOutputSerializer()


class ComponentChangeSerializer(serializers.Serializer):
    """A component a version of an app group adds (from null), changes or removes (to null)."""

    name = serializers.CharField()

    def get_fields(self) -> dict[str, Any]:
        # `from` is a Python keyword: the field can't be declared in the class body.
        fields = super().get_fields()
        fields["from"] = serializers.CharField(allow_null=True)
        fields["to"] = serializers.CharField(allow_null=True)
        return fields


class ShareOutputSerializer(serializers.Serializer):
    """A bundle share: every share makes a version (the MINOR counts shares), even with nothing changed."""

    created = serializers.BooleanField()
    components_changed = ComponentChangeSerializer(
        many=True, help_text="Empty when no component changed: then no site is offered the version"
    )
    version = VersionOutputSerializer()


# --- release controls (issue #16): publish in stages, yank ------------------------------------


class PublishInStagesInputSerializer(serializers.Serializer):
    """Checked by versions.policies.stage_plan_check, which names the field and the rule."""

    stages = serializers.ListField(
        child=serializers.IntegerField(), help_text="Growing percentages ending at 100, e.g. [1, 5, 20, 50, 100]"
    )
    advance_every_hours = serializers.IntegerField(
        required=False, allow_null=True, help_text="Advance to the next stage after this many hours; null: by hand"
    )
    halt_failure_percent = serializers.IntegerField(
        required=False,
        allow_null=True,
        help_text="Halt the rollout when this % of a stage's attempted upgrades failed; null: never by itself",
    )
    comment = serializers.CharField(required=False, allow_blank=True, default="", max_length=5000)


class YankInputSerializer(serializers.Serializer):
    reason = serializers.CharField(
        required=False, allow_blank=True, default="", help_text="Required: why; site admins running it read this"
    )


class VersionYankOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField(help_text="The version's id")
    number = serializers.CharField()
    yanked = serializers.BooleanField()
    reason = serializers.CharField(allow_blank=True)
    yanked_at = serializers.DateTimeField(allow_null=True)
