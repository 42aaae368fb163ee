"""REST API for listings and versions: token auth, validation messages, isolation, filters."""

import pytest
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from tests.factories import ListingFactory, MembershipFactory, ReviewerFactory, VersionFactory
from versions import services
from versions.models import Version

pytestmark = pytest.mark.django_db


@pytest.fixture
def owner():
    return MembershipFactory(role="owner")


@pytest.fixture
def api(owner):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=owner.user).key}")
    return client


def test_requires_authentication():
    assert APIClient().get("/api/v1/versions").status_code == 401


def test_create_listing_and_version_then_walk_the_lifecycle(api, owner):
    r = api.post("/api/v1/listings", {"key": "api-app", "name": "API App"}, format="json")
    assert r.status_code == 201, r.json()
    r = api.post(
        "/api/v1/versions",
        {"listing": "api-app", "number": "1.0.0", "update_notes": "First", "scopes": ["READ:jira-work"]},
        format="json",
    )
    assert r.status_code == 201, r.json()
    body = r.json()
    assert body["state"] == "draft" and body["scopes"] == ["read:jira-work"] and body["coordinates"] == "api-app@1.0.0"
    pk = body["id"]
    assert api.post(f"/api/v1/versions/{pk}/submit", {}, format="json").json()["state"] == "pending_approval"
    version = Version.objects.get(pk=pk)
    reviewer = ReviewerFactory()
    services.version_start_review(version=version, actor=reviewer)
    services.version_approve(version=version, actor=reviewer)
    assert api.post(f"/api/v1/versions/{pk}/publish", {}, format="json").json()["state"] == "published"
    history = api.get(f"/api/v1/versions/{pk}/history").json()
    assert [h["name"] for h in history] == ["publish", "approve", "start_review", "submit", "create"]


def test_bad_input_names_the_field(api, owner):
    listing = ListingFactory(vendor=owner.vendor)
    r = api.post("/api/v1/versions", {"listing": listing.key, "number": "1.0", "update_notes": "x"}, format="json")
    assert r.status_code == 400
    assert "missing PATCH number" in r.json()["number"][0]
    r = api.post(
        "/api/v1/versions", {"listing": listing.key, "number": "1.0.0", "update_notes": "x" * 501}, format="json"
    )
    assert r.status_code == 400 and "at most 500" in r.json()["update_notes"][0]
    r = api.post("/api/v1/listings", {"key": "Bad Key", "name": "X"}, format="json")
    assert r.status_code == 400 and "lower-case letter" in r.json()["key"][0]
    assert not Version.objects.exists()


def test_forbidden_transition_is_a_conflict(api, owner):
    version = VersionFactory(listing=ListingFactory(vendor=owner.vendor), state="published")
    r = api.post(f"/api/v1/versions/{version.pk}/submit", {}, format="json")
    assert r.status_code in (400, 409)
    r = api.patch(f"/api/v1/versions/{version.pk}", {"update_notes": "changed"}, format="json")
    assert r.status_code == 400 and "immutable" in r.json()["state"][0]
    assert Version.objects.get(pk=version.pk).update_notes == "Bug fixes."


def test_other_vendors_data_is_invisible(api, owner):
    foreign = VersionFactory(listing=ListingFactory(key="foreign-app"))
    assert api.get(f"/api/v1/versions/{foreign.pk}").status_code == 404
    assert api.post(f"/api/v1/versions/{foreign.pk}/cancel", {}, format="json").status_code == 404
    assert api.get("/api/v1/listings/foreign-app").status_code == 404
    r = api.post("/api/v1/versions", {"listing": "foreign-app", "number": "9.0.0", "update_notes": "x"}, format="json")
    assert r.status_code == 404
    assert api.get("/api/v1/versions").json()["count"] == 0


def test_filters_by_state_channel_and_number_range(api, owner):
    listing = ListingFactory(vendor=owner.vendor)
    for number, state in [
        ("1.0.0", "superseded"),
        ("1.1.0-beta.1", "canceled"),
        ("1.1.0", "published"),
        ("2.0.0", "draft"),
    ]:
        VersionFactory(listing=listing, number=number, state=state)
    numbers = lambda q: [v["number"] for v in api.get(f"/api/v1/versions?{q}").json()["results"]]  # noqa: E731
    assert numbers(f"listing={listing.key}") == ["2.0.0", "1.1.0", "1.1.0-beta.1", "1.0.0"]
    assert numbers("state=published&state=superseded") == ["1.1.0", "1.0.0"]
    assert numbers("number_min=1.1.0-alpha&number_max=1.1.0") == ["1.1.0", "1.1.0-beta.1"]
    r = api.get("/api/v1/versions?number_min=1.1")
    assert r.status_code == 400 and "missing PATCH number" in r.json()["number_min"][0]


