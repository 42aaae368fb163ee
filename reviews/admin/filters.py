"""The review queue's filters: who holds the claim, what the customers will be asked, how long it waited."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils import timezone

from marketplace.selectors import scope_catalogue
from reviews.diffs import review_diff
from reviews.policies import claim_is_active, is_late
from reviews.selectors import attach_live_versions
from versions.models import IN_REVIEW_QUEUE, State
from versions.policies import free_to_paid


class WaitingStateFilter(admin.SimpleListFilter):
    title = "state"
    parameter_name = "state"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [(s.value, s.label) for s in IN_REVIEW_QUEUE]

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        return queryset.filter(state=self.value()) if self.value() else queryset


class ClaimFilter(admin.SimpleListFilter):
    """Claimed / unclaimed / mine. A lapsed claim counts as unclaimed: anyone may take it."""

    title = "claim"
    parameter_name = "claim"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [("unclaimed", "Unclaimed"), ("mine", "Mine"), ("claimed", "Claimed by others")]

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        value = self.value()
        if not value:
            return queryset
        now = timezone.now()
        hours = settings.REVIEW_CLAIM_EXPIRY_HOURS

        def held(version: Any) -> bool:
            if version.reviewer_id is None:
                return False
            if version.state == State.NEEDS_INFORMATION:
                return True
            return claim_is_active(version.last_activity, now=now, expiry_hours=hours)

        rows = list(queryset)
        if value == "mine":
            ids = [v.pk for v in rows if v.reviewer_id == request.user.pk]
        elif value == "unclaimed":
            ids = [v.pk for v in rows if not held(v)]
        elif value == "claimed":
            ids = [v.pk for v in rows if held(v) and v.reviewer_id != request.user.pk]
        else:
            return queryset
        return queryset.filter(pk__in=ids)


class ConsentFilter(admin.SimpleListFilter):
    """What installed customers will be asked: consent needed at all, or a free app turning paid."""

    title = "customers"
    parameter_name = "consent"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [("needed", "Asked to consent"), ("free_to_paid", "Free → paid"), ("silent", "Upgraded silently")]

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        value = self.value()
        if not value:
            return queryset
        # The queue is short (versions waiting for a person): the rule runs in Python, once per row,
        # with the same review_diff the version page shows.
        rows = list(queryset)
        attach_live_versions(rows)
        catalogue = scope_catalogue()
        ids = []
        for version in rows:
            live = version.live
            same_channel = live is not None and live.channel == version.channel
            diff = review_diff(
                previous_scopes=live.scopes if live else None,
                scopes=version.scopes,
                previous_pricing=live.pricing if live else None,
                pricing=version.pricing,
                catalogue=catalogue,
                consent_applies=same_channel,
                scheme=version.listing.scheme,
                previous_number=live.number if live else None,
                number=version.number,
            )
            turns_paid = live is not None and free_to_paid(live.pricing, version.pricing)
            if (
                (value == "needed" and diff.needs_consent)
                or (value == "free_to_paid" and turns_paid)
                or (value == "silent" and not diff.needs_consent)
            ):
                ids.append(version.pk)
        return queryset.filter(pk__in=ids)


class WaitingTimeFilter(admin.SimpleListFilter):
    title = "waiting time"
    parameter_name = "waited"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [
            ("late", f"Late (over {settings.REVIEW_SLA_WORKING_DAYS} working days)"),
            ("day", "Over a day"),
            ("fresh", "Under a day"),
        ]

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        value = self.value()
        now = timezone.now()
        if value == "day":
            return queryset.filter(submitted_at__lt=now - timezone.timedelta(days=1))
        if value == "fresh":
            return queryset.filter(submitted_at__gte=now - timezone.timedelta(days=1))
        if value == "late":
            sla = settings.REVIEW_SLA_WORKING_DAYS
            ids = [
                pk
                for pk, submitted_at in queryset.values_list("pk", "submitted_at")
                if is_late(submitted_at, now=now, sla_working_days=sla)
            ]
            return queryset.filter(pk__in=ids)
        return queryset
