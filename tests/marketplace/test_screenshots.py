"""Vendors remove and reorder a listing's screenshots (services, and the edit page's buttons)."""

from __future__ import annotations

import pytest
from django.urls import reverse

from core.errors import ApplicationError
from core.models import AuditEvent
from marketplace import services
from marketplace.models import ListingScreenshot
from tests.factories import ListingFactory, MembershipFactory
from tests.marketplace.test_images import png

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


def shots(listing, vendor_user, n=3):
    return [
        services.listing_add_screenshot(
            listing=listing, actor=vendor_user, upload=png(size=(640, 400), name="s.png"), caption=f"shot {i}"
        )
        for i in range(n)
    ]


def order(listing):
    return list(listing.screenshots.order_by("position", "pk").values_list("caption", "position"))


def test_removing_a_screenshot_deletes_its_file_closes_the_gap_and_is_audited(
    listing, vendor_user, media, django_capture_on_commit_callbacks
):
    _a, b, _c = shots(listing, vendor_user)
    audits = AuditEvent.objects.count()
    assert (media / b.image.name).exists()
    with django_capture_on_commit_callbacks(execute=True):
        services.listing_screenshot_remove(listing=listing, actor=vendor_user, screenshot_id=b.pk)
    assert not (media / b.image.name).exists()
    assert order(listing) == [("shot 0", 0), ("shot 2", 1)]
    assert AuditEvent.objects.count() == audits + 1
    event = AuditEvent.objects.latest("pk")
    assert event.details["changes"]["screenshots"]["removed"] == b.image.name


def test_reordering_sets_positions_and_writes_one_audit_row(listing, vendor_user):
    a, b, c = shots(listing, vendor_user)
    audits = AuditEvent.objects.count()
    services.listing_screenshots_reorder(listing=listing, actor=vendor_user, order=[c.pk, a.pk, b.pk])
    assert order(listing) == [("shot 2", 0), ("shot 0", 1), ("shot 1", 2)]
    assert AuditEvent.objects.count() == audits + 1
    assert AuditEvent.objects.latest("pk").details["changes"]["screenshots"]["order"]["to"] == [c.pk, a.pk, b.pk]


@pytest.mark.parametrize("bad", ["missing-one", "duplicate", "foreign", "garbage"])
def test_a_bad_order_is_refused_and_changes_nothing(listing, vendor_user, bad):
    a, b, _c = shots(listing, vendor_user)
    foreign = ListingFactory()
    other = ListingScreenshot.objects.create(listing=foreign, image="x.png", position=0)
    wanted = {
        "missing-one": [a.pk, b.pk],
        "duplicate": [a.pk, a.pk, b.pk],
        "foreign": [a.pk, b.pk, other.pk],
        "garbage": [a.pk, b.pk, "c"],
    }[bad]
    audits = AuditEvent.objects.count()
    with pytest.raises(ApplicationError, match="exactly once") as caught:
        services.listing_screenshots_reorder(listing=listing, actor=vendor_user, order=wanted)
    assert caught.value.field == "screenshots"
    assert order(listing) == [("shot 0", 0), ("shot 1", 1), ("shot 2", 2)]
    assert AuditEvent.objects.count() == audits


def test_another_listings_screenshot_cannot_be_removed_through_this_one(listing, vendor_user):
    shots(listing, vendor_user, n=1)
    foreign = ListingScreenshot.objects.create(listing=ListingFactory(), image="x.png", position=0)
    with pytest.raises(ApplicationError, match="no such screenshot") as caught:
        services.listing_screenshot_remove(listing=listing, actor=vendor_user, screenshot_id=foreign.pk)
    assert caught.value.field == "screenshot"
    assert ListingScreenshot.objects.filter(pk=foreign.pk).exists() and listing.screenshots.count() == 1


def test_the_edit_page_lists_screenshots_and_its_buttons_move_and_remove_them(client, listing, vendor_user):
    a, _b, c = shots(listing, vendor_user)
    client.force_login(vendor_user)
    page = client.get(reverse("portal:listing-edit", args=[listing.key]))
    html = page.content.decode()
    assert page.status_code == 200 and "Move up" in html and "Remove" in html and "shot 2" in html
    url = reverse("portal:listing-screenshot-change", args=[listing.key])
    response = client.post(url, {"screenshot": c.pk, "action": "up"})
    assert response.status_code == 302 and response["Location"] == reverse("portal:listing-edit", args=[listing.key])
    assert order(listing) == [("shot 0", 0), ("shot 2", 1), ("shot 1", 2)]
    client.post(url, {"screenshot": a.pk, "action": "up"})  # already first: nothing moves
    assert order(listing) == [("shot 0", 0), ("shot 2", 1), ("shot 1", 2)]
    client.post(url, {"screenshot": a.pk, "action": "remove"})
    assert order(listing) == [("shot 2", 0), ("shot 1", 1)]


def test_the_page_refuses_a_foreign_screenshot_with_a_message_and_another_vendor_gets_404(client, listing, vendor_user):
    shots(listing, vendor_user, n=1)
    foreign = ListingScreenshot.objects.create(listing=ListingFactory(), image="x.png", position=0)
    client.force_login(vendor_user)
    url = reverse("portal:listing-screenshot-change", args=[listing.key])
    response = client.post(url, {"screenshot": foreign.pk, "action": "remove"}, follow=True)
    assert "no such screenshot" in response.content.decode()
    assert ListingScreenshot.objects.filter(pk=foreign.pk).exists()
    stranger = MembershipFactory(role="owner").user
    client.force_login(stranger)
    mine = listing.screenshots.get()
    assert client.post(url, {"screenshot": mine.pk, "action": "remove"}).status_code == 404
    assert listing.screenshots.filter(pk=mine.pk).exists()
