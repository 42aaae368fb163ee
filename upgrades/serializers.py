"""What the upgrades API returns (and the few bodies it takes), one serializer per shape.

Serializers only rename and nest: which version is offered, why consent is
needed, a link's status, are decided by selectors and services (their `*_data`
builders hand over plain dicts these serializers describe).
"""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from marketplace.scopes import SENSITIVITY_NAMES
from upgrades import offer_rules
from upgrades.models import (
    BetaInstall,
    Delivery,
    DeliveryAttempt,
    Installation,
    InstallationState,
    OfferState,
    RequestState,
    Rollout,
    RolloutState,
    Upgrade,
    UpgradeState,
    WebhookEndpoint,
)
from upgrades.services.beta import BETA_LINK_DEFAULT_DAYS, BETA_LINK_MAX_DAYS
from versions import policies
from versions.serializers import ComponentChangeSerializer

# --- shared pieces -----------------------------------------------------------------------


class ConsentReasonSerializer(serializers.Serializer):
    """One reason a site's admin must approve an upgrade (versions.policies.Reason.as_dict)."""

    code = serializers.ChoiceField(
        choices=[policies.SCOPE_ADDED, policies.FREE_TO_PAID, policies.MAJOR_UPGRADE, policies.AUTO_UPDATE_OFF]
    )
    text = serializers.CharField(help_text="The reason in words, for the admin")
    scope = serializers.CharField(required=False, help_text="scope_added only: the new scope")
    sensitivity = serializers.ChoiceField(
        choices=list(SENSITIVITY_NAMES.values()), required=False, help_text="scope_added only"
    )


# --- the update check --------------------------------------------------------------------


class InstalledVersionSerializer(serializers.Serializer):
    number = serializers.CharField()
    build_number = serializers.IntegerField()
    under_test = serializers.BooleanField(
        help_text="The site runs a version before its release, as a member testing it (private testing)"
    )
    yanked_reason = serializers.CharField(
        required=False, help_text="Present when the vendor withdrew (yanked) this version: why"
    )


class MoveOffSerializer(serializers.Serializer):
    """Why an offer moves the installation off its version (issue #16: the version was yanked)."""

    code = serializers.ChoiceField(choices=[policies.VERSION_YANKED])
    message = serializers.CharField(help_text="Why, in words, for the site's admins")
    yank_reason = serializers.CharField(help_text="The vendor's reason for yanking")
    installed = serializers.CharField(help_text="The yanked version's number")


class PendingRequestSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    state = serializers.ChoiceField(choices=[RequestState.PENDING])


class UpdateOfferSerializer(serializers.Serializer):
    """The newest version an installation may move to."""

    number = serializers.CharField()
    build_number = serializers.IntegerField()
    coordinates = serializers.CharField(help_text="<listing key>@<number>")
    channel = serializers.CharField()
    update_notes = serializers.CharField()
    consent_required = serializers.BooleanField(help_text="True when `reasons` is not empty")
    reasons = ConsentReasonSerializer(many=True, help_text="Why an admin must approve (empty: applied automatically)")
    one_click = serializers.BooleanField(
        help_text="The only reason is the internal market's reminder: a site admin's click upgrades, no review page"
    )
    components = ComponentChangeSerializer(many=True, help_text="App groups only: the components it updates")
    request = PendingRequestSerializer(allow_null=True, help_text="The open upgrade request for this version")
    scheduled_at = serializers.DateTimeField(allow_null=True, help_text="When the scheduled upgrade is due")
    move_off = MoveOffSerializer(
        required=False,
        help_text="Present when the installed version was yanked: this offer (maybe a lower version) moves off it",
    )


class SiteUpdateItemSerializer(serializers.Serializer):
    installation = serializers.IntegerField()
    listing = serializers.CharField(help_text="Listing key")
    name = serializers.CharField()
    state = serializers.ChoiceField(choices=InstallationState.choices)
    installed = InstalledVersionSerializer()
    update = UpdateOfferSerializer(allow_null=True, help_text="null: the installation is up to date")


