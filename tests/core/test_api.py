"""The one error body: DRF's nested validation errors are flattened by core.api's handler."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from core.api import _messages
from tests.factories import MembershipFactory


def test_nested_errors_become_one_flat_list_per_field_saying_where():
    assert _messages({"0": ["Enter a valid slug."], "2": ["Too long."]}) == [
        "item 0: Enter a valid slug.",
        "item 2: Too long.",
    ]
    assert _messages([{}, {"name": ["This field is required."]}]) == ["item 1, name: This field is required."]
    assert _messages({"web": {"min": ["Not a version."]}}) == ["web, min: Not a version."]
    assert _messages(["First.", "Second."]) == ["First.", "Second."]


@pytest.mark.django_db
def test_an_invalid_list_item_is_a_400_in_the_documented_shape_and_creates_nothing():
    user = MembershipFactory(role="owner").user
    client = APIClient()
    client.force_authenticate(user)
    response = client.post(
        "/api/v1/listings",
        {"key": "time-tracker", "name": "Time", "host_products": ["ok", "not a slug!"]},
        format="json",
    )
    assert response.status_code == 400
    body = response.json()
    assert all(isinstance(m, str) for messages in body.values() for m in messages)
    assert body["host_products"] == [
        'item 1: Enter a valid "slug" consisting of letters, numbers, underscores or hyphens.'
    ]
