"""The audit log itself: writing rows (one, or many with one insert), reading histories, the admin."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import AnonymousUser
from django.test import Client

from core.models import AuditEvent
from core.selectors import audit_by_actor, audit_for_objects, audit_history
from core.services import audit_event, audit_record, audit_record_many
from tests.factories import ListingFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_a_row_names_the_actor_the_object_and_the_states():
    user = UserFactory(username="ada")
    listing = ListingFactory(key="my-app")
    event = audit_record(
        actor=user,
        action="listing.archive",
        obj=listing,
        object_repr=listing.key,
        from_state="active",
        to_state="archived",
        details={"reason": "end of life"},
    )
    event.refresh_from_db()
    assert event.actor == user and event.actor_label == "ada"
    assert (event.object_type, event.object_id, event.object_repr) == ("marketplace.listing", listing.pk, "my-app")
    assert (event.from_state, event.to_state) == ("active", "archived")
    assert event.details == {"reason": "end of life"} and event.at is not None
    assert (event.verb, event.noun, event.comment) == ("archived", "listing", "end of life")


def test_the_system_and_an_e_mailed_admin_are_named_without_a_user():
    listing = ListingFactory()
    system = audit_record(actor=None, action="listing.archive", obj=listing)
    anonymous = audit_record(actor=AnonymousUser(), actor_label="boss@example.com", action="x.y", obj=listing)
    assert system.actor is None and system.actor_label == "system" and system.actor_words == "The portal"
    assert anonymous.actor is None and anonymous.actor_words == "boss@example.com"


def test_a_row_must_name_its_object():
    with pytest.raises(ValueError, match="names its object"):
        audit_event(actor=None, action="listing.archive")


def test_many_rows_cost_one_insert_whatever_their_number(django_assert_num_queries):
    # 90 rows fit in one statement even on SQLite (999 parameters); PostgreSQL takes 500 a statement.
    for count in (3, 90):
        events = [
            audit_event(actor=None, action="upgrade.apply", object_type="upgrades.upgrade", object_id=i)
            for i in range(count)
        ]
        with django_assert_num_queries(1):
            audit_record_many(events)
    with django_assert_num_queries(0):
        assert audit_record_many([]) == []
    assert AuditEvent.objects.filter(action="upgrade.apply").count() == 93


def test_histories_read_only_the_objects_asked_for():
    mine, other = ListingFactory(), ListingFactory()
    user = UserFactory()
    audit_record(actor=user, action="listing.archive", obj=mine)
    audit_record(actor=None, action="listing.unarchive", obj=mine)
    audit_record(actor=user, action="listing.archive", obj=other)
    audit_record(actor=None, action="version.publish", object_type="versions.version", object_id=mine.pk)
    assert [e.action for e in audit_history(mine)] == ["listing.unarchive", "listing.archive"]
    both = audit_for_objects({"marketplace.listing": [mine.pk], "versions.version": [mine.pk]})
    assert {e.action for e in both} == {"listing.archive", "listing.unarchive", "version.publish"}
    assert audit_for_objects({}).count() == 0
    assert audit_by_actor(user).count() == 2


def test_reviewers_see_every_row_in_the_admin_and_change_none():
    staff = UserFactory(is_staff=True, is_superuser=True)
    listing = ListingFactory(key="seen-app")
    event = audit_record(actor=staff, action="listing.archive", obj=listing, object_repr="seen-app")
    client = Client()
    client.force_login(staff)
    page = client.get("/admin/core/auditevent/", {"action": "listing.archive", "q": "seen-app"})
    assert page.status_code == 200 and "seen-app" in page.content.decode()
    assert client.get("/admin/core/auditevent/", {"object_type": "marketplace.listing"}).status_code == 200
    assert client.get(f"/admin/core/auditevent/{event.pk}/change/").status_code == 200
    assert client.get("/admin/core/auditevent/add/").status_code == 403
    client.post(f"/admin/core/auditevent/{event.pk}/change/", {"action": "listing.unarchive"})
    client.post(f"/admin/core/auditevent/{event.pk}/delete/", {"post": "yes"})
    event.refresh_from_db()
    assert event.action == "listing.archive"
