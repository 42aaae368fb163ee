"""The API says what it returns: every success body in the OpenAPI schema has a shape, lists are
documented as pages, and real responses validate against the schema (undocumented keys fail)."""

from __future__ import annotations

import copy
from functools import cache
from typing import Any

import jsonschema
import pytest
import yaml
from django.core.cache import cache as django_cache
from drf_spectacular.generators import SchemaGenerator
from rest_framework.test import APIClient

from core.pagination import PageNumberPagination
from tests.factories import ListingFactory, ScopeFactory, VersionFactory
from tests.upgrades.beta_world import make_beta_world
from tests.upgrades.conftest import make_world
from upgrades import services

PAGE_KEYS = {"count", "next", "previous", "results"}
# GET endpoints that list rows: documented (and answered) as pages.
LIST_ENDPOINTS = {
    "/api/v1/listings",
    "/api/v1/versions",
    "/api/v1/upgrade-requests",
    "/api/v1/sites/{id}/installations",
    "/api/v1/sites/{id}/migrations",
    "/api/v1/versions/{id}/beta-links",
    "/api/v1/mirror/listings",
}
# A version's history is a handful of transitions, its review conversation a handful of messages:
# plain arrays, by design.
UNPAGED_ARRAYS = {"/api/v1/versions/{id}/history", "/api/v1/versions/{id}/messages"}


@cache
def openapi() -> dict[str, Any]:
    schema = SchemaGenerator().get_schema(request=None, public=True)
    return yaml.safe_load(yaml.safe_dump(schema))  # plain dicts and lists, as a client reads it


def _resolve(node: Any, schema: dict[str, Any]) -> Any:
    while isinstance(node, dict) and "$ref" in node:
        node = schema["components"]["schemas"][node["$ref"].rsplit("/", 1)[1]]
    return node


def _operations():
    for path, item in openapi()["paths"].items():
        if path.startswith("/api/v1/"):
            for method, operation in item.items():
                if method in {"get", "post", "put", "patch", "delete"}:
                    yield path, method, operation


def _json_body(response: dict[str, Any]) -> Any:
    return response.get("content", {}).get("application/json", {}).get("schema")


def test_every_success_body_has_a_documented_shape():
    schema = openapi()
    checked = 0
    for path, method, operation in _operations():
        successes = {code: r for code, r in operation["responses"].items() if str(code).startswith("2")}
        assert successes, f"{method.upper()} {path} documents no success"
        for code, response in successes.items():
            body = _json_body(response)
            assert body is not None or str(code) == "204", f"{method.upper()} {path} {code}: no body documented"
            assert "$ref" in body or body.get("type") == "array", f"{method.upper()} {path} {code}: {body}"
            shape = _resolve(body, schema)
            if shape.get("type") == "array":
                assert path in UNPAGED_ARRAYS, f"{method.upper()} {path}: a list that is not documented as a page"
                shape = _resolve(shape["items"], schema)
            assert shape.get("properties"), f"{method.upper()} {path} {code}: a bare object"
            checked += 1
    assert checked >= 35


def test_list_endpoints_are_documented_as_pages():
    schema = openapi()
    for path in LIST_ENDPOINTS:
        page = _resolve(_json_body(schema["paths"][path]["get"]["responses"]["200"]), schema)
        assert set(page["properties"]) >= PAGE_KEYS, path
        assert _resolve(page["properties"]["results"]["items"], schema)["properties"], path
        assert {p["name"] for p in schema["paths"][path]["get"].get("parameters", [])} >= {"page"}, path
    for path, method, operation in _operations():
        body = _resolve(_json_body(operation["responses"].get("200", {})) or {}, openapi())
        if "results" in body.get("properties", {}):
            assert set(body["properties"]) >= PAGE_KEYS, f"{method.upper()} {path}: results without a page"


def test_refusals_are_documented_with_the_one_error_body():
    error = openapi()["components"]["schemas"]["Error"]
    assert error["additionalProperties"] == {"type": "array", "items": {"type": "string"}}
    for path, method, operation in _operations():
        refusals = {code: r for code, r in operation["responses"].items() if str(code)[0] == "4"}
        anonymous = {} in operation.get("security", [{}])  # the storefront's catalogue is public
        if not anonymous:
            assert "401" in refusals, f"{method.upper()} {path} does not document 401"
        if "{" in path or (path in LIST_ENDPOINTS and method == "get"):  # no such object, or no such page
            assert "404" in refusals, f"{method.upper()} {path} does not document 404"
        for code, response in refusals.items():
            assert _json_body(response) == {"$ref": "#/components/schemas/Error"}, f"{method.upper()} {path} {code}"


# --- real responses against the schema ----------------------------------------------------------


def _strict(node: Any) -> Any:
    """OpenAPI 3.0 -> JSON Schema: `nullable` becomes a null alternative, and objects with
    declared properties refuse undeclared keys (so an undocumented key fails the test)."""
    if isinstance(node, list):
        return [_strict(n) for n in node]
    if not isinstance(node, dict):
        return node
    node = {k: _strict(v) for k, v in node.items()}
    if node.get("type") == "object" and "properties" in node and "additionalProperties" not in node:
        node["additionalProperties"] = False
    if node.pop("nullable", False):
        node = {"anyOf": [node, {"type": "null"}]}
    return node


def assert_matches_schema(response, path: str, method: str = "get") -> None:
    schema = openapi()
    documented = schema["paths"][path][method]["responses"][str(response.status_code)]
    body = copy.deepcopy(_json_body(documented))
    document = _strict({**body, "components": schema["components"]})
    jsonschema.validate(
        response.json(), document, cls=jsonschema.Draft7Validator, format_checker=jsonschema.FormatChecker()
    )


