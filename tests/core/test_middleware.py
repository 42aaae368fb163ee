"""An API address that matches no route answers JSON in the one error shape; pages keep their HTML 404."""

from __future__ import annotations

import pytest
from django.test import Client


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/api/v1/versions/-3", "/api/v1/listings/not%20a%20key/shares", "/api/v1/nothing"])
def test_unmatched_api_addresses_answer_json_404(path):
    response = Client().post(path)
    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    assert "No such API address" in response.json()["detail"]


@pytest.mark.django_db
def test_unmatched_pages_keep_the_html_404():
    response = Client().get("/portal/nothing-here/")
    assert response.status_code in (302, 404)
    assert not response.get("Content-Type", "").startswith("application/json")


@pytest.mark.django_db
@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/sites/36893488147419103233/migration-offers/1/accept",
        "/api/v1/versions/100000000000000000000000000000",
        "/api/v1/upgrade-requests/9223372036854775808/approve",
    ],
)
def test_ids_beyond_any_row_are_a_json_404_not_a_server_error(path, admin_client):
    response = admin_client.post(path)
    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"


@pytest.mark.django_db
def test_a_page_with_an_id_beyond_any_row_is_a_404(admin_client):
    assert admin_client.get("/upgrades/sites/100000000000000000000000/").status_code == 404
    assert admin_client.get("/portal/versions/9223372036854775808/").status_code == 404
