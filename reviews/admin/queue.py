"""The review queue and a version's review page: claim, ask, note, decide, assign; diffs, thread, history.

Every decision goes through versions.services (which lock the row, check the
reviewer rules and write the audit row); the admin only offers what is allowed
and reports the service's refusal with message_user.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.contrib import admin, messages
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseNotAllowed, HttpResponseRedirect
from django.shortcuts import render
from django.urls import path, reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe
from django.utils.timesince import timesince

from core.errors import ApplicationError, TransitionNotAllowed
from core.forms import add_application_error
from marketplace.permissions import is_reviewer, is_vendor_member
from marketplace.selectors import scope_catalogue
from reviews import services as workspace
from reviews.admin.filters import ClaimFilter, ConsentFilter, WaitingStateFilter, WaitingTimeFilter
from reviews.diffs import review_diff
from reviews.forms import RejectForm
from reviews.models import ReviewQueueVersion
from reviews.policies import claim_expires_at, is_late, is_review_lead, manifest_of, side_by_side_diff
from reviews.selectors import (
    attach_live_versions,
    checklist_for,
    claim_last_activity,
    review_context,
    review_metrics,
    review_queue,
    review_queue_summary,
    review_thread,
    review_transitions_offered,
    reviewer_notes,
    vendor_review_history,
)
from versions import services as lifecycle
from versions.admin import VersionTransitionInline
from versions.models import IN_REVIEW_QUEUE, State, Version
from versions.validation import UPDATE_NOTES_MAX


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
    # Fits 1366 px: the channel rides with the listing, the scheme is a filter.
    list_display = ["listing_key", "number", "vendor", "state_label", "waiting", "claim", "scopes_added"]
    list_display_links = ["listing_key", "number"]
    list_filter = [
        WaitingStateFilter,
        ClaimFilter,
        ("listing__scheme", admin.ChoicesFieldListFilter),
        ConsentFilter,
        WaitingTimeFilter,
        ("listing__vendor", admin.RelatedOnlyFieldListFilter),
        ("channel", admin.AllValuesFieldListFilter),
    ]
    search_fields = ["listing__key", "listing__name", "number"]
    search_help_text = "Search by listing key or name, or version number."
    ordering = ["submitted_at", "pk"]  # longest waiting first
    list_per_page = 50
    # No bulk approve: an approval needs its checklist ticked, one version at a time.
    actions = ["start_review_selected", "release_selected", "reject_selected", "cancel_selected"]
    inlines = [HistoryInline]
    fieldsets = [
        (None, {"fields": ["listing", "number", "build_number", "channel", "state", "reviewer", "submitted"]}),
        (
            "Snapshot",
            {
                "fields": [
                    "source",
                    "breaking",
                    "pricing",
                    "api_version",
                    "scope_list",
                    "compatibility_list",
                    "component_list",
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
        "submitted",
        "source",
        "breaking",
        "pricing",
        "api_version",
        "scope_list",
        "compatibility_list",
        "component_list",
        "created_by",
    ]

    # --- human fields (no raw JSON) -----------------------------------------------

    @admin.display(description="submitted")
    def submitted(self, obj: Version) -> str:
        return when(obj.submitted_at)

    @admin.display(description="scopes")
    def scope_list(self, obj: Version) -> str:
        if not obj.scopes:
            return "none"
        return format_html_join(", ", "<code>{}</code>", ((s,) for s in sorted(obj.scopes)))

    @admin.display(description="compatibility")
    def compatibility_list(self, obj: Version) -> str:
        rows = obj.compatibility or []
        if not rows:
            return "any host version"
        return format_html_join(
            "; ",
            "{} {} – {}",
            ((r.get("product", "?"), r.get("min") or "any", r.get("max") or "any") for r in rows),
        )

    @admin.display(description="components")
    def component_list(self, obj: Version) -> str:
        rows = obj.components or []
        if not rows:
            return "none"
        return format_html_join(", ", "{} {}", ((r.get("name", "?"), r.get("version", "")) for r in rows))

    # --- queue ---------------------------------------------------------------

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        return review_queue()

    def changelist_view(self, request: HttpRequest, extra_context: dict | None = None) -> HttpResponse:
        summary = review_queue_summary()
        now = timezone.now()
        extra = {
            "queue_summary": summary,
            "oldest_waiting": timesince(summary.oldest_submitted_at, now) if summary.oldest_submitted_at else None,
            "sla_days": settings.REVIEW_SLA_WORKING_DAYS,
            "is_lead": is_review_lead(request.user),
        }
        return super().changelist_view(request, extra_context={**extra, **(extra_context or {})})

    def get_changelist_instance(self, request: HttpRequest):
        changelist = super().get_changelist_instance(request)
        # One query for the whole page's live versions (the "scopes added" column).
        attach_live_versions(changelist.result_list)
        return changelist

    @admin.display(description="listing", ordering="listing__key")
    def listing_key(self, obj: Version) -> str:
        return format_html(
            "<strong>{}</strong><br><small>{} · {} · channel {}</small>",
            obj.listing.key,
            obj.listing.name,
            obj.listing.get_scheme_display().split(" (")[0],
            obj.channel,
        )

    @admin.display(description="vendor", ordering="listing__vendor__name")
    def vendor(self, obj: Version) -> str:
        return obj.listing.vendor.name

    @admin.display(description="state", ordering="state")
    def state_label(self, obj: Version) -> str:
        return obj.get_state_display()

    @admin.display(description="waiting", ordering="submitted_at")
    def waiting(self, obj: Version) -> str:
        if obj.submitted_at is None:
            return "-"
        late = is_late(obj.submitted_at, now=timezone.now(), sla_working_days=settings.REVIEW_SLA_WORKING_DAYS)
        return format_html(
            '<span class="{}" title="submitted {}">{}{}</span>',
            "review-late" if late else "review-in-time",
            when(obj.submitted_at),
            timesince(obj.submitted_at),
            " · late" if late else "",
        )

    @admin.display(description="claim", ordering="reviewer__username")
    def claim(self, obj: Version) -> str:
        if obj.reviewer_id is None:
            return format_html('<span class="review-note">{}</span>', "unclaimed")
        name = obj.reviewer.get_username()
        expires = claim_expires_at(getattr(obj, "last_activity", None), expiry_hours=settings.REVIEW_CLAIM_EXPIRY_HOURS)
        if obj.state == State.IN_REVIEW and expires is not None and expires <= timezone.now():
            return format_html('{} <span class="review-note">(lapsed: anyone may claim)</span>', name)
        return format_html("<strong>{}</strong>", name)

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
        version = (
            Version.objects.select_related("listing", "listing__vendor", "reviewer")
            .filter(pk=object_id if str(object_id).isdigit() else None)
            .first()
        )
        extra: dict[str, Any] = {}
        if version is not None:
            review = review_context(version)
            # Private notes and the vendor's review history are never shown to the vendor's own people.
            insider = is_vendor_member(request.user, version.listing.vendor_id)
            last_activity = claim_last_activity(version_id=version.pk)
            extra = {
                "version": version,
                "review": review,
                "offered": review_transitions_offered(version=version, user=request.user, last_activity=last_activity),
                "notes_limit": UPDATE_NOTES_MAX,
                "thread": review_thread(version=version),
                "insider": insider,
                "private_notes": [] if insider else reviewer_notes(version=version),
                "vendor_history": None
                if insider
                else vendor_review_history(vendor_id=version.listing.vendor_id, exclude_version_id=version.pk),
                "checklist": checklist_for(scheme=version.listing.scheme),
                "claim_expires_at": claim_expires_at(last_activity, expiry_hours=settings.REVIEW_CLAIM_EXPIRY_HOURS)
                if version.reviewer_id and version.state == State.IN_REVIEW
                else None,
                "late": is_late(
                    version.submitted_at, now=timezone.now(), sla_working_days=settings.REVIEW_SLA_WORKING_DAYS
                ),
                "sla_days": settings.REVIEW_SLA_WORKING_DAYS,
                "descriptor_table": side_by_side_diff(
                    review.live.descriptor if review.live else None,
                    version.descriptor,
                    old_label=f"live {review.live.number}" if review.live else "nothing live",
                    new_label=f"this version {version.number}",
                )
                if version.descriptor is not None or (review.live and review.live.descriptor is not None)
                else None,
                "manifest_table": side_by_side_diff(
                    manifest_of(review.live),
                    manifest_of(version),
                    old_label=f"live {review.live.number}" if review.live else "nothing live",
                    new_label=f"this version {version.number}",
                ),
                "assignable": _assignable_reviewers(version) if is_review_lead(request.user) else [],
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

    # --- the workspace's URLs ---------------------------------------------------

    def get_urls(self) -> list:
        prefix = f"{self.opts.app_label}_{self.opts.model_name}"
        wrap = self.admin_site.admin_view
        return [
            path("metrics/", wrap(self.metrics_view), name=f"{prefix}_metrics"),
            # "Claim": starts the review (or takes over a lapsed claim).
            path("<int:object_id>/start-review/", wrap(self.start_review_view), name=f"{prefix}_start_review"),
            path("<int:object_id>/approve/", wrap(self.approve_view), name=f"{prefix}_approve"),
            path("<int:object_id>/reject/", wrap(self.reject_view), name=f"{prefix}_reject"),
            path("<int:object_id>/cancel/", wrap(self.cancel_view), name=f"{prefix}_cancel"),
            path("<int:object_id>/release/", wrap(self.release_view), name=f"{prefix}_release"),
            path("<int:object_id>/ask/", wrap(self.ask_view), name=f"{prefix}_ask"),
            path("<int:object_id>/note/", wrap(self.note_view), name=f"{prefix}_note"),
            path("<int:object_id>/assign/", wrap(self.assign_view), name=f"{prefix}_assign"),
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
                and current.state in (State.IN_REVIEW, State.APPROVED, State.REJECTED, State.NEEDS_INFORMATION)
            ):
                message += f" Reviewer: {current.reviewer.get_username()} (the page you acted on was out of date)."
        return message

    def _decide(
        self,
        request: HttpRequest,
        object_id: int,
        service: Callable[..., Any],
        success: str,
        **kwargs: Any,
    ) -> Version | None:
        version = Version.objects.select_related("listing").filter(pk=object_id).first()
        if version is None:
            self.message_user(request, "That version no longer exists.", messages.ERROR)
            return None
        try:
            service(version=version, actor=request.user, **kwargs)
        except ApplicationError as exc:
            self.message_user(request, self._refusal(version, exc), messages.ERROR)
            return None
        self.message_user(request, success.format(version=version), messages.SUCCESS)
        return version

    def _back(self, object_id: int) -> HttpResponseRedirect:
        if Version.objects.filter(pk=object_id, state__in=IN_REVIEW_QUEUE).exists():
            return HttpResponseRedirect(self._url("change", object_id))
        return HttpResponseRedirect(self._url("changelist"))

    def _post_only(self, request: HttpRequest) -> HttpResponse | None:
        self._guard(request)
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        return None

    def start_review_view(self, request: HttpRequest, object_id: int) -> HttpResponse:
        if refused := self._post_only(request):
            return refused
        self._decide(request, object_id, workspace.review_claim, "You are now reviewing {version}.")
        return self._back(object_id)

    def release_view(self, request: HttpRequest, object_id: int) -> HttpResponse:
        """Release to queue: the reviewer gives the version back for any reviewer to pick up."""
        if refused := self._post_only(request):
            return refused
        self._decide(
            request,
            object_id,
            workspace.review_release,
            "Released {version} to the queue: any reviewer may pick it up.",
            comment=request.POST.get("comment", "").strip(),
        )
        return self._back(object_id)

    def approve_view(self, request: HttpRequest, object_id: int) -> HttpResponse:
        if refused := self._post_only(request):
            return refused
        ticked = [int(pk) for pk in request.POST.getlist("checklist") if pk.isdigit()]
        self._decide(
            request,
            object_id,
            workspace.review_approve,
            "Approved {version}. The vendor is e-mailed and may publish it now.",
            ticked=ticked,
            comment=request.POST.get("comment", "").strip(),
        )
        return self._back(object_id)

    def cancel_view(self, request: HttpRequest, object_id: int) -> HttpResponse:
        if refused := self._post_only(request):
            return refused
        self._decide(
            request,
            object_id,
            lifecycle.version_cancel,
            "Canceled {version}.",
            comment=request.POST.get("comment", "").strip() or "canceled by a reviewer",
        )
        return self._back(object_id)

    def ask_view(self, request: HttpRequest, object_id: int) -> HttpResponse:
        """Ask the vendor a question: the version waits for the answer (needs information)."""
        if refused := self._post_only(request):
            return refused
        self._decide(
            request,
            object_id,
            workspace.review_ask,
            "Asked the vendor about {version}: it waits for their answer, still claimed by you.",
            body=request.POST.get("body", ""),
        )
        return self._back(object_id)

    def note_view(self, request: HttpRequest, object_id: int) -> HttpResponse:
        """A private note on the version, or (about=vendor) on its vendor: never shown to vendors."""
        if refused := self._post_only(request):
            return refused
        version = Version.objects.select_related("listing__vendor").filter(pk=object_id).first()
        if version is None:
            self.message_user(request, "That version no longer exists.", messages.ERROR)
            return HttpResponseRedirect(self._url("changelist"))
        on_vendor = request.POST.get("about") == "vendor"
        try:
            workspace.reviewer_note_add(
                actor=request.user,
                body=request.POST.get("body", ""),
                version=None if on_vendor else version,
                vendor=version.listing.vendor if on_vendor else None,
            )
        except ApplicationError as exc:
            self.message_user(request, exc.message, messages.ERROR)
        else:
            about = f"vendor {version.listing.vendor}" if on_vendor else str(version)
            self.message_user(request, f"Private note on {about} saved (vendors never see it).", messages.SUCCESS)
        return self._back(object_id)

    def assign_view(self, request: HttpRequest, object_id: int) -> HttpResponse:
        """Leads assign a version to a reviewer, or reassign it."""
        if refused := self._post_only(request):
            return refused
        if not is_review_lead(request.user):
            raise PermissionDenied
        value = request.POST.get("reviewer", "")
        reviewer = get_user_model().objects.filter(pk=int(value)).first() if value.isdigit() else None
        self._decide(
            request,
            object_id,
            workspace.review_assign,
            "Assigned {version} to " + (reviewer.get_username() if reviewer else "?") + ".",
            reviewer=reviewer,
        )
        return self._back(object_id)

    def metrics_view(self, request: HttpRequest) -> HttpResponse:
        """Reviewer metrics for leads: decisions per reviewer per week, time to decision, oldest waiting."""
        self._guard(request)
        if not is_review_lead(request.user):
            raise PermissionDenied
        metrics = review_metrics(weeks=8)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": "Reviewer metrics",
            "metrics": metrics,
            "now": timezone.now(),
        }
        return render(request, "admin/reviews/metrics.html", context)

    def reject_view(self, request: HttpRequest, object_id: int) -> HttpResponse:
        self._guard(request)
        version = Version.objects.select_related("listing", "listing__vendor", "reviewer").filter(pk=object_id).first()
        if version is None:
            self.message_user(request, "That version no longer exists.", messages.ERROR)
            return HttpResponseRedirect(self._url("changelist"))
        offered = review_transitions_offered(
            version=version, user=request.user, last_activity=claim_last_activity(version_id=version.pk)
        )
        if request.method != "POST" and not offered.reject:
            # No form for a rejection that would be refused (the POST still goes to the service).
            refusal = offered.refusal or f"Cannot reject {version}: it is {version.get_state_display().lower()}."
            self.message_user(request, refusal, messages.ERROR)
            return self._back(object_id)
        form = RejectForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                workspace.review_reject(version=version, actor=request.user, comment=form.cleaned_data["comment"])
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

    # --- bulk actions (each version through the same service; no bulk approve) ----------

    def _bulk(
        self, request: HttpRequest, queryset: QuerySet, service: Callable[..., Any], done: str, **kwargs: Any
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

    @admin.action(description="Claim the selected versions (start their review)", permissions=["review"])
    def start_review_selected(self, request: HttpRequest, queryset: QuerySet) -> None:
        self._bulk(request, queryset, workspace.review_claim, "You are now reviewing")

    @admin.action(description="Release the selected versions to the queue", permissions=["review"])
    def release_selected(self, request: HttpRequest, queryset: QuerySet) -> None:
        self._bulk(request, queryset, workspace.review_release, "Released to the queue")

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
                workspace.review_reject,
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


def when(moment: Any) -> str:
    """The admin's one date format (DATETIME_FORMAT, config/formats), in the current time zone."""
    if moment is None:
        return "-"
    return date_format(timezone.localtime(moment), "DATETIME_FORMAT")


def _assignable_reviewers(version: Version) -> list[Any]:
    """Reviewers a lead may assign this version to: active staff reviewers outside its vendor."""
    users = (
        get_user_model()
        .objects.filter(is_active=True, is_staff=True)
        .exclude(vendor_memberships__vendor_id=version.listing.vendor_id)
        .order_by("username")
        .distinct()
    )
    return [user for user in users if is_reviewer(user)]
