"""POST /api/v1/descriptors/diff and POST /api/v1/listings/{key}/deploys."""

from __future__ import annotations

import json

import pytest
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from tests.factories import ListingFactory, MembershipFactory, UserFactory
from versions.models import Version

pytestmark = pytest.mark.django_db
OLD = {"key": "my-app", "scopes": ["read:jira-work"]}
MANIFEST = "app:\n  id: ari:cloud:ecosystem::app/acme\npermissions:\n  scopes:\n    - read:jira-work\n"


@pytest.fixture
def owner():
    return MembershipFactory(role="owner").user


def token_client(user) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.get_or_create(user=user)[0].key}")
    return client


def test_diff_api_reports_bump_next_reasons_and_consent(owner):
    new = {**OLD, "scopes": ["READ:jira-work", "write:jira-work"]}
    response = token_client(owner).post(
        "/api/v1/descriptors/diff",
        {"old": json.dumps(OLD), "new": new, "scheme": "connect", "from": "1.2.3"},
        format="json",
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["bump"], body["next"], body["consent_required"]) == ("minor", "1.3.0", True)
    assert body["reasons"] == ["scope added: write:jira-work"]


def test_diff_api_refuses_invalid_descriptors_naming_the_side(owner):
    response = token_client(owner).post("/api/v1/descriptors/diff", {"old": OLD, "new": "{nope"}, format="json")
    assert response.status_code == 400
    assert "new descriptor: Invalid JSON" in response.json()["new"][0]
    changed_key = token_client(owner).post("/api/v1/descriptors/diff", {"old": OLD, "new": {"key": "x"}}, format="json")
    assert changed_key.status_code == 400
    assert "key changed" in json.dumps(changed_key.json())


def test_diff_api_needs_authentication():
    assert APIClient().post("/api/v1/descriptors/diff", {"old": OLD, "new": OLD}, format="json").status_code in (
        401,
        403,
    )


def test_deploy_with_a_token_and_a_yaml_body_is_idempotent(owner):
    listing = ListingFactory(key="acme-forge", scheme="forge", vendor=owner.vendor_memberships.get().vendor)
    client = token_client(owner)
    first = client.post("/api/v1/listings/acme-forge/deploys", MANIFEST, content_type="application/yaml")
    assert first.status_code == 201, first.content
    assert first.json()["version"]["number"] == "1.0.0"
    assert first.json()["version"]["state"] == "published"
    again = client.post("/api/v1/listings/acme-forge/deploys", {"manifest": MANIFEST}, format="json")
    assert again.status_code == 200
    assert again.json() == {**first.json(), "created": False}
    assert Version.objects.filter(listing=listing).count() == 1


def test_deploy_refusals(owner):
    ListingFactory(key="acme-forge", scheme="forge", vendor=owner.vendor_memberships.get().vendor)
    client = token_client(owner)
    bad = client.post("/api/v1/listings/acme-forge/deploys", "app: [", content_type="application/yaml")
    assert bad.status_code == 400
    assert "Invalid YAML" in bad.json()["manifest"][0]
    stranger = token_client(UserFactory())
    assert (
        stranger.post("/api/v1/listings/acme-forge/deploys", MANIFEST, content_type="application/yaml").status_code
        == 404
    )
    anonymous = APIClient().post("/api/v1/listings/acme-forge/deploys", MANIFEST, content_type="application/yaml")
    assert anonymous.status_code == 401
    assert Version.objects.count() == 0


def test_a_descriptor_holding_a_5000_digit_integer_is_a_400(owner):
    huge = '{"key": "my-app", "n": ' + "9" * 5000 + "}"
    response = token_client(owner).post("/api/v1/descriptors/diff", {"old": huge, "new": huge}, format="json")
    assert response.status_code == 400
    assert "number is too long" in json.dumps(response.json())


def test_a_json_body_nested_100000_levels_is_a_400(owner):
    deep = "[" * 100_000 + "]" * 100_000
    response = token_client(owner).post("/api/v1/descriptors/diff", data=deep, content_type="application/json")
    assert response.status_code == 400
    assert "nested too deeply" in response.json()["detail"]


def test_a_deploy_with_the_manifest_as_a_multipart_file_works_and_a_bad_one_is_a_400(owner):
    from django.core.files.uploadedfile import SimpleUploadedFile

    ListingFactory(vendor=owner.vendor_memberships.get().vendor, key="forge-file", scheme="forge")
    client = token_client(owner)
    ok = client.post(
        "/api/v1/listings/forge-file/deploys",
        {"manifest": SimpleUploadedFile("manifest.yml", MANIFEST.encode())},
        format="multipart",
    )
    assert ok.status_code == 201, ok.content
    bad = client.post(
        "/api/v1/listings/forge-file/deploys",
        {"manifest": SimpleUploadedFile("manifest.yml", b"\xff\xfe not text")},
        format="multipart",
    )
    assert bad.status_code == 400 and "manifest" in bad.json()
