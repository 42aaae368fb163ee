"""Reads on versions."""

from __future__ import annotations

from typing import Any

import django_filters
from django.db.models import QuerySet

from marketplace.errors import ApplicationError, NotFound
from versions.models import State, Version, VersionTransition
from versions.numbers import VersionNumberError, parse_version


class VersionFilter(django_filters.FilterSet):
    listing = django_filters.CharFilter(field_name="listing__key", label="Listing key")
    state = django_filters.MultipleChoiceFilter(choices=State.choices)
    channel = django_filters.CharFilter()
    source = django_filters.CharFilter()
    number_min = django_filters.CharFilter(method="filter_number_min", label="Lowest number (inclusive, by precedence)")
    number_max = django_filters.CharFilter(
        method="filter_number_max", label="Highest number (inclusive, by precedence)"
    )

    class Meta:
        model = Version
        fields = ["listing", "state", "channel", "source"]

    @staticmethod
    def _key(name: str, value: str) -> bytes:
        try:
            return parse_version(value).sort_key
        except VersionNumberError as exc:
            raise ApplicationError(f"{name} {value!r} is not a version number: {exc.message}.", field=name) from exc

    def filter_number_min(self, qs: QuerySet, name: str, value: str) -> QuerySet:
        return qs.filter(sort_key__gte=self._key(name, value))

    def filter_number_max(self, qs: QuerySet, name: str, value: str) -> QuerySet:
        # Every key of `value` with a longer pre-release still sorts below; release keys end in 0xff.
        return qs.filter(sort_key__lte=self._key(name, value))


def version_list(*, user: Any, filters: dict[str, Any] | None = None) -> QuerySet[Version]:
    """Versions of the user's vendors, ordered by listing and precedence."""
    qs = (
        Version.objects.filter(listing__vendor__memberships__user=user)
        .select_related("listing", "listing__vendor")
        .order_by("listing__key", "-sort_key")
    )
    if filters:
        fs = VersionFilter(filters, queryset=qs)
        if not fs.is_valid():
            field, errors = next(iter(fs.errors.items()))
            raise ApplicationError(f"{field}: {' '.join(errors)}", field=field)
        qs = fs.qs
    return qs


def version_get_for_user(*, user: Any, pk: int) -> Version:
    version = version_list(user=user).filter(pk=pk).first()
    if version is None:
        raise NotFound("No such version among your vendor's listings.")
    return version


def version_history(*, version: Version) -> QuerySet[VersionTransition]:
    return version.transitions.select_related("actor").order_by("-at", "-id")


def versions_of_listing(*, listing_id: int) -> QuerySet[Version]:
    return Version.objects.filter(listing_id=listing_id).order_by("-sort_key")


def live_versions(*, listing_id: int) -> QuerySet[Version]:
    """One published version per channel."""
    return Version.objects.filter(listing_id=listing_id, state=State.PUBLISHED).order_by("channel")


def review_comments(*, version: Version) -> list[VersionTransition]:
    return list(version.transitions.filter(name="reject").select_related("actor").order_by("-at"))