class SiteUpdatesSerializer(serializers.Serializer):
    """The update check (upgrades.selectors.site_updates)."""

    site = serializers.IntegerField()
    checked_at = serializers.DateTimeField()
    installations = serializers.IntegerField(help_text="How many installations `items` lists")
    updates_available = serializers.IntegerField()
    items = SiteUpdateItemSerializer(many=True)


# --- installations -----------------------------------------------------------------------


class InstallationOutputSerializer(serializers.ModelSerializer):
    listing = serializers.CharField(source="listing.key")
    version = serializers.CharField(source="version.number")
    build_number = serializers.IntegerField(source="version.build_number")
    granted_scopes = serializers.ListField(child=serializers.CharField())

    class Meta:
        model = Installation
        fields = [
            "id",
            "listing",
            "version",
            "build_number",
            "granted_scopes",
            "license",
            "state",
            "disabled_reason",
            "installed_at",
        ]


class InstallRequestSerializer(serializers.Serializer):
    listing = serializers.CharField(max_length=63, help_text="The app's key, e.g. jira-time-tracker")


class UpgradeHookSerializer(serializers.Serializer):
    """An OCP lifecycle hook called for the upgrade."""

    hook = serializers.CharField()
    at = serializers.DateTimeField()
    to = serializers.CharField()
    outcome = serializers.CharField()


class InstallationUpgradeOutputSerializer(serializers.ModelSerializer):
    upgrade = serializers.IntegerField(source="pk")
    state = serializers.ChoiceField(choices=UpgradeState.choices)
    version = serializers.CharField(source="to_version.number")
    hooks = UpgradeHookSerializer(many=True)

    class Meta:
        model = Upgrade
        fields = ["upgrade", "state", "version", "hooks"]


# --- upgrade requests --------------------------------------------------------------------


class UpgradeRequestOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    site = serializers.IntegerField()
    installation = serializers.IntegerField()
    listing = serializers.CharField(help_text="Listing key")
    reasons = ConsentReasonSerializer(many=True)
    state = serializers.ChoiceField(choices=RequestState.choices)
    decided_by = serializers.CharField(allow_null=True, help_text="null until decided; `system` when no person did")
    decided_at = serializers.DateTimeField(allow_null=True)
    created_at = serializers.DateTimeField()

    def get_fields(self) -> dict[str, Any]:
        # `from` is a Python keyword; the keys keep their order (from and to follow listing).
        declared = super().get_fields()
        head = {name: declared.pop(name) for name in ["id", "site", "installation", "listing"]}
        head["from"] = serializers.CharField(help_text="The installed version's number")
        head["to"] = serializers.CharField(help_text="The version asked for")
        return {**head, **declared}


# --- rollouts ----------------------------------------------------------------------------


class RolloutCountsSerializer(serializers.Serializer):
    applied = serializers.IntegerField()
    scheduled = serializers.IntegerField()
    awaiting_consent = serializers.IntegerField()
    rejected = serializers.IntegerField()
    failed = serializers.IntegerField()
    expired = serializers.IntegerField()
    total = serializers.IntegerField()


class RolloutStagesSerializer(serializers.Serializer):
    """Issue #16: where a rollout in stages is."""

    stages = serializers.ListField(child=serializers.IntegerField(), help_text="The plan's percentages")
    stage = serializers.IntegerField(help_text="The current stage, 1-based")
    percent = serializers.IntegerField(help_text="Percent of installations the current stage holds")
    started_at = serializers.DateTimeField(allow_null=True, help_text="When the current stage began")
    advance_every_hours = serializers.IntegerField(allow_null=True, help_text="null: advanced by hand")
    halt_failure_percent = serializers.IntegerField(allow_null=True, help_text="null: never halts by itself")
    halt_reason = serializers.CharField(allow_blank=True, help_text="Why it halted by itself, if it did")


class RolloutOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    version = serializers.CharField(help_text="The version's number")
    state = serializers.ChoiceField(choices=RolloutState.choices)
    created_at = serializers.DateTimeField()
    counts = RolloutCountsSerializer()
    staged = RolloutStagesSerializer(required=False, help_text="Present when the rollout goes in stages")


class VersionAdoptionSerializer(serializers.Serializer):
    number = serializers.CharField()
    installations = serializers.IntegerField()
    percent = serializers.FloatField()


class ListingRolloutsSerializer(serializers.Serializer):
    listing = serializers.CharField(help_text="Listing key")
    rollouts = RolloutOutputSerializer(many=True, help_text="The latest rollouts, newest first")
    adoption = VersionAdoptionSerializer(many=True, help_text="Active installations per version, newest first")


# --- analytics ---------------------------------------------------------------------------


class DailyInstallsSerializer(serializers.Serializer):
    date = serializers.DateField()
    installs = serializers.IntegerField(help_text="Installs (and installs again after an uninstall) that day")
    uninstalls = serializers.IntegerField()
    active = serializers.IntegerField(help_text="Installations installed (not uninstalled) at the end of the day")


class AnalyticsTotalsSerializer(serializers.Serializer):
    installs = serializers.IntegerField()
    uninstalls = serializers.IntegerField()
    active = serializers.IntegerField(help_text="Installed today")


class ConsentRatesSerializer(serializers.Serializer):
    requested = serializers.IntegerField(help_text="Upgrade requests asked in the window")
    approved = serializers.IntegerField()
    rejected = serializers.IntegerField()
    expired = serializers.IntegerField()
    pending = serializers.IntegerField()
    answered = serializers.IntegerField(help_text="Approved plus rejected")
    approval_rate = serializers.FloatField(allow_null=True, help_text="Percent of the answered; null when none")
    rejection_rate = serializers.FloatField(allow_null=True, help_text="Percent of the answered; null when none")


class VersionHistorySerializer(serializers.Serializer):
    number = serializers.CharField()
    counts = serializers.ListField(child=serializers.IntegerField(), help_text="One count per day of `dates`")


class ListingAnalyticsSerializer(serializers.Serializer):
    listing = serializers.CharField(help_text="Listing key")
    days = serializers.IntegerField()
    start = serializers.DateField(help_text="The first day (in the portal's time zone)")
    end = serializers.DateField(help_text="The last day: today")
    totals = AnalyticsTotalsSerializer()
    daily = DailyInstallsSerializer(many=True, help_text="One row per day, oldest first")
    versions_in_use = VersionAdoptionSerializer(many=True, help_text="Active installations per version today")
    versions_over_time = VersionHistorySerializer(many=True, help_text="Installations per version per day")
    consent = ConsentRatesSerializer()


class RolloutStateSerializer(serializers.ModelSerializer):
    state = serializers.ChoiceField(choices=RolloutState.choices)

    class Meta:
        model = Rollout
        fields = ["id", "state"]


class RolloutStageSerializer(serializers.ModelSerializer):
    """Issue #16: a staged rollout's stage (1-based) and its share of installations."""

    state = serializers.ChoiceField(choices=RolloutState.choices)
    stages = serializers.ListField(child=serializers.IntegerField(), help_text="The plan's percentages")
    stage = serializers.SerializerMethodField(help_text="The current stage, 1-based")
    stage_percent = serializers.IntegerField(help_text="Percent of installations the current stage holds")

    class Meta:
        model = Rollout
        fields = ["id", "state", "stages", "stage", "stage_percent", "stage_started_at", "halt_reason"]

    def get_stage(self, rollout: Rollout) -> int:
        return rollout.stage_index + 1


# --- product migrations ------------------------------------------------------------------


class MigrationInputSerializer(serializers.Serializer):
    """Checked by the service (upgrades.services.site_migrate_product), which names the field at fault."""

    host_product = serializers.CharField(required=False, allow_blank=True, allow_null=True, help_text="Product key")
    host_version = serializers.CharField(
        required=False, allow_blank=True, allow_null=True, help_text=offer_rules.HOST_VERSION_RULE
    )


