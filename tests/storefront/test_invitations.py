"""Private listings open to a site by a vendor's invitation, redeemed by the site's admin."""

from __future__ import annotations

import pytest
from django.urls import reverse

from core.models import AuditEvent
from marketplace import services as catalogue
from tests.factories import MembershipFactory, UserFactory
from tests.storefront.world import publish, store_listing

pytestmark = pytest.mark.django_db


@pytest.fixture
def private(store):
    listing = store_listing("Private Connector", products=[store.jira], visibility="private")
    publish(listing)
    owner = MembershipFactory(vendor=listing.vendor, role="owner").user
    return listing, owner


def test_the_vendor_makes_a_link_and_a_site_admin_opens_the_app_to_one_site(client, store, private):
    listing, owner = private
    client.force_login(owner)
    page = client.post(reverse("portal:listing-invitation-create", args=[listing.key]))
    code = page.context["code"]
    assert page.status_code == 200 and f"/apps/invitation/?code={code}" in page.context["link"]
    client.force_login(store.admin)
    form = client.get(page.context["link"])
    assert form.status_code == 200 and code in form.content.decode()
    assert not listing.allowed_sites.exists()  # opening the link changed nothing
    response = client.post(reverse("storefront:invitation"), {"code": code, "site": store.jira_site.pk})
    assert response.status_code == 302 and response["Location"] == "/apps/private-connector/"
    assert list(listing.allowed_sites.all()) == [store.jira_site]
    assert client.get("/apps/private-connector/").status_code == 200
    assert AuditEvent.objects.filter(action="listing_invitation.redeem", to_state="redeemed").count() == 1
    again = client.post(reverse("storefront:invitation"), {"code": code, "site": store.confluence_site.pk})
    assert again.status_code == 400 and "unknown, already used or expired" in again.content.decode()
    assert list(listing.allowed_sites.all()) == [store.jira_site]


@pytest.mark.parametrize(
    ("code", "site_attr", "status", "needle"),
    [
        ("guess-guess-guess", "jira_site", 400, "unknown, already used or expired"),
        ("", "jira_site", 400, "unknown, already used or expired"),
        (None, "other_site", 404, "No such site"),
        (None, None, 400, "Site: choose one of your sites."),
    ],
)
def test_bad_redemptions_change_nothing(client, store, private, code, site_attr, status, needle):
    listing, owner = private
    _, raw = catalogue.listing_invitation_create(listing=listing, actor=owner)
    client.force_login(store.admin)
    data = {"code": raw if code is None else code}
    if site_attr:
        data["site"] = getattr(store, site_attr).pk
    response = client.post(reverse("storefront:invitation"), data)
    assert response.status_code == status
    assert needle in response.content.decode()
    assert not listing.allowed_sites.exists()


def test_public_listings_need_no_invitation_and_strangers_make_none(store, private):
    from core.errors import ApplicationError, NotFound

    listing, _owner = private
    public_owner = MembershipFactory(vendor=store.timesheets.vendor).user
    with pytest.raises(ApplicationError, match="is public"):
        catalogue.listing_invitation_create(listing=store.timesheets, actor=public_owner)
    with pytest.raises(NotFound):
        catalogue.listing_invitation_create(listing=listing, actor=UserFactory())


def test_the_vendor_sees_open_invitations_and_revokes_one_whose_code_then_stops_working(client, store, private):
    listing, owner = private
    kept, _ = catalogue.listing_invitation_create(listing=listing, actor=owner)
    revoked, raw = catalogue.listing_invitation_create(listing=listing, actor=owner)
    client.force_login(owner)
    page = client.get(reverse("portal:listing-detail", args=[listing.key])).content.decode()
    assert f"{kept.prefix}…" in page and f"{revoked.prefix}…" in page and "Revoke" in page
    response = client.post(reverse("portal:listing-invitation-revoke", args=[listing.key, revoked.pk]), follow=True)
    html = response.content.decode()
    assert "revoked: its code no longer opens" in html and f"{revoked.prefix}…" not in html.split("Open invitations")[1]
    assert (
        AuditEvent.objects.filter(action="listing_invitation.revoke", to_state="revoked", object_id=revoked.pk).count()
        == 1
    )
    client.force_login(store.admin)
    refused = client.post(reverse("storefront:invitation"), {"code": raw, "site": store.jira_site.pk})
    assert refused.status_code == 400 and "was revoked by the vendor" in refused.content.decode()
    assert not listing.allowed_sites.exists()


def test_revoking_a_foreign_or_redeemed_invitation_is_refused_and_changes_nothing(client, store, private):
    listing, owner = private
    other = store_listing("Other Private", products=[store.jira], visibility="private")
    other_owner = MembershipFactory(vendor=other.vendor, role="owner").user
    foreign, _ = catalogue.listing_invitation_create(listing=other, actor=other_owner)
    used, raw = catalogue.listing_invitation_create(listing=listing, actor=owner)
    client.force_login(store.admin)
    client.post(reverse("storefront:invitation"), {"code": raw, "site": store.jira_site.pk})
    client.force_login(owner)
    audits = AuditEvent.objects.count()
    # another vendor's invitation named through this listing: a message, nothing revoked
    response = client.post(reverse("portal:listing-invitation-revoke", args=[listing.key, foreign.pk]), follow=True)
    assert "no such invitation" in response.content.decode()
    response = client.post(reverse("portal:listing-invitation-revoke", args=[listing.key, used.pk]), follow=True)
    assert "already redeemed" in response.content.decode()
    # and another vendor's listing is not this vendor's to touch at all
    assert client.post(reverse("portal:listing-invitation-revoke", args=[other.key, foreign.pk])).status_code == 404
    foreign.refresh_from_db()
    used.refresh_from_db()
    assert foreign.revoked_at is None and used.revoked_at is None and AuditEvent.objects.count() == audits
