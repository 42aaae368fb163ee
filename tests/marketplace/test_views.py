"""Vendor portal pages for the dashboard and listings: every page, every refusal."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from marketplace.models import Listing
from tests.factories import (
    HostProductFactory,
    ListingFactory,
    MembershipFactory,
    SiteFactory,
    UserFactory,
    VendorFactory,
    VersionFactory,
)
from versions.models import VersionTransition

pytestmark = pytest.mark.django_db


@pytest.fixture
def owner():
    return MembershipFactory(role="owner", user=UserFactory(username="olivia")).user


@pytest.fixture
def vendor(owner):
    return owner.vendor_memberships.get().vendor


@pytest.fixture
def developer(vendor):
    return MembershipFactory(vendor=vendor, role="developer", user=UserFactory(username="dev")).user


@pytest.fixture
def other_listing():
    """A listing of vendor B, which the users above must never reach."""
    return ListingFactory(key="rival-app", name="Rival App", vendor=VendorFactory(name="Rival Inc"))


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def listing_post(**overrides):
    data = {
        "key": "time-tracker",
        "name": "Time Tracker",
        "summary": "Track time on issues.",
        "scheme": "manual",
        "pricing": "free",
        "visibility": "public",
        "descriptor_url": "",
    }
    data.update(overrides)
    return data


# --- sign in / dashboard -----------------------------------------------------------------


def test_portal_pages_require_sign_in(listing):
    client = Client()
    for url in [
        reverse("portal:dashboard"),
        reverse("portal:listing-create"),
        reverse("portal:listing-detail", args=[listing.key]),
    ]:
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("account_login"))


def test_sign_in_page_has_labels_and_csrf_and_signs_in(owner):
    client = Client(enforce_csrf_checks=True)
    page = client.get(reverse("account_login"))
    html = page.content.decode()
    assert 'name="csrfmiddlewaretoken"' in html
    assert '<label for="id_login">' in html and '<label for="id_password">' in html
    response = client.post(
        reverse("account_login"),
        {"login": "olivia", "password": "pass", "csrfmiddlewaretoken": page.cookies["csrftoken"].value},
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("portal:dashboard")


def test_sign_out_is_a_post_and_ends_the_session(owner):
    client = client_for(owner)
    response = client.post(reverse("account_logout"))
    assert response.status_code == 302
    assert client.get(reverse("portal:dashboard")).status_code == 302


def test_dashboard_shows_listings_live_versions_waiting_and_activity(owner, vendor, other_listing):
    listing = ListingFactory(vendor=vendor, key="time-tracker", name="Time Tracker")
    VersionFactory(listing=listing, number="1.0.0", state="superseded")
    live = VersionFactory(listing=listing, number="1.1.0", state="published")
    draft = VersionFactory(listing=listing, number="1.2.0", state="draft")
    rejected = VersionFactory(listing=listing, number="1.1.1", state="rejected")
    pending = VersionFactory(listing=listing, number="1.3.0", state="pending_approval")
    VersionFactory(listing=other_listing, number="9.9.9", state="draft")
    VersionTransition.objects.create(version=rejected, name="reject", from_state="in_review", to_state="rejected")

    response = client_for(owner).get(reverse("portal:dashboard"))
    html = response.content.decode()
    assert response.status_code == 200
    assert "Time Tracker" in html
    assert reverse("portal:version-detail", args=[live.pk]) in html
    waiting = [v.pk for v in response.context["waiting"]]
    assert set(waiting) == {draft.pk, rejected.pk}
    assert pending.pk not in waiting
    assert [t.version_id for t in response.context["activity"]] == [rejected.pk]
    assert "Rival App" not in html and "9.9.9" not in html


def test_dashboard_paginates_long_lists(owner, vendor):
    for i in range(25):
        ListingFactory(vendor=vendor, key=f"app-{i:02d}", name=f"App {i:02d}")
    client = client_for(owner)
    first = client.get(reverse("portal:dashboard"))
    second = client.get(reverse("portal:dashboard"), {"page": 2})
    assert len(first.context["listings"]) == 20
    assert len(second.context["listings"]) == 5
    assert "Page 1 of 2" in first.content.decode()


def test_dashboard_hides_archived_listings_unless_asked(owner, vendor):
    ListingFactory(vendor=vendor, key="old-app", name="Old App", archived_at="2026-01-01T00:00:00Z")
    client = client_for(owner)
    assert "Old App" not in client.get(reverse("portal:dashboard")).content.decode()
    assert "Old App" in client.get(reverse("portal:dashboard"), {"archived": "1"}).content.decode()


def test_dashboard_query_count_does_not_grow_with_listings(owner, vendor):
    client = client_for(owner)
    counts = []
    for batch in (1, 12):
        for _ in range(batch):
            listing = ListingFactory(vendor=vendor)
            VersionFactory(listing=listing, number="1.0.0", state="published")
            VersionFactory(listing=listing, number="1.1.0", state="draft")
        with CaptureQueriesContext(connection) as queries:
            assert client.get(reverse("portal:dashboard")).status_code == 200
        counts.append(len(queries))
    assert counts[0] == counts[1] <= 9


# --- listing create ----------------------------------------------------------------------


def test_create_listing_page_has_csrf_and_labelled_fields(owner):
    html = client_for(owner).get(reverse("portal:listing-create")).content.decode()
    assert 'name="csrfmiddlewaretoken"' in html
    for field in ["key", "name", "summary", "scheme", "pricing", "descriptor_url"]:
        assert f'<label for="id_{field}">' in html
    assert "<legend>Visibility</legend>" in html


def test_create_listing(owner, vendor):
    jira = HostProductFactory(key="jira", name="Jira")
    site = SiteFactory(host_product=jira)
    response = client_for(owner).post(
        reverse("portal:listing-create"),
        listing_post(visibility="private", allowed_sites=str(site.pk), host_products=[jira.pk], vendor=vendor.pk),
    )
    assert response.status_code == 302
    listing = Listing.objects.get(key="time-tracker")
    assert response["Location"] == reverse("portal:listing-detail", args=["time-tracker"])
    assert listing.vendor == vendor
    assert listing.visibility == "private"
    assert list(listing.allowed_sites.all()) == [site]
    assert list(listing.host_products.all()) == [jira]


def test_listing_form_names_no_customer_site_and_takes_site_numbers(owner, vendor):
    jira = HostProductFactory(key="jira", name="Jira")
    site = SiteFactory(host_product=jira, name="Someone Else's Secret Site")
    html = client_for(owner).get(reverse("portal:listing-create")).content.decode()
    assert "Someone Else" not in html
    response = client_for(owner).post(
        reverse("portal:listing-create"),
        listing_post(visibility="private", allowed_sites=f"{site.pk}, {site.pk + 1000}", vendor=vendor.pk),
    )
    assert response.status_code == 200
    # The rule lives in the service (marketplace.services._allowed_site_ids); the form shows its message.
    assert response.context["form"].errors["allowed_sites"] == [
        f"No site has the id {site.pk + 1000}: check the id with the site's admin; nothing changed."
    ]
    response = client_for(owner).post(
        reverse("portal:listing-create"), listing_post(visibility="private", allowed_sites="²", vendor=vendor.pk)
    )
    assert "is not a site id" in response.context["form"].errors["allowed_sites"][0]
    assert not Listing.objects.filter(key="time-tracker").exists()


def test_create_listing_bad_key_explains_the_rule_and_saves_nothing(owner, vendor):
    response = client_for(owner).post(
        reverse("portal:listing-create"), listing_post(key="Time_Tracker", vendor=vendor.pk)
    )
    assert response.status_code == 200
    errors = response.context["form"].errors["key"]
    assert "must start with a lower-case letter" in errors[0]
    assert 'id="id_key_error"' in response.content.decode()
    assert not Listing.objects.exists()


def test_create_listing_key_taken(owner, vendor, other_listing):
    response = client_for(owner).post(reverse("portal:listing-create"), listing_post(key="rival-app", vendor=vendor.pk))
    assert "already taken" in response.context["form"].errors["key"][0]
    assert Listing.objects.count() == 1


def test_create_connect_listing_needs_descriptor_url(owner, vendor):
    response = client_for(owner).post(
        reverse("portal:listing-create"), listing_post(scheme="connect", vendor=vendor.pk)
    )
    assert "descriptor URL" in response.context["form"].errors["descriptor_url"][0]
    response = client_for(owner).post(
        reverse("portal:listing-create"),
        listing_post(scheme="connect", descriptor_url="ftp://x.example/d.json", vendor=vendor.pk),
    )
    assert "http:// or https://" in response.context["form"].errors["descriptor_url"][0]
    assert not Listing.objects.exists()


def test_create_listing_with_two_vendors_only_offers_own_vendors(owner, vendor, other_listing):
    second = VendorFactory(name="Second Co")
    MembershipFactory(vendor=second, user=owner, role="developer")
    client = client_for(owner)
    form = client.get(reverse("portal:listing-create")).context["form"]
    assert set(form.fields["vendor"].queryset) == {vendor, second}
    response = client.post(reverse("portal:listing-create"), listing_post(vendor=other_listing.vendor.pk))
    assert "vendor" in response.context["form"].errors
    client.post(reverse("portal:listing-create"), listing_post(vendor=second.pk))
    assert Listing.objects.get(key="time-tracker").vendor == second


def test_create_listing_refuses_a_post_without_csrf_token(owner, vendor):
    client = Client(enforce_csrf_checks=True)
    client.force_login(owner)
    response = client.post(reverse("portal:listing-create"), listing_post(vendor=vendor.pk))
    assert response.status_code == 403
    assert not Listing.objects.exists()


# --- listing detail / edit ----------------------------------------------------------


def test_listing_detail_shows_versions_and_owner_actions(owner, vendor):
    listing = ListingFactory(vendor=vendor, key="time-tracker")
    version = VersionFactory(listing=listing, number="1.0.0", state="published", channel="release")
    html = client_for(owner).get(reverse("portal:listing-detail", args=[listing.key])).content.decode()
    assert reverse("portal:version-detail", args=[version.pk]) in html
    assert reverse("portal:version-create", args=[listing.key]) in html
    assert reverse("portal:listing-archive", args=[listing.key]) in html


def test_listing_detail_paginates_versions(owner, vendor):
    listing = ListingFactory(vendor=vendor)
    for i in range(23):
        VersionFactory(listing=listing, number=f"1.0.{i}")
    client = client_for(owner)
    url = reverse("portal:listing-detail", args=[listing.key])
    assert len(client.get(url).context["versions"]) == 20
    assert len(client.get(url, {"page": 2}).context["versions"]) == 3


def test_developer_sees_no_archive_button(developer, vendor):
    listing = ListingFactory(vendor=vendor)
    html = client_for(developer).get(reverse("portal:listing-detail", args=[listing.key])).content.decode()
    assert reverse("portal:listing-archive", args=[listing.key]) not in html


def test_edit_listing(owner, vendor):
    listing = ListingFactory(vendor=vendor, key="time-tracker", name="Old name")
    client = client_for(owner)
    url = reverse("portal:listing-edit", args=[listing.key])
    assert client.get(url).context["form"].initial["name"] == "Old name"
    response = client.post(url, listing_post(name="New name", key="other-key", pricing="paid"))
    assert response.status_code == 302
    listing.refresh_from_db()
    assert (listing.name, listing.key, listing.pricing) == ("New name", "time-tracker", "paid")


def test_edit_listing_refuses_scheme_change_once_it_has_versions(owner, vendor):
    listing = ListingFactory(vendor=vendor, key="time-tracker", name="Same")
    VersionFactory(listing=listing)
    response = client_for(owner).post(
        reverse("portal:listing-edit", args=[listing.key]), listing_post(scheme="ocp", name="Changed")
    )
    assert "can't change once the listing has versions" in response.context["form"].errors["scheme"][0]
    listing.refresh_from_db()
    assert (listing.scheme, listing.name) == ("manual", "Same")


def test_edit_listing_empty_name_is_refused(owner, vendor):
    listing = ListingFactory(vendor=vendor, key="time-tracker", name="Same")
    response = client_for(owner).post(reverse("portal:listing-edit", args=[listing.key]), listing_post(name=""))
    assert "Name is required" in response.context["form"].errors["name"][0]
    listing.refresh_from_db()
    assert listing.name == "Same"


# --- archive ---------------------------------------------------------------------------


def test_owner_archives_and_unarchives(owner, vendor):
    listing = ListingFactory(vendor=vendor)
    client = client_for(owner)
    response = client.post(reverse("portal:listing-archive", args=[listing.key]))
    assert response.status_code == 302
    listing.refresh_from_db()
    assert listing.is_archived
    client.post(reverse("portal:listing-unarchive", args=[listing.key]))
    listing.refresh_from_db()
    assert not listing.is_archived


def test_developer_cannot_archive(developer, vendor):
    listing = ListingFactory(vendor=vendor)
    response = client_for(developer).post(reverse("portal:listing-archive", args=[listing.key]))
    assert response.status_code == 403
    assert "Only an owner" in response.content.decode()
    listing.refresh_from_db()
    assert not listing.is_archived


def test_archive_is_post_only(owner, vendor):
    listing = ListingFactory(vendor=vendor)
    assert client_for(owner).get(reverse("portal:listing-archive", args=[listing.key])).status_code == 405
    listing.refresh_from_db()
    assert not listing.is_archived


# --- vendor A never reaches vendor B ------------------------------------------------


@pytest.mark.parametrize(
    ("method", "name"),
    [
        ("get", "portal:listing-detail"),
        ("get", "portal:listing-edit"),
        ("post", "portal:listing-edit"),
        ("post", "portal:listing-archive"),
        ("post", "portal:listing-unarchive"),
        ("get", "portal:version-create"),
        ("post", "portal:version-create"),
    ],
)
def test_other_vendors_listing_is_not_found(owner, other_listing, method, name):
    response = getattr(client_for(owner), method)(
        reverse(name, args=[other_listing.key]), listing_post(name="Hijacked") if method == "post" else None
    )
    assert response.status_code == 404
    other_listing.refresh_from_db()
    assert other_listing.name == "Rival App"
    assert not other_listing.is_archived
    assert not other_listing.versions.exists()


def test_wrong_password_is_refused_with_a_message(owner):
    response = Client().post(reverse("account_login"), {"login": "olivia", "password": "wrong"})
    assert response.status_code == 200
    assert "username and/or password you specified are not correct" in response.content.decode()
    assert "_auth_user_id" not in response.client.session


def test_user_without_vendor_is_told_and_cannot_create(db):
    loner = UserFactory(username="loner")
    client = client_for(loner)
    assert "not a member of any vendor" in client.get(reverse("portal:dashboard")).content.decode()
    response = client.post(reverse("portal:listing-create"), listing_post())
    assert "vendor" in response.context["form"].errors
    assert not Listing.objects.exists()


# --- the storefront's fields on the vendor's form -------------------------------------------------


def _png(size=(128, 128)):
    import io

    from django.core.files.uploadedfile import SimpleUploadedFile
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", size, "navy").save(buffer, "PNG")
    return SimpleUploadedFile("icon.png", buffer.getvalue(), content_type="image/png")


def test_vendor_edits_description_links_and_uploads_an_icon(owner, vendor, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    client_for(owner).post(reverse("portal:listing-create"), listing_post(vendor=vendor.pk))
    response = client_for(owner).post(
        reverse("portal:listing-edit", args=["time-tracker"]),
        listing_post(description="## Hello\n\n*Track* time.", support_url="https://help.example.com", icon=_png()),
    )
    assert response.status_code == 302
    listing = Listing.objects.get(key="time-tracker")
    assert listing.description.startswith("## Hello") and listing.support_url == "https://help.example.com"
    assert listing.icon.name == "listing-icons/time-tracker.png" and (tmp_path / listing.icon.name).exists()


@pytest.mark.parametrize(
    ("overrides", "field", "needle"),
    [
        ({"description": "<script>alert(1)</script>"}, "description", "HTML tags are not allowed"),
        ({"icon": "not-a-file"}, None, None),
        ({"allowed_sites": "12, abc"}, "allowed_sites", "&#x27;abc&#x27; is not a site id"),
        ({"allowed_sites": "999999"}, "allowed_sites", "No site has the id 999999"),
    ],
)
def test_bad_storefront_fields_show_next_to_the_field_and_change_nothing(owner, vendor, overrides, field, needle):
    client_for(owner).post(reverse("portal:listing-create"), listing_post(vendor=vendor.pk))
    if overrides.get("icon") == "not-a-file":
        from django.core.files.uploadedfile import SimpleUploadedFile

        overrides = {"icon": SimpleUploadedFile("icon.png", b"GIF89a not really", content_type="image/png")}
        field, needle = "icon", "must be a PNG, JPEG or WebP image"
    response = client_for(owner).post(
        reverse("portal:listing-edit", args=["time-tracker"]), listing_post(name="Renamed", **overrides)
    )
    body = response.content.decode()
    assert response.status_code == 200
    assert f'id="field-{field}"' in body and needle in body
    listing = Listing.objects.get(key="time-tracker")
    assert listing.name == "Time Tracker" and not listing.icon and listing.description == ""


def test_the_form_has_no_picker_of_every_customer_site(owner, vendor):
    SiteFactory(name="Some Customer's Secret Site")
    html = client_for(owner).get(reverse("portal:listing-create")).content.decode()
    assert "Some Customer&#x27;s Secret Site" not in html and "Secret Site" not in html
    assert "Allowed site ids" in html


def test_dashboard_activity_says_transitions_in_words_not_state_codes(owner, vendor):
    listing = ListingFactory(vendor=vendor, key="time-tracker", name="Time Tracker")
    version = VersionFactory(listing=listing, number="1.2.0", state="pending_approval")
    VersionTransition.objects.create(version=version, name="submit", from_state="draft", to_state="pending_approval")
    html = client_for(owner).get(reverse("portal:dashboard")).content.decode()
    assert "Submitted for review" in html and "(now pending approval)" in html
    assert "pending_approval" not in html.split('id="activity-heading"')[1]
    assert " UTC</time>" in html  # the time carries its zone
