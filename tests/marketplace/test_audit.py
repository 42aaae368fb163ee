"""Listings write an audit row when created, edited, archived and unarchived; the listing admin
edits only through the service and can't change the scheme."""

from __future__ import annotations

import pytest
from django.test import Client

from core.models import AuditEvent
from marketplace import services
from tests.factories import ListingFactory, MembershipFactory, UserFactory

pytestmark = pytest.mark.django_db


def rows(listing, action):
    return list(AuditEvent.objects.filter(object_type="marketplace.listing", object_id=listing.pk, action=action))


@pytest.fixture
def owner():
    return MembershipFactory(role="owner").user


def test_create_edit_archive_unarchive_each_write_one_row(owner):
    vendor = owner.vendor_memberships.get().vendor
    listing = services.listing_create(vendor=vendor, actor=owner, key="my-app", name="My app")
    (created,) = rows(listing, "listing.create")
    assert (created.actor, created.to_state, created.details["scheme"]) == (owner, "active", "manual")

    services.listing_update(listing=listing, actor=owner, name="My app", scheme="ocp")
    (edited,) = rows(listing, "listing.update")
    assert edited.actor == owner and edited.details["changes"] == {"scheme": {"from": "manual", "to": "ocp"}}
    services.listing_update(listing=listing, actor=owner, name="My app")  # no change: no row
    assert len(rows(listing, "listing.update")) == 1

    services.listing_archive(listing=listing, actor=owner)
    services.listing_archive(listing=listing, actor=owner)  # archived already: nothing changes
    (archived,) = rows(listing, "listing.archive")
    assert (archived.actor, archived.from_state, archived.to_state) == (owner, "active", "archived")
    assert listing.archived_at is not None
    services.listing_unarchive(listing=listing, actor=owner)
    (unarchived,) = rows(listing, "listing.unarchive")
    assert (unarchived.from_state, unarchived.to_state) == ("archived", "active")
    assert listing.archived_at is None


def _form(listing, **changes):
    data = {
        "name": listing.name,
        "summary": listing.summary,
        "pricing": listing.pricing,
        "visibility": listing.visibility,
        "descriptor_url": listing.descriptor_url,
    }
    data.update(changes)
    return data


def test_the_listing_admin_cannot_change_the_scheme_and_edits_through_the_service():
    staff = UserFactory(is_staff=True, is_superuser=True)
    listing = ListingFactory(scheme="manual", name="Old name")
    client = Client()
    client.force_login(staff)
    assert client.get(f"/admin/marketplace/listing/{listing.pk}/change/").status_code == 200
    assert client.get("/admin/marketplace/listing/add/").status_code == 403
    response = client.post(
        f"/admin/marketplace/listing/{listing.pk}/change/",
        _form(listing, name="New name", scheme="ocp", key="stolen", archived_at="2020-01-01 00:00"),
    )
    assert response.status_code == 302
    listing.refresh_from_db()
    assert (listing.name, listing.scheme, listing.key, listing.archived_at) == ("New name", "manual", listing.key, None)
    (edited,) = rows(listing, "listing.update")
    assert edited.actor == staff and edited.details["changes"] == {"name": {"from": "Old name", "to": "New name"}}


def test_a_refused_admin_edit_changes_nothing_and_says_why():
    staff = UserFactory(is_staff=True, is_superuser=True)
    listing = ListingFactory(name="Kept")
    client = Client()
    client.force_login(staff)
    response = client.post(
        f"/admin/marketplace/listing/{listing.pk}/change/", _form(listing, name="x" * 121), follow=True
    )
    listing.refresh_from_db()
    assert listing.name == "Kept" and not rows(listing, "listing.update")
    assert response.status_code == 200 and "at most 120 characters" in response.content.decode()
