"""Bundle scheme: the vendor shares an app group; MAJOR typed, MINOR counts the shares."""

import pytest
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from core.errors import ApplicationError, NotFound
from tests.factories import ListingFactory, MembershipFactory
from versions.models import Version
from versions.services.bundles import bundle_share

pytestmark = pytest.mark.django_db

API, UI = {"name": "api", "version": "2026.10.1"}, {"name": "ui", "version": "5.2"}


@pytest.fixture
def owner():
    return MembershipFactory(role="owner")


@pytest.fixture
def suite(owner):
    return ListingFactory(vendor=owner.vendor, scheme="bundle", key="suite")


def share(suite, owner, major, *components, **kw):
    return bundle_share(listing=suite, actor=owner.user, major=major, components=list(components), **kw)


def test_minor_counts_the_shares_of_a_major_and_each_share_goes_live(suite, owner):
    first, created = share(suite, owner, 1, API, UI)
    assert created and first.number == "1.0.0" and first.state == "published" and first.source == "share"
    second, _ = share(suite, owner, 1, API, {"name": "ui", "version": "5.3"})
    third, _ = share(suite, owner, 1, {"name": "api", "version": "2026.11.0"}, {"name": "ui", "version": "5.3"})
    assert (second.number, third.number) == ("1.1.0", "1.2.0")
    assert "api 2026.10.1 -> 2026.11.0" in third.update_notes
    major, _ = share(suite, owner, 2, {"name": "api", "version": "2027.1.0"})
    assert major.number == "2.0.0" and "ui removed" in major.update_notes
    states = dict(Version.objects.filter(listing=suite).values_list("number", "state"))
    assert states == {"1.0.0": "superseded", "1.1.0": "superseded", "1.2.0": "superseded", "2.0.0": "published"}


def test_every_share_counts_the_minor_even_when_no_component_changed(suite, owner):
    """Rainbond: the minor version accumulates on every share."""
    first, _ = share(suite, owner, 1, API, UI)
    again, changes = share(suite, owner, 1, UI, API)  # order does not matter
    assert changes == [] and again.pk != first.pk
    assert (again.number, again.state, again.components) == ("1.1.0", "published", [API, UI])
    assert "no component changed" in again.update_notes
    third, changes = share(suite, owner, 1, API, {"name": "ui", "version": "5.3"})
    assert third.number == "1.2.0" and changes == [{"name": "ui", "from": "5.2", "to": "5.3"}]
    states = dict(Version.objects.filter(listing=suite).values_list("number", "state"))
    assert states == {"1.0.0": "superseded", "1.1.0": "superseded", "1.2.0": "published"}


def test_the_pages_show_which_components_each_version_changed(client, suite, owner):
    first, _ = share(suite, owner, 1, API, UI)
    same, _ = share(suite, owner, 1, API, UI)
    newer, _ = share(suite, owner, 1, {"name": "api", "version": "2026.11.0"}, UI)
    client.force_login(owner.user)
    page = client.get(f"/portal/listings/{suite.key}/").content.decode()
    assert "Components changed" in page
    rows = {v.number: page.split(f">{v.number}</a>")[-1].split("</tr>")[0] for v in (first, same, newer)}
    assert "api: 2026.10.1 (new)" in rows["1.0.0"] and "ui: 5.2 (new)" in rows["1.0.0"]
    assert "no site is offered this version" in rows["1.1.0"]
    assert "api: 2026.10.1 &rarr; 2026.11.0" in rows["1.2.0"] and "ui:" not in rows["1.2.0"]
    detail = client.get(f"/portal/versions/{same.pk}/").content.decode()
    assert "Components changed" in detail and "no site is offered this version" in detail
    detail = client.get(f"/portal/versions/{newer.pk}/").content.decode()
    assert "api: 2026.10.1 &rarr; 2026.11.0" in detail


@pytest.mark.parametrize(
    ("major", "components", "field", "text"),
    [
        ("x", [API], "major", "whole number"),
        (-1, [API], "major", "from 0"),
        (1, [], "components", "at least one component"),
        (1, [{"name": "api"}], "components", "name and a version"),
        (1, [API, API], "components", "listed twice"),
        (0, [API], "major", "below the live MAJOR 1"),
    ],
)
def test_bad_shares_name_the_field_and_change_nothing(suite, owner, major, components, field, text):
    share(suite, owner, 1, API, UI)
    with pytest.raises(ApplicationError) as exc:
        bundle_share(listing=suite, actor=owner.user, major=major, components=components)
    assert exc.value.field == field and text in exc.value.message
    assert Version.objects.filter(listing=suite).count() == 1


def test_only_bundle_listings_and_only_members(suite, owner):
    manual = ListingFactory(vendor=owner.vendor, scheme="manual")
    with pytest.raises(ApplicationError) as exc:
        bundle_share(listing=manual, actor=owner.user, major=1, components=[API])
    assert exc.value.field == "listing"
    with pytest.raises(NotFound):
        bundle_share(listing=suite, actor=MembershipFactory().user, major=1, components=[API])
    assert not Version.objects.exists()


def test_share_api(suite, owner):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=owner.user).key}")
    url = f"/api/v1/listings/{suite.key}/shares"
    r = client.post(url, {"major": 1, "components": [API, UI]}, format="json")
    assert r.status_code == 201 and r.json()["version"]["number"] == "1.0.0"
    r = client.post(url, {"major": 1, "components": [API, UI]}, format="json")
    assert r.status_code == 201 and r.json()["version"]["number"] == "1.1.0"
    assert r.json()["components_changed"] == []
    r = client.post(url, {"major": 1, "components": []}, format="json")
    assert r.status_code == 400 and "at least one component" in r.json()["components"][0]
    other = APIClient()
    other.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=MembershipFactory().user).key}")
    assert other.post(url, {"major": 1, "components": [API]}, format="json").status_code == 404


def test_share_page(client, suite, owner):
    client.force_login(owner.user)
    page = client.get(f"/portal/listings/{suite.key}/share/")
    assert page.status_code == 200 and "Nothing is live yet" in page.content.decode()
    r = client.post(f"/portal/listings/{suite.key}/share/", {"major": "1", "components": "api=2026.10.1\nui=5.2"})
    version = Version.objects.get(listing=suite)
    assert r.status_code == 302 and r["Location"] == f"/portal/versions/{version.pk}/"
    assert version.components == [API, UI]
    bad = client.post(f"/portal/listings/{suite.key}/share/", {"major": "1", "components": "api"})
    assert bad.status_code == 200 and "name and a version" in bad.content.decode()
    assert Version.objects.filter(listing=suite).count() == 1
    again = client.post(f"/portal/listings/{suite.key}/share/", {"major": "1", "components": "api=2026.10.1\nui=5.2"})
    assert again.status_code == 302
    assert "no component changed" in client.get(again["Location"]).content.decode()
    assert "Share app group" in client.get(f"/portal/listings/{suite.key}/").content.decode()
