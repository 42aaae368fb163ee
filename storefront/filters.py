"""The catalogue's filters, shared by the pages and the API (one rule set: django-filter).

Search ranks by relevance on PostgreSQL (full-text search over the listings'
search document: name, vendor, summary, description; every word also matches
as a prefix, so "time" finds "Timesheets"); on SQLite each word must appear in
one of those fields, case-insensitively. Same page, same parameters.
"""

from __future__ import annotations

import re

import django_filters
from django.contrib.postgres.search import SearchQuery, SearchRank
from django.db import connection
from django.db.models import Exists, F, OuterRef, Q, QuerySet

from marketplace.models import Category, HostProduct, Listing
from marketplace.schemes import SCHEME_CHOICES

SORT_CHOICES = [
    ("relevance", "Relevance"),
    ("name", "Name"),
    ("newest", "Newest"),
    ("installs", "Most installed"),
]
MAX_SEARCH_WORDS = 8
_WORD = re.compile(r"\w+", re.UNICODE)


def search_words(text: str) -> list[str]:
    """The words of a search box (punctuation and tsquery operators dropped), at most 8."""
    return _WORD.findall(text or "")[:MAX_SEARCH_WORDS]


class CatalogueFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(label="Search", method="filter_search", max_length=200)
    product = django_filters.ModelChoiceFilter(
        label="Host product",
        queryset=HostProduct.objects.all(),
        to_field_name="key",
        method="filter_product",
        empty_label="Any product",
    )
    category = django_filters.ModelChoiceFilter(
        label="Category",
        queryset=Category.objects.all(),
        to_field_name="key",
        method="filter_category",
        empty_label="Any category",
    )
    pricing = django_filters.ChoiceFilter(label="Price", choices=Listing.Pricing.choices, empty_label="Free and paid")
    scheme = django_filters.ChoiceFilter(label="Numbering scheme", choices=SCHEME_CHOICES, empty_label="Any scheme")
    sort = django_filters.ChoiceFilter(label="Sort by", choices=SORT_CHOICES, method="filter_sort", empty_label=None)

    class Meta:
        model = Listing
        fields = ["q", "product", "category", "pricing", "scheme", "sort"]

    def filter_search(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        words = search_words(value)
        if not words:
            return queryset
        if connection.vendor == "postgresql":
            query = SearchQuery(" & ".join(f"{w}:*" for w in words), search_type="raw", config="english")
            return queryset.filter(search_vector=query).annotate(rank=SearchRank(F("search_vector"), query))
        for word in words:
            queryset = queryset.filter(
                Q(name__icontains=word)
                | Q(summary__icontains=word)
                | Q(description__icontains=word)
                | Q(vendor__name__icontains=word)
            )
        return queryset

    def filter_product(self, queryset: QuerySet, name: str, value: HostProduct) -> QuerySet:
        through = Listing.host_products.through
        return queryset.filter(Exists(through.objects.filter(listing_id=OuterRef("pk"), hostproduct_id=value.pk)))

    def filter_category(self, queryset: QuerySet, name: str, value: Category) -> QuerySet:
        through = Listing.categories.through
        return queryset.filter(Exists(through.objects.filter(listing_id=OuterRef("pk"), category_id=value.pk)))

    def filter_sort(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        return queryset  # applied last, in `sorted_results`, once the search has annotated its rank

    def sorted_results(self) -> QuerySet:
        qs = self.qs
        sort = self.form.cleaned_data.get("sort") or ("relevance" if self.form.cleaned_data.get("q") else "name")
        if sort == "relevance" and "rank" in qs.query.annotations:
            return qs.order_by("-rank", "name", "pk")
        if sort == "newest":
            return qs.order_by(F("released_at").desc(nulls_last=True), "name", "pk")
        if sort == "installs":
            return qs.order_by("-active_installs", "name", "pk")
        return qs.order_by("name", "pk")
