"""The review checklist (review leads edit it; every reviewer reads it) and the decision e-mails."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from core.admin import ReadOnlyAdminMixin
from reviews.models import ChecklistItem, DecisionEmail, ReviewDecision, ReviewerNote, ReviewMessage


@admin.register(ChecklistItem)
class ChecklistItemAdmin(admin.ModelAdmin):
    """Leads (the `Review leads` group has the add/change/delete permissions) keep the checklist.

    Items are retired (inactive), not deleted, once they were ticked: the decisions keep the
    text as it read when it was ticked either way.
    """

    list_display = ["text", "scheme_label", "position", "active"]
    list_editable = ["position", "active"]
    list_filter = ["scheme", "active"]
    search_fields = ["text"]
    fields = ["text", "scheme", "position", "active"]

    @admin.display(description="scheme", ordering="scheme")
    def scheme_label(self, obj: ChecklistItem) -> str:
        return obj.get_scheme_display() if obj.scheme else "Every scheme"


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


class _ReviewRecordAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """The workspace's records, for the superuser to look up: they change only through the services."""

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        return [f.name for f in self.model._meta.fields]


@admin.register(ReviewMessage)
class ReviewMessageAdmin(_ReviewRecordAdmin):
    list_display = ["version", "kind", "author", "created_at", "emailed_at"]
    list_filter = ["kind"]
    list_select_related = ["version__listing", "author"]


@admin.register(ReviewerNote)
class ReviewerNoteAdmin(_ReviewRecordAdmin):
    list_display = ["__str__", "author", "created_at"]
    list_select_related = ["author"]


@admin.register(ReviewDecision)
class ReviewDecisionAdmin(_ReviewRecordAdmin):
    list_display = ["transition"]
    list_select_related = ["transition__version__listing"]
