"""Profiles and personal API tokens: each change through the services, with its audit row."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from accounts import services
from accounts.models import Profile, UserToken
from core.errors import ApplicationError, NotFound
from core.models import AuditEvent
from core.tokens import token_digest
from tests.factories import MembershipFactory, UserFactory, verified

pytestmark = pytest.mark.django_db


def test_profile_update_saves_name_time_zone_and_notification_address_with_an_audit_row():
    user = verified(UserFactory(username="pat"))
    profile = services.profile_update(
        user=user, first_name="Pat", last_name="Lee", time_zone="Europe/Berlin", notification_email=user.email
    )
    user.refresh_from_db()
    assert (user.first_name, user.last_name, profile.time_zone) == ("Pat", "Lee", "Europe/Berlin")
    row = AuditEvent.objects.get(action="profile.update")
    assert row.actor == user and set(row.details["changed"]) >= {"first_name", "time_zone", "notification_email"}


def test_profile_update_refuses_an_unknown_time_zone_and_changes_nothing():
    user = UserFactory(username="pat")
    with pytest.raises(ApplicationError) as exc:
        services.profile_update(user=user, first_name="X", last_name="", time_zone="Mars/Olympus")
    assert exc.value.field == "time_zone" and "Mars/Olympus" in exc.value.message
    user.refresh_from_db()
    assert user.first_name == "" and not Profile.objects.exists()


def test_profile_page_refuses_a_notification_address_that_is_not_verified_next_to_the_field():
    user = verified(UserFactory(username="pat"))
    client = Client()
    client.force_login(user)
    response = client.post(
        reverse("accounts:profile"),
        {"first_name": "Pat", "time_zone": "UTC", "notification_email": "someone.else@example.com"},
    )
    assert response.status_code == 400
    assert "Notification e-mail must be one of your verified addresses" in response.content.decode()
    assert not Profile.objects.exists()


def test_times_are_shown_in_the_users_time_zone_after_they_set_it():
    user = verified(UserFactory(username="pat"))
    client = Client()
    client.force_login(user)
    response = client.post(reverse("accounts:profile"), {"first_name": "Pat", "time_zone": "Asia/Tokyo"})
    assert response.status_code == 302
    token, _ = services.user_token_create(user=user, name="ci")
    html = client.get(reverse("accounts:tokens")).content.decode()
    assert (
        timezone.localtime(token.created_at, timezone=__import__("zoneinfo").ZoneInfo("Asia/Tokyo")).strftime(
            "%Y-%m-%d %H:%M"
        )
        in html
    )
    assert "JST" in html


def test_notification_address_is_where_vendor_mail_goes():
    from core.emails import vendor_recipients

    membership = MembershipFactory(user=verified(UserFactory(username="pat", email="pat@work.example.com")))
    services.profile_update(
        user=membership.user, first_name="", last_name="", time_zone="UTC", notification_email="pat@work.example.com"
    )
    Profile.objects.filter(user=membership.user).update(notification_email="alerts@work.example.com")
    assert "alerts@work.example.com" in vendor_recipients(membership.vendor)
    assert "pat@work.example.com" not in vendor_recipients(membership.vendor)


def test_user_token_is_shown_once_stored_as_digest_and_authenticates_and_notes_last_use():
    user = UserFactory(username="pat")
    token, raw = services.user_token_create(user=user, name="CI deploys")
    stored = UserToken.objects.get()
    assert stored.digest == token_digest(raw) and raw not in (stored.digest, stored.prefix, stored.name)
    assert stored.last_used_at is None
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {raw}")
    assert client.get("/api/v1/listings").status_code == 200
    stored.refresh_from_db()
    assert stored.last_used_at is not None
    assert AuditEvent.objects.filter(action="user_token.create", object_id=token.pk, actor=user).exists()


def test_a_revoked_user_token_is_refused_with_a_clear_message():
    user = UserFactory(username="pat")
    token, raw = services.user_token_create(user=user, name="CI")
    services.user_token_revoke(user=user, token_id=token.pk)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {raw}")
    response = client.get("/api/v1/listings")
    assert response.status_code == 401
    assert "Unknown or revoked token" in response.json()["detail"]
    assert AuditEvent.objects.filter(action="user_token.revoke", to_state="revoked").count() == 1


def test_token_names_are_required_and_unique_among_active_tokens_and_others_tokens_are_not_found():
    user, other = UserFactory(username="pat"), UserFactory(username="sam")
    with pytest.raises(ApplicationError, match="Give the token a name"):
        services.user_token_create(user=user, name="  ")
    token, _ = services.user_token_create(user=user, name="CI")
    with pytest.raises(ApplicationError, match="already have an active token named 'CI'"):
        services.user_token_create(user=user, name="CI")
    with pytest.raises(NotFound):
        services.user_token_revoke(user=other, token_id=token.pk)
    assert UserToken.objects.get().revoked_at is None
    services.user_token_revoke(user=user, token_id=token.pk)
    services.user_token_create(user=user, name="CI")  # the name is free again once revoked
    assert UserToken.objects.count() == 2


def test_tokens_page_shows_the_new_token_once_and_revokes():
    user = UserFactory(username="pat")
    client = Client()
    client.force_login(user)
    made = client.post(reverse("accounts:tokens"), {"name": "laptop"})
    raw = made.context["new_token"]
    assert raw and raw in made.content.decode()
    again = client.get(reverse("accounts:tokens")).content.decode()
    assert raw not in again and "laptop" in again
    token = UserToken.objects.get()
    assert client.post(reverse("accounts:token-revoke", args=[token.pk])).status_code == 302
    token.refresh_from_db()
    assert token.revoked_at is not None


def test_legacy_admin_made_keys_still_work():
    from rest_framework.authtoken.models import Token

    key = Token.objects.create(user=UserFactory(username="pat")).key
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    assert client.get("/api/v1/listings").status_code == 200
