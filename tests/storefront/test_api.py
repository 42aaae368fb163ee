"""The storefront's API (anonymous browsing) and the sites API's install, uninstall, disable, enable."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from tests.storefront.world import many_listings
from upgrades.models import Installation, SiteToken

pytestmark = pytest.mark.django_db


@pytest.fixture
def api():
    return APIClient()


def test_anyone_lists_and_searches_apps_without_a_trailing_slash(api, store):
    response = api.get("/api/v1/apps", {"q": "time"})
    assert response.status_code == 200
    assert [a["key"] for a in response.json()["results"]] == ["timesheets-pro"]
    assert response.json()["results"][0]["host_products"] == ["jira"]
    assert api.get("/api/v1/apps/").status_code == 404  # the project's one style: no trailing slash


def test_a_bad_filter_is_a_400_naming_the_field(api, store):
    response = api.get("/api/v1/apps", {"pricing": "cheap"})
    assert response.status_code == 400
    assert "pricing" in str(response.json())


def test_app_detail_has_scopes_in_plain_language_and_safe_html(api, store):
    store.timesheets.description = "Hello <script>alert(1)</script> **world**"
    store.timesheets.save()
    body = api.get("/api/v1/apps/timesheets-pro").json()
    assert {
        "name": "write:jira-work",
        "description": "Create and edit issues and worklogs",
        "sensitivity": "write",
    } in (body["scopes"])
    assert "<strong>world</strong>" in body["description_html"] and "<script" not in body["description_html"]
    assert body["compatibility"] == "Jira 9.0 or later"
    assert api.get("/api/v1/apps/no-such-app").status_code == 404


def test_a_site_admin_installs_disables_enables_and_uninstalls_through_the_api(api, store):
    api.force_authenticate(store.admin)
    base = f"/api/v1/sites/{store.jira_site.pk}/installations"
    response = api.post(base, {"listing": "timesheets-pro"}, format="json")
    assert response.status_code == 201, response.content
    iid = response.json()["id"]
    assert response.json()["granted_scopes"] == ["read:jira-work", "write:jira-work"]
    again = api.post(base, {"listing": "timesheets-pro"}, format="json")
    assert again.status_code == 409 and "already installed" in str(again.json())
    assert api.post(f"{base}/{iid}/disable").json()["state"] == "disabled"
    assert api.post(f"{base}/{iid}/enable").json()["state"] == "active"
    assert api.delete(f"{base}/{iid}").json()["state"] == "uninstalled"
    gone = api.delete(f"{base}/{iid}")
    assert gone.status_code == 409 and "not installed" in str(gone.json())


@pytest.mark.parametrize(
    ("payload", "site_attr", "status", "needle"),
    [
        ({"listing": "timesheets-pro"}, "confluence_site", 409, "runs on Jira, not on Confluence"),
        ({"listing": "timesheets-pro"}, "other_site", 404, "No such site"),
        ({"listing": "no-such-app"}, "jira_site", 404, "No app 'no-such-app'"),
        ({}, "jira_site", 400, "listing"),
    ],
)
def test_bad_installs_change_nothing(api, store, payload, site_attr, status, needle):
    api.force_authenticate(store.admin)
    response = api.post(f"/api/v1/sites/{getattr(store, site_attr).pk}/installations", payload, format="json")
    assert response.status_code == status
    assert needle in str(response.json())
    assert not Installation.objects.exists()


def test_a_site_token_reads_installations_but_does_not_install(api, store):
    _, raw = SiteToken.issue(site=store.jira_site)
    api.credentials(HTTP_AUTHORIZATION=f"Site {raw}")
    base = f"/api/v1/sites/{store.jira_site.pk}/installations"
    assert api.get(base).status_code == 200
    response = api.post(base, {"listing": "timesheets-pro"}, format="json")
    assert response.status_code == 403 and "Sign in as an admin of the site" in response.json()["detail"]
    assert not Installation.objects.exists()


def test_anonymous_callers_may_not_install(api, store):
    response = api.post(f"/api/v1/sites/{store.jira_site.pk}/installations", {"listing": "timesheets-pro"})
    assert response.status_code in (401, 403)
    assert not Installation.objects.exists()


@pytest.mark.parametrize("count", [10, 300])
def test_the_app_list_costs_the_same_queries_for_10_or_300_listings(api, store, count, django_assert_num_queries):
    many_listings(count, product=store.jira)
    # the count, the page of listings, their host products and categories: 4 for 10 or 300
    with django_assert_num_queries(4):
        response = api.get("/api/v1/apps", {"sort": "installs"})
    assert response.json()["count"] == count + 2


def test_the_storefront_endpoints_are_in_the_openapi_schema(api, store):
    paths = api.get("/api/schema/", {"format": "json"}).json()["paths"]
    for path in (
        "/api/v1/apps",
        "/api/v1/apps/{key}",
        "/api/v1/sites/{id}/installations",
        "/api/v1/sites/{id}/installations/{installation_pk}",
        "/api/v1/sites/{id}/installations/{installation_pk}/disable",
        "/api/v1/sites/{id}/installations/{installation_pk}/enable",
    ):
        assert path in paths, path
    assert "post" in paths["/api/v1/sites/{id}/installations"]
    assert "delete" in paths["/api/v1/sites/{id}/installations/{installation_pk}"]


def test_the_schema_documents_the_apps_list_as_paginated_and_release_dates_as_nullable():
    """What the API answers, found by the fuzzing: a page of apps (not one app), and apps or
    versions without a publication date (versions.Version.published_at is nullable)."""
    from drf_spectacular.generators import SchemaGenerator

    schema = SchemaGenerator().get_schema(request=None, public=True)
    answer = schema["paths"]["/api/v1/apps"]["get"]["responses"]["200"]["content"]["application/json"]["schema"]
    assert answer == {"$ref": "#/components/schemas/PaginatedAppList"}
    components = schema["components"]["schemas"]
    assert components["App"]["properties"]["released_at"].get("nullable") is True
    assert components["Version"]["properties"]["published_at"].get("nullable") is True
