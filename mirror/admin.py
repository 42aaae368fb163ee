"""Admin for the internal market: mirror tokens (upstream side), sources and their sync history.

Actions call the services and report the outcome with message_user.
"""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html, format_html_join

from core.errors import ApplicationError
from mirror import services
from mirror.models import MirroredListing, MirrorSource, MirrorSync, MirrorToken
from mirror.selectors import mirror_sync_list


@admin.register(MirrorToken)
class MirrorTokenAdmin(admin.ModelAdmin):
    """Tokens are made by the action (shown once); only the digest is stored."""

    list_display = ["name", "prefix", "created_at", "revoked_at"]
    fields = ["name", "prefix", "created_at", "revoked_at"]
    readonly_fields = ["prefix", "created_at", "revoked_at"]
    actions = ["revoke"]

    def save_model(self, request: HttpRequest, obj: MirrorToken, form, change: bool) -> None:
        if change:
            obj.save(update_fields=["name"])
            return
        token, raw = services.mirror_token_create(name=obj.name)
        obj.pk, obj.prefix, obj.digest, obj.created_at = token.pk, token.prefix, token.digest, token.created_at
        self.message_user(
            request,
            f"Mirror token for {token.name} (shown once, give it to the downstream portal): {raw}",
            messages.WARNING,
        )

    @admin.action(description="Revoke the selected tokens")
    def revoke(self, request: HttpRequest, queryset: QuerySet[MirrorToken]) -> None:
        for token in queryset:
            services.mirror_token_revoke(token=token)
        self.message_user(request, f"{queryset.count()} token(s) revoked.")


class MirrorSourceForm(forms.ModelForm):
    base_url = forms.URLField(
        assume_scheme="https",
        max_length=500,
        help_text="The upstream portal's address, e.g. https://market.example.com",
    )
    # The token is a credential: never rendered back into the page; left empty on a change, it stays as it is.
    token = forms.CharField(
        required=False,
        max_length=200,
        widget=forms.PasswordInput(render_value=False),
        help_text="A mirror token made in the upstream portal's admin (leave empty to keep the current one)",
    )

    class Meta:
        model = MirrorSource
        fields = ["name", "base_url", "token", "key_prefix", "enabled"]

    def clean_token(self) -> str:
        token = (self.cleaned_data.get("token") or "").strip()
        if not token and self.instance.pk:
            return self.instance.token
        if not token:
            raise forms.ValidationError("A mirror token is required: make one in the upstream portal's admin.")
        return token


class MirroredListingInline(admin.TabularInline):
    model = MirroredListing
    extra = 0
    fields = ["upstream_key", "listing", "upstream_vendor", "updated_at"]
    readonly_fields = fields
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


@admin.register(MirrorSource)
class MirrorSourceAdmin(admin.ModelAdmin):
    form = MirrorSourceForm
    list_display = [
        "__str__",
        "base_url",
        "enabled",
        "last_synced_at",
        "last_success_at",
        "failure_streak",
        "last_error",
    ]
    list_filter = ["enabled"]
    readonly_fields = [
        "vendor",
        "etag",
        "last_modified",
        "last_synced_at",
        "last_success_at",
        "last_error",
        "failure_streak",
        "recent_syncs",
    ]
    inlines = [MirroredListingInline]
    actions = ["sync_now"]

    @admin.display(description="Recent syncs")
    def recent_syncs(self, obj: MirrorSource) -> str:
        if not obj.pk:
            return "-"
        rows = format_html_join(
            "",
            "<li>{}: {} ({}) - {}</li>",
            (
                (f"{s.started_at:%Y-%m-%d %H:%M}", s.get_outcome_display(), s.get_trigger_display(), s.summary)
                for s in mirror_sync_list(source=obj)[:10]
            ),
        )
        url = reverse("admin:mirror_mirrorsync_changelist") + f"?source__id__exact={obj.pk}"
        return format_html('<ul>{}</ul><a href="{}">All syncs of this source</a>', rows, url)

    @admin.action(description="Sync now")
    def sync_now(self, request: HttpRequest, queryset: QuerySet[MirrorSource]) -> None:
        for source in queryset:
            try:
                sync = services.mirror_sync(source=source, trigger=MirrorSync.Trigger.ADMIN)
            except ApplicationError as exc:
                self.message_user(request, f"{source}: {exc.message}", messages.ERROR)
                continue
            level = {
                MirrorSync.Outcome.FAILED: messages.ERROR,
                MirrorSync.Outcome.PARTIAL: messages.WARNING,
            }.get(sync.outcome, messages.SUCCESS)
            self.message_user(request, f"{source}: {sync.get_outcome_display()} - {sync.summary}", level)


@admin.register(MirrorSync)
class MirrorSyncAdmin(admin.ModelAdmin):
    """The sync history (read-only)."""

    list_display = ["started_at", "source", "trigger", "outcome", "versions_created", "summary"]
    list_filter = ["outcome", "trigger", "source"]
    list_select_related = ["source"]
    readonly_fields = [f.name for f in MirrorSync._meta.fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False