def _site_client(site) -> APIClient:
    _, raw = services.site_token_create(site=site, name="instance")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Site {raw}")
    return client


@pytest.fixture
def catalogue(db):
    for name, level in [("read:jira-work", 1), ("write:jira-work", 2), ("delete:jira-work", 3), ("admin", 4)]:
        ScopeFactory(name=name, sensitivity=level)
    django_cache.clear()


def test_the_schema_check_catches_an_undocumented_key(catalogue):
    world = make_world(sites=1)
    response = _site_client(world.sites[0]).get(f"/api/v1/sites/{world.sites[0].pk}/updates")
    assert_matches_schema(response, "/api/v1/sites/{id}/updates")
    response.json = lambda: {**response.data, "surprise": 1}
    with pytest.raises(jsonschema.ValidationError, match="surprise"):
        assert_matches_schema(response, "/api/v1/sites/{id}/updates")


def test_update_check_matches_the_schema(catalogue, django_capture_on_commit_callbacks):
    world = make_world(sites=1)
    site = world.sites[0]
    with django_capture_on_commit_callbacks(execute=True):  # the rollout opens an upgrade request
        world.publish("1.1.0", scopes=["read:jira-work", "write:jira-work"], pricing="paid")
    group = ListingFactory(vendor=world.listing.vendor, scheme="bundle")
    installed = VersionFactory(
        listing=group, number="1.0.0", state="superseded", components=[{"name": "api", "version": "1"}]
    )
    VersionFactory(listing=group, number="1.1.0", state="published", components=[{"name": "ui", "version": "2"}])
    services.installation_create(site=site, listing=group, version=installed)
    up_to_date = ListingFactory(vendor=world.listing.vendor)
    services.installation_create(
        site=site, listing=up_to_date, version=VersionFactory(listing=up_to_date, number="3.0.0", state="published")
    )

    response = _site_client(site).get(f"/api/v1/sites/{site.pk}/updates")

    assert response.status_code == 200
    assert_matches_schema(response, "/api/v1/sites/{id}/updates")
    items = {item["listing"]: item for item in response.json()["items"]}
    offer = items[world.listing.key]["update"]
    assert {r["code"] for r in offer["reasons"]} == {"scope_added", "free_to_paid"}
    assert offer["request"]["state"] == "pending"
    assert items[group.key]["update"]["components"] == [
        {"name": "api", "from": "1", "to": None},
        {"name": "ui", "from": None, "to": "2"},
    ]
    assert items[up_to_date.key]["update"] is None


def test_paginated_lists_match_the_schema(catalogue, django_capture_on_commit_callbacks, monkeypatch):
    monkeypatch.setattr(PageNumberPagination, "page_size", 1)
    world = make_world(sites=3)
    with django_capture_on_commit_callbacks(execute=True):
        world.publish("1.1.0", scopes=["read:jira-work", "write:jira-work"])
    client = APIClient()
    client.force_authenticate(world.vendor_user)
    first = client.get("/api/v1/versions")
    assert_matches_schema(first, "/api/v1/versions")
    assert first.json()["count"] == 2 and first.json()["previous"] is None and first.json()["next"]
    second = client.get(first.json()["next"])
    assert_matches_schema(second, "/api/v1/versions")
    assert second.json()["next"] is None and second.json()["previous"]
    assert {v["number"] for v in first.json()["results"] + second.json()["results"]} == {"1.0.0", "1.1.0"}

    client.force_authenticate(world.admins[0].user)
    requests = client.get("/api/v1/upgrade-requests")
    assert_matches_schema(requests, "/api/v1/upgrade-requests")
    assert requests.json()["count"] == 1 and requests.json()["results"][0]["reasons"][0]["code"] == "scope_added"

    site = world.sites[0]
    installations = _site_client(site).get(f"/api/v1/sites/{site.pk}/installations")
    assert_matches_schema(installations, "/api/v1/sites/{id}/installations")
    assert installations.json()["site"] == site.pk and installations.json()["count"] == 1


def test_beta_links_match_the_schema(catalogue):
    bw = make_beta_world()
    vendor = APIClient()
    vendor.force_authenticate(bw.vendor_user)
    path = f"/api/v1/versions/{bw.beta.pk}/beta-links"

    created = vendor.post(path, {"expires_in_days": 3}, format="json")
    assert created.status_code == 201
    assert_matches_schema(created, "/api/v1/versions/{id}/beta-links", "post")

    admin = APIClient()
    admin.force_authenticate(bw.admin)
    token = created.json()["token"]
    installed = admin.post("/api/v1/beta-links/install", {"token": token, "site": bw.old_site.pk}, format="json")
    assert installed.status_code == 201
    assert_matches_schema(installed, "/api/v1/beta-links/install", "post")
    refused = admin.post("/api/v1/beta-links/install", {"token": token, "site": bw.old_site.pk}, format="json")
    assert refused.status_code == 409
    assert_matches_schema(refused, "/api/v1/beta-links/install", "post")

    listed = vendor.get(path)
    assert_matches_schema(listed, "/api/v1/versions/{id}/beta-links")
    assert listed.json()["count"] == 1 and listed.json()["results"][0]["installs"] == 1

    revoked = vendor.delete(f"{path}/{created.json()['id']}")
    assert revoked.status_code == 200 and revoked.json()["status"] == "revoked"
    assert_matches_schema(revoked, "/api/v1/versions/{id}/beta-links/{link_pk}", "delete")
