"""Admin for sites, installations, rollouts (progress, halt/resume), upgrades and consent.

Actions call the services and report refusals with message_user.
"""

from __future__ import annotations

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.template.loader import render_to_string
from django.utils.html import format_html

from core.admin import ReadOnlyAdminMixin
from core.errors import ApplicationError
from core.services import audit_record
from upgrades import services
from upgrades.models import (
    BetaInstall,
    BetaShareLink,
    ConsentLink,
    Delivery,
    DeliveryAttempt,
    DeliveryStreak,
    Installation,
    Licence,
    MigrationOffer,
    ProductMigration,
    Rollout,
    SentEmail,
    Site,
    SiteAdmin,
    SiteInvitation,
    SiteToken,
    Upgrade,
    UpgradeDigest,
    UpgradeRequest,
    WebhookEndpoint,
)
from upgrades.selectors import listing_adoption, rollout_progress
from upgrades.share_links import beta_link_url


class SiteAdminInline(admin.TabularInline):
    model = SiteAdmin
    extra = 0
    autocomplete_fields = ["user"]


class SiteTokenInline(admin.TabularInline):
    model = SiteToken
    extra = 0
    fields = ["name", "prefix", "created_at", "revoked_at"]
    readonly_fields = ["prefix", "created_at"]
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False  # tokens are shown once when made: use the site's "create a token" action


# Changed on an existing site only by its own admins, through services (audited): the product
# by a move (services.site_migrate_product), the settings by services.site_update_settings.
# Staff see them here but decide nothing for a customer.
SITE_PRODUCT_FIELDS = ["host_product", "host_version"]
SITE_SETTINGS_FIELDS = ["auto_update", "maintenance_windows"]


@admin.register(Site)
class SiteAdminPage(admin.ModelAdmin):
    """Staff add sites and fix their name, time zone and admins; a site's product and settings are
    its admins' decisions, made on the site's page (the move switches its apps off and offers upgrades)."""

    list_display = ["name", "host_product", "host_version", "time_zone", "auto_update", "sandbox_vendor"]
    list_filter = ["host_product", "auto_update"]
    search_fields = ["name"]
    inlines = [SiteAdminInline, SiteTokenInline]
    actions = ["create_token"]

    def get_readonly_fields(self, request: HttpRequest, obj: Site | None = None) -> list[str]:
        # The sandbox is chosen when the site is added and never changes: turning a customer's
        # site into a vendor's sandbox would let that vendor's OCP -dev versions onto it, and
        # unsetting it would leave -dev installations on a site that is no sandbox.
        fixed = [*SITE_PRODUCT_FIELDS, *SITE_SETTINGS_FIELDS, "sandbox_vendor"] if obj is not None else []
        return [*super().get_readonly_fields(request, obj), *fixed]

    def save_model(self, request: HttpRequest, obj: Site, form, change: bool) -> None:
        super().save_model(request, obj, form, change)  # name, time zone (and the sandbox vendor when added)
        if not change:
            audit_record(
                actor=request.user,
                action="site.create",
                obj=obj,
                object_repr=obj.name,
                to_state=f"{obj.host_product.key} {obj.host_version}".strip(),
            )

    @admin.action(description="Create an API token for the update check")
    def create_token(self, request: HttpRequest, queryset: QuerySet[Site]) -> None:
        for site in queryset:
            _, raw = services.site_token_create(site=site, name=f"created by {request.user.get_username()}")
            self.message_user(request, f"Token for {site.name} (shown once): {raw}", messages.WARNING)


@admin.register(Installation)
class InstallationAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Read-only: installations move through services (rollouts, consent, migrations, beta links),
    each with its audit row; the version is never changed from a form."""

    list_display = ["site", "listing", "version", "state", "app_status", "license", "updated_at"]
    list_filter = ["state", "app_status", "license", "listing"]
    exclude = ["shared_secret"]  # signs the app's callbacks: nobody reads it back
    search_fields = ["site__name", "listing__key"]
    list_select_related = ["site", "listing", "version"]
    raw_id_fields = ["site", "listing", "version"]


@admin.register(Licence)
class LicenceAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Read-only: licences move through upgrades.services (install, buy, expire, uninstall), each audited."""

    list_display = ["installation", "state", "started_at", "expires_at", "ended_at"]
    list_filter = ["state"]
    list_select_related = ["installation__site", "installation__listing"]
    raw_id_fields = ["installation"]


def _bar(progress: dict) -> str:
    return render_to_string("upgrades/_progress_bar.html", {"p": progress})


