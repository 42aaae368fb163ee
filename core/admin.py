"""Admin pieces every app shares, and the portal's own tables."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from core.models import AuditEvent, WorkerHeartbeat


class ReadOnlyAdminMixin:
    """Staff may look, never write: the row changes only through services (and their audit rows)."""

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(WorkerHeartbeat)
class WorkerHeartbeatAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["name", "last_seen", "hostname"]


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Every state change of every object, for reviewers: filter by action or kind of object."""

    list_display = ["at", "actor_label", "action", "object_type", "object_id", "object_repr", "from_state", "to_state"]
    list_filter = ["action", "object_type"]
    search_fields = ["actor_label", "action", "object_repr"]
    date_hierarchy = "at"
    list_select_related = ["actor"]
    fields = [
        "at",
        "actor",
        "actor_label",
        "action",
        "object_type",
        "object_id",
        "object_repr",
        "from_state",
        "to_state",
        "details",
    ]
    show_full_result_count = False  # the table grows with every change: no COUNT(*) per page
