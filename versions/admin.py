"""Versions in the admin: read-only snapshots. Changes go through the services
(the reviewer workspace adds the review actions; staff publish approved versions here)."""

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.helpers import ActionForm
from django.urls import reverse
from django.utils.html import format_html, format_html_join

from core.admin import ReadOnlyAdminMixin
from core.errors import ApplicationError
from versions import services
from versions.models import (
    IN_REVIEW_QUEUE,
    AutoVersionNotice,
    Deploy,
    DescriptorPoll,
    DescriptorPollState,
    StagePlan,
    Version,
    VersionTransition,
    VersionYank,
)
from versions.services.yanks import version_unyank, version_yank


class VersionTransitionInline(admin.TabularInline):
    model = VersionTransition
    extra = 0
    can_delete = False
    fields = ["at", "actor", "name", "from_state", "to_state", "comment"]
    readonly_fields = fields
    ordering = ["-at", "-id"]

    def has_add_permission(self, request, obj=None):
        return False


class VersionActionForm(ActionForm):
    """The changelist's action bar, with the reason a yank requires (issue #16)."""

    reason = forms.CharField(required=False, max_length=500, label="Reason (for Yank)")


@admin.register(Version)
class VersionAdmin(admin.ModelAdmin):
    list_display = [
        "__str__",
        "build_number",
        "channel",
        "state",
        "source",
        "pricing",
        "submitted_at",
        "published_at",
        "review_page",
    ]
    list_filter = ["state", "source", "channel", "listing__scheme"]
    search_fields = ["listing__key", "listing__name", "number"]
    list_select_related = ["listing"]
    inlines = [VersionTransitionInline]
    actions = ["publish_selected", "yank_selected", "unyank_selected"]
    action_form = VersionActionForm

    def get_readonly_fields(self, request, obj=None):
        # Internal fields stay out of sight: the raw sort key (bytes), and scopes as JSON (shown as a list).
        shown = [f.name for f in self.model._meta.fields if f.name not in ("sort_key",)]
        return [("scope_list" if name == "scopes" else name) for name in shown]

    @admin.display(description="scopes")
    def scope_list(self, obj):
        if not obj.scopes:
            return "none"
        return format_html_join(", ", "<code>{}</code>", ((s,) for s in sorted(obj.scopes)))

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.action(description="Publish the selected approved versions (starts their rollouts)")
    def publish_selected(self, request, queryset):
        """ "You or the admin can proceed to Publish": each version through versions.services.version_publish
        (staff only; it checks the state under the row lock and writes the audit row)."""
        published = []
        for version in queryset.select_related("listing").order_by("listing_id", "sort_key"):
            try:
                services.version_publish(version=version, actor=request.user, comment="published by marketplace staff")
            except ApplicationError as exc:
                self.message_user(request, exc.message, messages.ERROR)
            else:
                published.append(str(version))
        if published:
            self.message_user(
                request, f"Published {', '.join(published)}: the rollouts to customer sites start.", messages.SUCCESS
            )

    # --- yank (issue #16): staff withdraw released versions, through versions.services.yanks ----------

    def _each(self, request, queryset, call, done: str) -> None:
        changed = []
        for version in queryset.select_related("listing").order_by("listing_id", "sort_key"):
            try:
                call(version)
            except ApplicationError as exc:
                self.message_user(request, exc.message, messages.ERROR)
            else:
                changed.append(str(version))
        if changed:
            self.message_user(request, f"{done}: {', '.join(changed)}.", messages.SUCCESS)

    @admin.action(description="Yank the selected released versions (give the reason above)")
    def yank_selected(self, request, queryset):
        reason = request.POST.get("reason", "")
        self._each(
            request,
            queryset,
            lambda v: version_yank(version=v, actor=request.user, reason=reason),
            "Yanked (offered to nobody, installable by nobody)",
        )

    @admin.action(description="Un-yank the selected versions")
    def unyank_selected(self, request, queryset):
        self._each(request, queryset, lambda v: version_unyank(version=v, actor=request.user), "Un-yanked")

    @admin.display(description="review")
    def review_page(self, obj):
        """Waiting versions are decided in the review queue (reviews.admin)."""
        if obj.state not in IN_REVIEW_QUEUE:
            return ""
        url = reverse("admin:reviews_reviewqueueversion_change", args=[obj.pk])
        return format_html('<a href="{}">open in the review queue</a>', url)


@admin.register(VersionTransition)
class VersionTransitionAdmin(admin.ModelAdmin):
    list_display = ["version", "name", "from_state", "to_state", "actor", "at"]
    list_filter = ["name", "to_state"]
    search_fields = ["version__listing__key", "version__number", "comment"]
    readonly_fields = ["version", "name", "from_state", "to_state", "actor", "comment", "at"]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


# --- Automatic versions (issue 5): descriptor polls and deploys, read-only -----------------------


class _ReadOnlyAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    def get_readonly_fields(self, request, obj=None):
        return [f.name for f in self.model._meta.fields]


@admin.register(DescriptorPoll)
class DescriptorPollAdmin(_ReadOnlyAdmin):
    list_display = ["listing", "polled_at", "trigger", "http_status", "outcome", "error_kind", "version", "duration_ms"]
    list_filter = ["outcome", "error_kind", "trigger"]
    search_fields = ["listing__key", "url", "error"]
    list_select_related = ["listing", "version"]
    date_hierarchy = "polled_at"


@admin.register(Deploy)
class DeployAdmin(_ReadOnlyAdmin):
    list_display = ["listing", "created_at", "actor", "version", "created_version"]
    list_filter = ["created_version"]
    search_fields = ["listing__key", "manifest_hash"]
    list_select_related = ["listing", "version", "actor"]


@admin.register(DescriptorPollState)
class DescriptorPollStateAdmin(_ReadOnlyAdmin):
    """Per listing: the conditional-GET validators and the current failure streak."""

    list_display = ["listing", "last_polled_at", "next_poll_at", "etag", "last_modified", "failure_streak"]
    search_fields = ["listing__key"]
    list_select_related = ["listing"]


@admin.register(AutoVersionNotice)
class AutoVersionNoticeAdmin(_ReadOnlyAdmin):
    """The "automatic version created" e-mails already sent (one per version)."""

    list_display = ["version", "sent_at"]
    list_select_related = ["version", "version__listing"]


# --- release controls (issue #16): read-only; yanks change through the Version actions above ---------


@admin.register(StagePlan)
class StagePlanAdmin(_ReadOnlyAdmin):
    list_display = ["version", "stages", "advance_every_hours", "halt_failure_percent", "created_by", "created_at"]
    search_fields = ["version__listing__key", "version__number"]
    list_select_related = ["version__listing", "created_by"]


@admin.register(VersionYank)
class VersionYankAdmin(_ReadOnlyAdmin):
    list_display = ["version", "reason", "yanked_by", "yanked_at"]
    search_fields = ["version__listing__key", "version__number", "reason"]
    list_select_related = ["version__listing", "yanked_by"]