@admin.register(Rollout)
class RolloutAdmin(admin.ModelAdmin):
    list_display = ["version_label", "listing", "state", "targeted", "progress", "created_at"]
    list_filter = ["state"]
    search_fields = ["listing__key", "version__number"]
    list_select_related = ["listing", "version"]
    readonly_fields = [
        "version",
        "listing",
        "state",
        "targeted",
        "chunks_processed",
        "cursor",
        "created_at",
        "finished_at",
        "halted_by",
        "halted_at",
        "progress_detail",
        "adoption",
    ]
    actions = ["halt", "resume"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # publishing a version starts its rollout

    @admin.display(description="version")
    def version_label(self, obj: Rollout) -> str:
        return obj.version.number

    @admin.display(description="progress")
    def progress(self, obj: Rollout) -> str:
        return format_html("{}", _bar(rollout_progress(obj)))

    @admin.display(description="progress")
    def progress_detail(self, obj: Rollout) -> str:
        return self.progress(obj)

    @admin.display(description="installations per version")
    def adoption(self, obj: Rollout) -> str:
        rows = listing_adoption(listing=obj.listing)
        return ", ".join(f"{r['number']}: {r['installations']}" for r in rows) or "-"

    def _control(self, request: HttpRequest, queryset: QuerySet[Rollout], service) -> None:
        for rollout in queryset:
            try:
                service(rollout=rollout, actor=request.user)
                self.message_user(request, f"Rollout of {rollout.version.number}: done.", messages.SUCCESS)
            except ApplicationError as exc:
                self.message_user(request, exc.message, messages.ERROR)

    @admin.action(description="Halt the selected rollouts")
    def halt(self, request: HttpRequest, queryset: QuerySet[Rollout]) -> None:
        self._control(request, queryset, services.rollout_halt)

    @admin.action(description="Resume the selected rollouts")
    def resume(self, request: HttpRequest, queryset: QuerySet[Rollout]) -> None:
        self._control(request, queryset, services.rollout_resume)


@admin.register(Upgrade)
class UpgradeAdmin(admin.ModelAdmin):
    list_display = ["installation", "from_version", "to_version", "state", "due_at", "applied_at", "approved_by"]
    list_filter = ["state"]
    list_select_related = ["installation__site", "installation__listing", "from_version", "to_version", "approved_by"]
    search_fields = ["installation__site__name", "installation__listing__key"]
    readonly_fields = [f.name for f in Upgrade._meta.fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False


class ConsentLinkInline(admin.TabularInline):
    model = ConsentLink
    extra = 0
    fields = ["email", "created_at", "used_at", "used_for"]
    readonly_fields = fields
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


@admin.register(UpgradeRequest)
class UpgradeRequestAdmin(admin.ModelAdmin):
    list_display = [
        "installation",
        "from_version",
        "to_version",
        "state",
        "reason_list",
        "decided_by",
        "decided_at",
        "created_at",
    ]
    list_filter = ["state"]
    list_select_related = ["installation__site", "installation__listing", "from_version", "to_version", "decided_by"]
    search_fields = ["installation__site__name", "installation__listing__key"]
    readonly_fields = [f.name for f in UpgradeRequest._meta.fields]
    inlines = [ConsentLinkInline]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    @admin.display(description="reasons")
    def reason_list(self, obj: UpgradeRequest) -> str:
        return "; ".join(r.get("text", "") for r in obj.reasons)


@admin.register(SentEmail)
class SentEmailAdmin(admin.ModelAdmin):
    list_display = ["kind", "recipient", "subject", "state", "attempts", "sent_at"]
    list_filter = ["kind", "state"]
    search_fields = ["recipient", "subject", "message_id"]
    readonly_fields = [f.name for f in SentEmail._meta.fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False


class MigrationOfferInline(admin.TabularInline):
    model = MigrationOffer
    extra = 0
    fields = ["installation", "installed_version", "offered_version", "state", "reason", "accepted_by", "accepted_at"]
    readonly_fields = fields
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


@admin.register(ProductMigration)
class ProductMigrationAdmin(admin.ModelAdmin):
    """Read-only: moves are made by site admins on the site page or through the API."""

    list_display = ["site", "from_product", "from_version", "to_product", "to_version", "migrated_by", "created_at"]
    list_filter = ["to_product", "from_product"]
    list_select_related = ["site", "from_product", "to_product", "migrated_by"]
    search_fields = ["site__name"]
    readonly_fields = [f.name for f in ProductMigration._meta.fields]
    inlines = [MigrationOfferInline]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


@admin.register(MigrationOffer)
class MigrationOfferAdmin(admin.ModelAdmin):
    list_display = ["installation", "installed_version", "offered_version", "state", "code", "accepted_by"]
    list_filter = ["state", "code"]
    list_select_related = [
        "installation__site",
        "installation__listing",
        "installed_version",
        "offered_version",
        "accepted_by",
    ]
    search_fields = ["installation__site__name", "installation__listing__key"]
    readonly_fields = [f.name for f in MigrationOffer._meta.fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


@admin.register(SiteAdmin)
class SiteAdminRecordAdmin(admin.ModelAdmin):
    list_display = ["email", "user", "site"]
    search_fields = ["email", "user__username", "site__name"]
    list_select_related = ["site", "user"]
    autocomplete_fields = ["user"]


@admin.register(SiteToken)
class SiteTokenAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Only the prefix is shown: the token itself is never stored (its SHA-256 digest is)."""

    list_display = ["site", "name", "prefix", "created_at", "revoked_at"]
    list_filter = ["revoked_at"]
    search_fields = ["site__name", "name", "prefix"]
    fields = ["site", "name", "prefix", "created_at", "revoked_at"]
    list_select_related = ["site"]


@admin.register(ConsentLink)
class ConsentLinkAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Who was sent a consent link for which request, and whether it was used."""

    list_display = ["request", "email", "created_at", "used_at", "used_for"]
    list_filter = ["used_for"]
    search_fields = ["email"]
    fields = ["request", "email", "created_at", "used_at", "used_for"]
    list_select_related = ["request"]


# --- OCP beta share links ----------------------------------------------------------------


class BetaInstallInline(admin.TabularInline):
    model = BetaInstall
    extra = 0
    fields = ["installation", "from_version", "version", "installed_by", "license", "created_at"]
    readonly_fields = fields
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False  # installs happen through the link's page, where the admin consents


@admin.register(BetaShareLink)
class BetaShareLinkAdmin(admin.ModelAdmin):
    """Read-only: vendors make and revoke links on the version page (or the API)."""

    list_display = ["__str__", "version", "created_by", "created_at", "expires_at", "revoked_at"]
    list_filter = ["revoked_at"]
    list_select_related = ["version__listing", "created_by"]
    search_fields = ["version__listing__key", "version__number"]
    fields = ["version", "url", "created_by", "created_at", "expires_at", "revoked_at", "revoked_by"]
    readonly_fields = fields
    inlines = [BetaInstallInline]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    @admin.display(description="link")
    def url(self, obj: BetaShareLink) -> str:
        return beta_link_url(obj)


# --- callbacks and webhooks: reviewers see what was sent, read-only ------------------------


class DeliveryAttemptInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = DeliveryAttempt
    extra = 0
    fields = ["number", "started_at", "status_code", "latency_ms", "error", "response_excerpt"]
    readonly_fields = fields


@admin.register(Delivery)
class DeliveryAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Every callback and webhook with each attempt; vendors redeliver from their portal pages."""

    list_display = ["created_at", "event", "listing", "kind", "state", "attempts", "last_status", "next_attempt_at"]
    list_filter = ["state", "kind", "event"]
    search_fields = ["delivery_id", "listing__key", "url"]
    list_select_related = ["listing"]
    raw_id_fields = ["listing", "installation", "upgrade", "endpoint"]
    inlines = [DeliveryAttemptInline]
    date_hierarchy = "created_at"


@admin.register(WebhookEndpoint)
class WebhookEndpointAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["url", "listing", "active", "created_at"]
    list_filter = ["active"]
    search_fields = ["url", "listing__key"]
    list_select_related = ["listing"]
    exclude = ["secret", "previous_secret"]  # shown once to the vendor, never again


@admin.register(DeliveryStreak)
class DeliveryStreakAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["target", "listing", "failing_since", "failures", "notified_at"]
    list_select_related = ["listing"]


@admin.register(SiteInvitation)
class SiteInvitationAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Staff see invitations; a site's admins make and revoke them on the site's page."""

    list_display = ["email", "site", "created_at", "expires_at", "accepted_at", "revoked_at"]
    search_fields = ["email", "site__name"]
    exclude = ["digest"]


@admin.register(UpgradeDigest)
class UpgradeDigestAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Daily digests of applied upgrades (issue #16 item 5): what each covered and when it went out."""

    list_display = ["site_admin", "day", "period_start", "period_end", "sent_at"]
    list_filter = ["day"]
    search_fields = ["site_admin__email", "site_admin__site__name"]
    list_select_related = ["site_admin__site"]
