"""The reviewer workspace: the review queue, transition buttons and actions, diffs, history.

Every decision goes through versions.services (which lock the row, check the
reviewer rules and write the audit row); the admin only offers what is allowed
and reports the service's refusal with message_user.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import admin, messages
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseNotAllowed, HttpResponseRedirect
from django.shortcuts import render
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe
from django.utils.timesince import timesince

from core.errors import ApplicationError, TransitionNotAllowed
from core.forms import add_application_error
from marketplace.permissions import is_reviewer
from marketplace.selectors import scope_catalogue
from reviews.diffs import review_diff
from reviews.forms import RejectForm
from reviews.models import DecisionEmail, ReviewQueueVersion
from reviews.selectors import (
    attach_live_versions,
    review_context,
    review_queue,
    review_queue_summary,
    review_transitions_offered,
)
from versions import services as lifecycle
from versions.admin import VersionTransitionInline
from versions.models import WAITING_FOR_REVIEW, State, Version
from versions.validation import UPDATE_NOTES_MAX


class WaitingStateFilter(admin.SimpleListFilter):
    title = "state"
    parameter_name = "state"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [(s.value, s.label) for s in WAITING_FOR_REVIEW]

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        return queryset.filter(state=self.value()) if self.value() else queryset


class ReviewerFilter(admin.SimpleListFilter):
    title = "reviewer"
    parameter_name = "reviewer"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        reviewers = review_queue().exclude(reviewer=None).values_list("reviewer_id", "reviewer__username").distinct()
        named = sorted(((str(pk), name) for pk, name in reviewers), key=lambda r: r[1])
        return [("none", "Not assigned"), ("me", "Me"), *named]

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        value = self.value()
        if value == "none":
            return queryset.filter(reviewer=None)
        if value == "me":
            return queryset.filter(reviewer=request.user)
        if value and value.isdigit():
            return queryset.filter(reviewer_id=int(value))
        return queryset


class HistoryInline(VersionTransitionInline):
    """The audit rows (who, when, from, to, comment), newest first."""

    template = "admin/reviews/history_inline.html"
    verbose_name = "history entry"
    verbose_name_plural = "History (newest first)"
    fields = ["at", "actor", "from_state", "to_state", "name", "comment"]
    readonly_fields = fields

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        return super().get_queryset(request).select_related("actor").order_by("-at", "-id")


@admin.register(ReviewQueueVersion)
class ReviewQueueAdmin(admin.ModelAdmin):
    list_display = [
        "listing_key",
        "vendor",
        "scheme",
        "number",
        "channel",
        "state_label",
        "waiting",
        "reviewer",
        "scopes_added",
    ]
    list_display_links = ["listing_key", "number"]
    list_filter = [
        WaitingStateFilter,
        ("listing__scheme", admin.ChoicesFieldListFilter),
        ("listing__vendor", admin.RelatedOnlyFieldListFilter),
        ("channel", admin.AllValuesFieldListFilter),
        ReviewerFilter,
    ]
    search_fields = ["listing__key", "listing__name", "number"]
    search_help_text = "Search by listing key or name, or version number."
    ordering = ["submitted_at", "pk"]
    list_per_page = 50
    actions = [
        "start_review_selected",
        "release_selected",
        "approve_selected",
        "reject_selected",
        "cancel_selected",
    ]
    inlines = [HistoryInline]
    fieldsets = [
        (None, {"fields": ["listing", "number", "build_number", "channel", "state", "reviewer", "submitted_at"]}),
        (
            "Snapshot",
            {
                "fields": [
                    "source",
                    "breaking",
                    "pricing",
                    "api_version",
                    "scopes",
                    "compatibility",
                    "components",
                    "created_by",
                ]
            },
        ),
    ]
    readonly_fields = [
        "listing",
        "number",
        "build_number",
        "channel",
        "state",
        "reviewer",
        "submitted_at",
        "source",
        "breaking",
        "pricing",
        "api_version",
        "scopes",
        "compatibility",
        "components",
        "created_by",
    ]

    # --- queue ---------------------------------------------------------------

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        return review_queue()

    def changelist_view(self, request: HttpRequest, extra_context: dict | None = None) -> HttpResponse:
        summary = review_queue_summary()
        now = timezone.now()
        extra = {
            "queue_summary": summary,
            "oldest_waiting": timesince(summary.oldest_submitted_at, now) if summary.oldest_submitted_at else None,
        }
        return super().changelist_view(request, extra_context={**extra, **(extra_context or {})})

    def get_changelist_instance(self, request: HttpRequest):
        changelist = super().get_changelist_instance(request)
        # One query for the whole page's live versions (the "scopes added" column).
        attach_live_versions(changelist.result_list)
        return changelist

    @admin.display(description="listing", ordering="listing__key")
    def listing_key(self, obj: Version) -> str:
        return format_html("<strong>{}</strong><br><small>{}</small>", obj.listing.key, obj.listing.name)

    @admin.display(description="vendor", ordering="listing__vendor__name")
    def vendor(self, obj: Version) -> str:
        return obj.listing.vendor.name

    @admin.display(description="scheme", ordering="listing__scheme")
    def scheme(self, obj: Version) -> str:
        return obj.listing.scheme

    @admin.display(description="state", ordering="state")
    def state_label(self, obj: Version) -> str:
        return obj.get_state_display()

    @admin.display(description="waiting", ordering="submitted_at")
    def waiting(self, obj: Version) -> str:
        if obj.submitted_at is None:
            return "-"
        return format_html(
            '<span title="submitted {}">{}</span>',
            obj.submitted_at.isoformat(timespec="minutes"),
            timesince(obj.submitted_at),
        )

    @admin.display(description="scopes added")
    def scopes_added(self, obj: Version) -> str:
        catalogue = scope_catalogue()  # cached: one read per page at most
        live = getattr(obj, "live", None)
        first_release = live is None
        same_channel = not first_release and live.channel == obj.channel
        diff = review_diff(
            previous_scopes=None if first_release else live.scopes,
            scopes=obj.scopes,
            previous_pricing=None if first_release else live.pricing,
            pricing=obj.pricing,
            catalogue=catalogue,
            consent_applies=same_channel,
            scheme=obj.listing.scheme,
            previous_number=None if first_release else live.number,
            number=obj.number,
        )
        added = [row.name for row in diff.added]
        parts = [format_html_join(", ", "<code>{}</code>", ((s,) for s in added)) if added else "none"]
        if first_release:
            parts.append(mark_safe(' <small class="review-note">(first release)</small>'))
        elif not same_channel:
            parts.append(
                format_html(' <small class="review-note">(vs {} in channel {})</small>', live.number, live.channel)
            )
        if diff.needs_consent:
            parts.append(mark_safe(' <span class="review-consent">consent needed</span>'))
        return format_html("{}" * len(parts), *parts)

    # --- the version page ----------------------------------------------------

    def change_view(
        self, request: HttpRequest, object_id: str, form_url: str = "", extra_context: dict | None = None
    ) -> HttpResponse:
        version = Version.objects.select_related("listing", "listing__vendor", "reviewer").filter(pk=object_id).first()
        extra: dict[str, Any] = {}
        if version is not None:
            extra = {
                "version": version,
                "review": review_context(version),
                "offered": review_transitions_offered(version=version, user=request.user),
                "notes_limit": UPDATE_NOTES_MAX,
            }
        return super().change_view(request, object_id, form_url, extra_context={**extra, **(extra_context or {})})

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_review_permission(self, request: HttpRequest) -> bool:
        return is_reviewer(request.user)

    # --- transitions ---------------------------------------------------------

    def get_urls(self) -> list:
        prefix = f"{self.opts.app_label}_{self.opts.model_name}"
        wrap = self.admin_site.admin_view
        return [
            path("<int:object_id>/start-review/", wrap(self.start_review_view), name=f"{prefix}_start_review"),
            path("<int:object_id>/approve/", wrap(self.approve_view), name=f"{prefix}_approve"),
            path("<int:object_id>/reject/", wrap(self.reject_view), name=f"{prefix}_reject"),
            path("<int:object_id>/cancel/", wrap(self.cancel_view), name=f"{prefix}_cancel"),
            path("<int:object_id>/release/", wrap(self.release_view), name=f"{prefix}_release"),
            *super().get_urls(),
        ]

    def _url(self, name: str, *args: Any) -> str:
        return reverse(f"admin:{self.opts.app_label}_{self.opts.model_name}_{name}", args=args)

    def _guard(self, request: HttpRequest) -> None:
        # The queue's view permission and the reviewer permission (the Reviewers group);
        # the services check the reviewer rules again under the row lock.
        if not (self.has_view_permission(request) and is_reviewer(request.user)):
            raise PermissionDenied

    def _refusal(self, version: Version, exc: ApplicationError) -> str:
        """The service's message, with who holds the version now when a race was lost."""
        message = exc.message
        if isinstance(exc, TransitionNotAllowed):
            current = Version.objects.select_related("reviewer").filter(pk=version.pk).first()
            if (
                current is not None
                and current.reviewer_id
                and current.state in (State.IN_REVIEW, State.APPROVED, State.REJECTED)
            ):
                message += f" Reviewer: {current.reviewer.get_username()} (the page you acted on was out of date)."
        return message

    def _decide(
        self,
        request: HttpRequest,
        object_id: int,
        service: Callable[..., Version],
        success: str,
        **kwargs: Any,
    ) -> Version | None:
        version = Version.objects.select_related("listing").filter(pk=object_id).first()
        if version is None:
            self.message_user(request, "That version no longer exists.", messages.ERROR)
            return None
        try:
            version = service(version=version, actor=request.user, **kwargs)
        except ApplicationError as exc:
            self.message_user(request, self._refusal(version, exc), messages.ERROR)
            return None
        self.message_user(request, success.format(version=version), messages.SUCCESS)
        return version

    def _back(self, object_id: int) -> HttpResponseRedirect:
        if Version.objects.filter(pk=object_id, state__in=WAITING_FOR_REVIEW).exists():
            return HttpResponseRedirect(self._url("change", object_id))
        return HttpResponseRedirect(self._url("changelist"))

    def start_review_view(self, request: HttpRequest, object_id: int) -> HttpResponse:
        self._guard(request)
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        self._decide(request, object_id, lifecycle.version_start_review, "You are now reviewing {version}.")
        return self._back(object_id)

    def release_view(self, request: HttpRequest, object_id: int) -> HttpResponse:
        """Release to queue: the reviewer gives the version back for any reviewer to pick up."""
        self._guard(request)
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        self._decide(
            request,
            object_id,
            lifecycle.version_release_to_queue,
            "Released {version} to the queue: any reviewer may pick it up.",
            comment=request.POST.get("comment", "").strip(),
        )
        return self._back(object_id)

    def approve_view(self, request: HttpRequest, object_id: int) -> HttpResponse:
        self._guard(request)
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        self._decide(
            request,
            object_id,
            lifecycle.version_approve,
            "Approved {version}. The vendor is e-mailed and may publish it now.",
            comment=request.POST.get("comment", "").strip(),
        )
        return self._back(object_id)

    def cancel_view(self, request: HttpRequest, object_id: int) -> HttpResponse:
        self._guard(request)
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        self._decide(
            request,
            object_id,
            lifecycle.version_cancel,
            "Canceled {version}.",
            comment=request.POST.get("comment", "").strip() or "canceled by a reviewer",
        )
        return self._back(object_id)

    def reject_view(self, request: HttpRequest, object_id: int) -> HttpResponse:
        self._guard(request)
        version = Version.objects.select_related("listing", "listing__vendor").filter(pk=object_id).first()
        if version is None:
            self.message_user(request, "That version no longer exists.", messages.ERROR)
            return HttpResponseRedirect(self._url("changelist"))
        offered = review_transitions_offered(version=version, user=request.user)
        if request.method != "POST" and not offered.reject:
            # No form for a rejection that would be refused (the POST still goes to the service).
            refusal = offered.refusal or f"Cannot reject {version}: it is {version.get_state_display().lower()}."
            self.message_user(request, refusal, messages.ERROR)
            return self._back(object_id)
        form = RejectForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                lifecycle.version_reject(version=version, actor=request.user, comment=form.cleaned_data["comment"])
            except ApplicationError as exc:
                if exc.field == "comment":
                    add_application_error(form, exc)
                else:
                    self.message_user(request, self._refusal(version, exc), messages.ERROR)
                    return self._back(object_id)
            else:
                self.message_user(
                    request, f"Rejected {version}. The vendor is e-mailed your comments.", messages.SUCCESS
                )
                return self._back(object_id)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": f"Reject {version}",
            "version": version,
            "versions": [version],
            "form": form,
            "form_action": self._url("reject", version.pk),
        }
        return render(request, "reviews/reject.html", context)

    # --- bulk actions (each version through the same service) ------------------

    def _bulk(
        self, request: HttpRequest, queryset: QuerySet, service: Callable[..., Version], done: str, **kwargs: Any
    ) -> None:
        succeeded = []
        for version in queryset.select_related("listing"):
            try:
                service(version=version, actor=request.user, **kwargs)
            except ApplicationError as exc:
                self.message_user(request, self._refusal(version, exc), messages.ERROR)
            else:
                succeeded.append(str(version))
        if succeeded:
            self.message_user(request, f"{done}: {', '.join(succeeded)}.", messages.SUCCESS)

    @admin.action(description="Start review of the selected versions", permissions=["review"])
    def start_review_selected(self, request: HttpRequest, queryset: QuerySet) -> None:
        self._bulk(request, queryset, lifecycle.version_start_review, "You are now reviewing")

    @admin.action(description="Release the selected versions to the queue", permissions=["review"])
    def release_selected(self, request: HttpRequest, queryset: QuerySet) -> None:
        self._bulk(request, queryset, lifecycle.version_release_to_queue, "Released to the queue")

    @admin.action(description="Approve the selected versions", permissions=["review"])
    def approve_selected(self, request: HttpRequest, queryset: QuerySet) -> None:
        self._bulk(request, queryset, lifecycle.version_approve, "Approved (the vendors are e-mailed)")

    @admin.action(description="Cancel the selected versions", permissions=["review"])
    def cancel_selected(self, request: HttpRequest, queryset: QuerySet) -> None:
        self._bulk(request, queryset, lifecycle.version_cancel, "Canceled", comment="canceled by a reviewer")

    @admin.action(description="Reject the selected versions (asks for comments)…", permissions=["review"])
    def reject_selected(self, request: HttpRequest, queryset: QuerySet) -> HttpResponse | None:
        form = RejectForm(request.POST if "apply" in request.POST else None)
        if "apply" in request.POST and form.is_valid():
            self._bulk(
                request,
                queryset,
                lifecycle.version_reject,
                "Rejected (the vendors are e-mailed your comments)",
                comment=form.cleaned_data["comment"],
            )
            return None
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": "Reject versions",
            "versions": list(queryset.select_related("listing")),
            "form": form,
            "form_action": "",
            "bulk": True,
            "action_checkbox_name": ACTION_CHECKBOX_NAME,
        }
        return render(request, "reviews/reject.html", context)


@admin.register(DecisionEmail)
class DecisionEmailAdmin(admin.ModelAdmin):
    list_display = ["subject", "kind", "sent_at"]
    list_filter = ["kind"]
    search_fields = ["subject", "transition__version__listing__key"]
    readonly_fields = ["transition", "kind", "recipients", "subject", "sent_at"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
