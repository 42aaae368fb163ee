"""core.bulk.bulk_insert: rows streamed with COPY on PostgreSQL (bulk_create elsewhere) come back
with their pks and read back exactly as bulk_create would have written them."""

from __future__ import annotations

import pytest
from django.utils import timezone

from core.bulk import bulk_insert, bulk_insert_rows, bulk_insert_rows_with_pks
from core.models import AuditEvent
from core.services import audit_event, audit_record_many, audit_record_rows, audit_row
from tests.factories import SiteFactory
from upgrades.models import Site, SiteAdmin

pytestmark = pytest.mark.django_db


def test_rows_come_back_with_their_pks_and_read_back_as_written():
    product = SiteFactory().host_product
    sites = bulk_insert(
        Site(
            name=f"Site {n}",
            host_product=product,
            maintenance_windows=[{"weekday": n, "start": "01:00", "end": "02:00"}],
        )
        for n in range(3)
    )
    assert all(s.pk for s in sites) and len({s.pk for s in sites}) == 3
    stored = {s.pk: s for s in Site.objects.filter(pk__in=[s.pk for s in sites])}
    for n, site in enumerate(sites):
        assert stored[site.pk].name == f"Site {n}"
        assert stored[site.pk].maintenance_windows == [{"weekday": n, "start": "01:00", "end": "02:00"}]
        assert stored[site.pk].created_at is not None  # auto_now_add filled as by bulk_create
    admins = bulk_insert(SiteAdmin(site=site, email=f"a{n}@example.com") for n, site in enumerate(sites))
    assert sorted(SiteAdmin.objects.values_list("pk", "email")) == sorted((a.pk, a.email) for a in admins)


def test_audit_rows_keep_their_states_details_and_time():
    at = timezone.now()
    audit_record_many(
        audit_event(
            actor=None,
            action="thing.move",
            object_type="tests.thing",
            object_id=n,
            from_state="a",
            to_state="b",
            details={"n": n, "nested": {"ok": True}},
            at=at,
        )
        for n in range(5)
    )
    rows = list(AuditEvent.objects.filter(action="thing.move").order_by("object_id"))
    assert [(r.object_id, r.from_state, r.to_state, r.actor_label, r.details["n"]) for r in rows] == [
        (n, "a", "b", "system", n) for n in range(5)
    ]
    assert rows[0].details["nested"] == {"ok": True} and {r.at for r in rows} == {at}


def test_nothing_to_insert_is_no_query(django_assert_num_queries):
    with django_assert_num_queries(0):
        assert bulk_insert([]) == []


def test_rows_given_as_tuples_read_back_as_the_instances_would_and_get_the_defaults():
    at = timezone.now()
    common = {
        "actor": None,
        "action": "thing.move",
        "object_type": "upgrades.site",
        "from_state": "a",
        "to_state": "b",
        "at": at,
    }
    audit_record_many([audit_event(object_id=1, details={"n": 1, "x": [1, 2]}, object_repr="One", **common)])
    assert audit_record_rows([audit_row(object_id=2, details={"n": 2, "x": [1, 2]}, object_repr="Two", **common)]) == 1
    fields = ("actor_id", "actor_label", "action", "object_type", "from_state", "to_state", "at")
    one, two = AuditEvent.objects.filter(action="thing.move").order_by("object_id")
    assert [getattr(one, f) for f in fields] == [getattr(two, f) for f in fields]
    assert (two.object_id, two.object_repr, two.details) == (2, "Two", {"n": 2, "x": [1, 2]})
    site = SiteFactory()
    # Left out: applied_upgrades (its default) and user_id (NULL).
    assert bulk_insert_rows(SiteAdmin, ("site_id", "email"), [(site.pk, "t1@example.com"), (site.pk, "t2@example.com")])
    admins = SiteAdmin.objects.filter(site=site).order_by("email")
    default = SiteAdmin._meta.get_field("applied_upgrades").default
    assert [(a.email, a.applied_upgrades, a.user_id) for a in admins] == [
        ("t1@example.com", default, None),
        ("t2@example.com", default, None),
    ]
    assert bulk_insert_rows(SiteAdmin, ("site_id", "email"), []) == 0


def test_rows_with_pks_come_back_in_order_and_the_pks_name_the_rows():
    sites = [SiteFactory() for _ in range(3)]
    rows = [(site.pk, f"pk{n}@example.com") for n, site in enumerate(sites)]
    pks = bulk_insert_rows_with_pks(SiteAdmin, ("site_id", "email"), rows)
    assert len(set(pks)) == 3
    assert [SiteAdmin.objects.values_list("site_id", "email").get(pk=pk) for pk in pks] == rows
    assert bulk_insert_rows_with_pks(SiteAdmin, ("site_id", "email"), []) == []