def test_openapi_schema_is_served(api):
    r = api.get("/api/schema/")
    assert r.status_code == 200
    assert b"/api/v1/versions" in r.content


def test_a_build_number_beyond_the_column_is_a_400_naming_the_field(api, owner):
    listing = ListingFactory(vendor=owner.vendor, key="build-app")
    response = api.post(
        "/api/v1/versions",
        {"listing": listing.key, "number": "1.0.0", "update_notes": "First.", "build_number": 10**30},
        format="json",
    )
    assert response.status_code == 400
    assert "build_number" in response.json()
    assert not Version.objects.filter(listing=listing).exists()


def test_withdraw_a_submitted_version_then_edit_it(api, owner):
    version = VersionFactory(listing=ListingFactory(vendor=owner.vendor), number="1.0.0", state="in_review")
    r = api.patch(f"/api/v1/versions/{version.pk}", {"update_notes": "Changed"}, format="json")
    assert r.status_code == 409, r.json()
    assert "read-only: withdraw it to draft" in r.json()["state"][0]
    r = api.post(f"/api/v1/versions/{version.pk}/withdraw", {"comment": "wrong notes"}, format="json")
    assert r.status_code == 200 and r.json()["state"] == "draft"
    assert api.patch(f"/api/v1/versions/{version.pk}", {"update_notes": "Changed"}, format="json").status_code == 200
    history = api.get(f"/api/v1/versions/{version.pk}/history").json()
    assert [(h["name"], h["comment"]) for h in history][:1] == [("withdraw", "wrong notes")]
    r = api.post(f"/api/v1/versions/{version.pk}/withdraw", {}, format="json")
    assert r.status_code == 409 and "Cannot withdraw to draft" in str(r.json())


def test_breaking_version_must_bump_major_through_the_api(api, owner):
    listing = ListingFactory(vendor=owner.vendor, scheme="manual")
    VersionFactory(listing=listing, number="1.0.0", state="published")
    body = {"listing": listing.key, "number": "1.1.0", "update_notes": "Drops the v1 REST API.", "breaking": True}
    r = api.post("/api/v1/versions", body, format="json")
    assert r.status_code == 400
    assert "a breaking change needs a MAJOR bump (for example 2.0.0)" in r.json()["number"][0]
    assert not Version.objects.filter(listing=listing, number="1.1.0").exists()
    r = api.post("/api/v1/versions", {**body, "number": "2.0.0"}, format="json")
    assert r.status_code == 201 and r.json()["breaking"] is True
    r = api.post("/api/v1/versions", {**body, "number": "1.1.0", "breaking": False}, format="json")
    assert r.status_code == 201 and r.json()["breaking"] is False
    r = api.patch(f"/api/v1/versions/{r.json()['id']}", {"breaking": True}, format="json")
    assert r.status_code == 400 and "MAJOR" in r.json()["number"][0]


def test_api_says_which_required_scope_is_missing_and_refuses_submission(api, owner):
    from marketplace.services import scope_create

    scope_create(name="read:jira-work", sensitivity=1)
    scope_create(name="write:jira-work", sensitivity=2, requires=["read:jira-work"])
    listing = ListingFactory(vendor=owner.vendor)
    r = api.post(
        "/api/v1/versions",
        {"listing": listing.key, "number": "1.0.0", "update_notes": "Writes back.", "scopes": ["write:jira-work"]},
        format="json",
    )
    assert r.status_code == 201
    body = r.json()
    assert body["missing_required_scopes"] == [
        {
            "scope": "write:jira-work",
            "requires": "read:jira-work",
            "add": "read:jira-work",
            "message": "write:jira-work requires read:jira-work: add read:jira-work",
        }
    ]
    r = api.post(f"/api/v1/versions/{body['id']}/submit", {}, format="json")
    assert r.status_code == 400 and "write:jira-work requires read:jira-work" in r.json()["scopes"][0]
    assert Version.objects.get(pk=body["id"]).state == "draft"
    r = api.patch(f"/api/v1/versions/{body['id']}", {"scopes": ["write:jira-work", "read:jira-work"]}, format="json")
    assert r.json()["missing_required_scopes"] == []
    assert api.post(f"/api/v1/versions/{body['id']}/submit", {}, format="json").json()["state"] == "pending_approval"
