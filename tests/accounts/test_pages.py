"""allauth's pages in the portal's layout: sign-up, sign-in, reset, addresses, two-factor, sessions."""

from __future__ import annotations

import pytest
from django.core import mail
from django.test import Client

from tests.factories import UserFactory, verified

pytestmark = pytest.mark.django_db

SIGNED_IN_PAGES = [
    "/accounts/email/",
    "/accounts/password/change/",
    "/accounts/2fa/",
    "/accounts/reauthenticate/",
    "/accounts/sessions/",
    "/accounts/profile/",
    "/accounts/tokens/",
]


@pytest.mark.parametrize("path", ["/accounts/login/", "/accounts/signup/", "/accounts/password/reset/"])
def test_entrance_pages_use_the_portals_layout_with_labelled_fields(path):
    html = Client().get(path).content.decode()
    assert 'class="topbar"' in html and "css/portal.css" in html
    assert '<div class="field' in html and "<label for=" in html


@pytest.mark.parametrize("path", SIGNED_IN_PAGES)
def test_account_pages_render_for_a_signed_in_user(path):
    client = Client()
    client.force_login(verified(UserFactory(username="pat")))
    response = client.get(path)
    assert response.status_code == 200, path
    assert 'class="topbar"' in response.content.decode()


def test_sign_up_signs_in_and_sends_a_verification_e_mail_and_sign_in_by_address_works():
    client = Client()
    response = client.post(
        "/accounts/signup/",
        {"email": "new@example.com", "password1": "Correct-Horse-7", "password2": "Correct-Horse-7"},
    )
    assert response.status_code == 302 and "_auth_user_id" in client.session
    assert mail.outbox[-1].to == ["new@example.com"] and "/accounts/confirm-email/" in mail.outbox[-1].body
    fresh = Client()
    signed_in = fresh.post("/accounts/login/", {"login": "new@example.com", "password": "Correct-Horse-7"})
    assert signed_in.status_code == 302 and "_auth_user_id" in fresh.session


def test_password_reset_mails_a_branded_link():
    verified(UserFactory(username="pat", email="pat@example.com"))
    response = Client().post("/accounts/password/reset/", {"email": "pat@example.com"})
    assert response.status_code == 302
    assert mail.outbox[-1].to == ["pat@example.com"] and "[App Marketplace]" in mail.outbox[-1].subject
    assert "/accounts/password/reset/key/" in mail.outbox[-1].body


def test_sign_out_says_so():
    client = Client()
    client.force_login(UserFactory(username="pat"))
    page = client.post("/accounts/logout/", follow=True)
    assert "You have signed out." in page.content.decode()
    assert "_auth_user_id" not in client.session