class MigrationOfferOutputSerializer(serializers.Serializer):
    """One installation's offer after a move (upgrades.selectors.migration.migration_offer_data)."""

    id = serializers.IntegerField()
    installation = serializers.IntegerField()
    listing = serializers.CharField(help_text="Listing key")
    name = serializers.CharField()
    installed = serializers.CharField(help_text="The installed version's number")
    state = serializers.ChoiceField(choices=OfferState.choices)
    code = serializers.ChoiceField(
        choices=[
            offer_rules.OFFERED,
            offer_rules.NOT_GREATER,
            offer_rules.INCOMPATIBLE,
            offer_rules.NOT_AVAILABLE,
        ]
    )
    offered = serializers.CharField(allow_null=True, help_text="The offered version's number")
    reason = serializers.CharField(allow_null=True, help_text="Why nothing is offered")
    consent_required = serializers.BooleanField()
    consent_reasons = ConsentReasonSerializer(many=True)
    accepted_by = serializers.CharField(allow_null=True)
    accepted_at = serializers.DateTimeField(allow_null=True)
    acceptable = serializers.BooleanField(help_text="The offer can still be accepted")


class ProductRefSerializer(serializers.Serializer):
    product = serializers.CharField(help_text="Host product key")
    version = serializers.CharField()


class ProductMigrationOutputSerializer(serializers.Serializer):
    """A site's move to another host product (upgrades.selectors.migration.product_migration_data)."""

    id = serializers.IntegerField()
    site = serializers.IntegerField()
    migrated_by = serializers.CharField(allow_null=True)
    created_at = serializers.DateTimeField()
    deactivated = serializers.IntegerField(help_text="Installations switched off by the move")
    requests_superseded = serializers.IntegerField()
    upgrades_superseded = serializers.IntegerField()
    offers = MigrationOfferOutputSerializer(many=True)

    def get_fields(self) -> dict[str, Any]:
        # `from` is a Python keyword; the keys keep their order (from and to follow site).
        declared = super().get_fields()
        head = {name: declared.pop(name) for name in ["id", "site"]}
        head["from"] = ProductRefSerializer(help_text="The product the site ran")
        head["to"] = ProductRefSerializer(help_text="The product it runs now")
        return {**head, **declared}


# --- beta links --------------------------------------------------------------------------


class BetaLinkCreateInputSerializer(serializers.Serializer):
    expires_in_days = serializers.IntegerField(
        required=False, default=BETA_LINK_DEFAULT_DAYS, help_text=f"1 to {BETA_LINK_MAX_DAYS} days"
    )


class BetaLinkOutputSerializer(serializers.Serializer):
    """A beta share link as the vendor sees it (upgrades.selectors.beta.beta_link_data)."""

    id = serializers.IntegerField()
    version = serializers.IntegerField()
    url = serializers.CharField(help_text="Absolute URL to give the customer")
    token = serializers.CharField(help_text="What POST /beta-links/install takes")
    status = serializers.ChoiceField(choices=["active", "expired", "revoked"])
    created_at = serializers.DateTimeField()
    created_by = serializers.CharField(allow_null=True)
    expires_at = serializers.DateTimeField()
    revoked_at = serializers.DateTimeField(allow_null=True)
    installs = serializers.IntegerField()


class BetaInstallInputSerializer(serializers.Serializer):
    token = serializers.CharField()
    site = serializers.IntegerField(min_value=1, max_value=2**63 - 1)


