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


def _current_code(secret: str) -> str:
    from allauth.mfa.totp.internal.auth import format_hotp_value, hotp_value, yield_hotp_counters_from_time

    return format_hotp_value(hotp_value(secret, next(iter(yield_hotp_counters_from_time()))))


def test_a_reviewer_turns_on_totp_through_the_pages_then_reaches_the_admin_and_signs_in_with_a_code(settings):
    from tests.factories import ReviewerFactory

    settings.MFA_REQUIRED = True
    settings.MFA_TOTP_TOLERANCE = 1  # a code computed at the end of its 30 s window is still accepted
    verified(ReviewerFactory(username="rita", email="rita@example.com"))
    client = Client()
    assert client.post("/accounts/login/", {"login": "rita", "password": "pass"}).status_code == 302
    assert client.get("/admin/")["Location"] == "/accounts/2fa/"
    # allauth asks for the password again before a security change.
    assert client.get("/accounts/2fa/totp/activate/")["Location"].startswith("/accounts/reauthenticate/")
    assert client.post("/accounts/reauthenticate/", {"password": "pass"}).status_code == 302
    page = client.get("/accounts/2fa/totp/activate/")
    assert page.status_code == 200
    secret = page.context["form"].secret
    wrong = client.post(
        "/accounts/2fa/totp/activate/", {"code": "000000" if _current_code(secret) != "000000" else "111111"}
    )
    assert wrong.status_code == 200 and "Incorrect code" in wrong.content.decode()
    assert client.post("/accounts/2fa/totp/activate/", {"code": _current_code(secret)}).status_code == 302
    assert client.get("/admin/").status_code == 200

    # Signing in again now asks for the second factor before the session is made.
    fresh = Client()
    step = fresh.post("/accounts/login/", {"login": "rita", "password": "pass"})
    assert step["Location"] == "/accounts/2fa/authenticate/" and "_auth_user_id" not in fresh.session
    refused = fresh.post("/accounts/2fa/authenticate/", {"code": "12345x"})
    assert refused.status_code == 200 and "_auth_user_id" not in fresh.session
    assert fresh.post("/accounts/2fa/authenticate/", {"code": _current_code(secret)}).status_code == 302
    assert "_auth_user_id" in fresh.session
