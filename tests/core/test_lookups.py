"""core.lookups: `field__any=[...]` finds what `field__in` finds (one array parameter on PostgreSQL)."""

from __future__ import annotations

import pytest
from django.db import connection

from tests.factories import SiteFactory
from upgrades.models import Site, SiteAdmin

pytestmark = pytest.mark.django_db


def test_any_finds_what_in_finds_on_keys_relations_and_text():
    sites = [SiteFactory(name=f"Any {n}") for n in range(4)]
    for site in sites:
        SiteAdmin.objects.create(site=site, email=f"admin{site.pk}@example.com")
    wanted = [sites[0].pk, sites[2].pk, 10**12]  # an id beyond any row, and beyond 32 bits
    assert set(Site.objects.filter(pk__any=wanted).values_list("pk", flat=True)) == {sites[0].pk, sites[2].pk}
    assert set(SiteAdmin.objects.filter(site_id__any=wanted).values_list("site_id", flat=True)) == set(wanted[:2])
    assert set(SiteAdmin.objects.filter(site__any=wanted).values_list("site_id", flat=True)) == set(wanted[:2])
    assert list(Site.objects.filter(name__any=["Any 1", "nobody"]).values_list("pk", flat=True)) == [sites[1].pk]
    assert Site.objects.filter(pk__any=[]).count() == 0
    assert Site.objects.exclude(pk__any=wanted).filter(name__startswith="Any ").count() == 2
    assert Site.objects.filter(pk__any=wanted).update(name="Found") == 2


def test_any_is_one_array_parameter_on_postgresql():
    sql = str(Site.objects.filter(pk__any=[1, 2, 3]).query)
    if connection.vendor == "postgresql":
        assert "= ANY(" in sql and "IN (" not in sql
    else:
        assert "IN (1, 2, 3)" in sql


def test_any_refuses_a_single_value():
    with pytest.raises(TypeError):
        Site.objects.filter(pk__any=3)