class BetaInstallOutputSerializer(serializers.ModelSerializer):
    """An installation made (or upgraded) through a beta link: what the admin consented to."""

    installation = serializers.IntegerField(source="installation_id")
    site = serializers.IntegerField(source="installation.site_id")
    listing = serializers.CharField(source="installation.listing.key")
    version = serializers.CharField(source="version.number")
    from_version = serializers.CharField(
        source="from_version.number", allow_null=True, help_text="null: a new installation"
    )
    granted_scopes = serializers.ListField(child=serializers.CharField())
    consent_reasons = ConsentReasonSerializer(many=True)
    upgrade = serializers.IntegerField(source="upgrade_id", allow_null=True)
    state = serializers.ChoiceField(source="installation.state", choices=InstallationState.choices)

    class Meta:
        model = BetaInstall
        fields = [
            "installation",
            "site",
            "listing",
            "version",
            "from_version",
            "granted_scopes",
            "license",
            "consent_reasons",
            "upgrade",
            "state",
        ]


class TestedVersionSerializer(serializers.Serializer):
    """A version the signed-in user was invited to test (a member of it), before its release."""

    id = serializers.IntegerField(source="pk")
    listing = serializers.CharField(source="listing.key")
    name = serializers.CharField(source="listing.name")
    vendor = serializers.CharField(source="listing.vendor.name")
    number = serializers.CharField()
    build_number = serializers.IntegerField()
    state = serializers.CharField()
    scopes = serializers.ListField(child=serializers.CharField())
    pricing = serializers.CharField()
    update_notes = serializers.CharField()


class TestedVersionInstallInputSerializer(serializers.Serializer):
    site = serializers.IntegerField(min_value=1, max_value=2**63 - 1)


class TestedVersionInstallOutputSerializer(serializers.Serializer):
    installation = serializers.IntegerField(source="pk")
    site = serializers.IntegerField(source="site_id")
    listing = serializers.CharField(source="listing.key")
    version = serializers.CharField(source="version.number")
    granted_scopes = serializers.ListField(child=serializers.CharField())
    license = serializers.CharField()
    state = serializers.CharField()


# --- callbacks and webhooks ----------------------------------------------------------------


class WebhookEndpointInputSerializer(serializers.Serializer):
    url = serializers.CharField(max_length=500, allow_blank=True)
    events = serializers.ListField(child=serializers.CharField(max_length=40), allow_empty=True, max_length=20)
    description = serializers.CharField(max_length=120, required=False, allow_blank=True, default="")
    active = serializers.BooleanField(required=False, default=True)


class WebhookEndpointSerializer(serializers.ModelSerializer):
    """An endpoint without its secret (shown once, in the creation's and the rotation's answer)."""

    listing = serializers.CharField(source="listing.key")

    class Meta:
        model = WebhookEndpoint
        fields = ["id", "listing", "url", "description", "events", "active", "previous_secret_expires_at", "created_at"]


class WebhookEndpointWithSecretSerializer(WebhookEndpointSerializer):
    secret = serializers.CharField()

    class Meta(WebhookEndpointSerializer.Meta):
        fields = [*WebhookEndpointSerializer.Meta.fields, "secret"]


class DeliveryAttemptSerializer(serializers.ModelSerializer):
    class Meta:
        model = DeliveryAttempt
        fields = ["number", "started_at", "status_code", "latency_ms", "error", "response_excerpt"]


class DeliverySerializer(serializers.ModelSerializer):
    listing = serializers.CharField(source="listing.key")
    endpoint = serializers.IntegerField(source="endpoint_id", allow_null=True)
    installation = serializers.IntegerField(source="installation_id", allow_null=True)
    upgrade = serializers.IntegerField(source="upgrade_id", allow_null=True)

    class Meta:
        model = Delivery
        fields = [
            "id",
            "delivery_id",
            "kind",
            "event",
            "listing",
            "endpoint",
            "installation",
            "upgrade",
            "url",
            "state",
            "attempts",
            "max_attempts",
            "next_attempt_at",
            "last_status",
            "last_error",
            "last_response",
            "created_at",
            "finished_at",
        ]


class DeliveryDetailSerializer(DeliverySerializer):
    attempt_log = DeliveryAttemptSerializer(many=True)

    class Meta(DeliverySerializer.Meta):
        fields = [*DeliverySerializer.Meta.fields, "payload", "attempt_log"]
