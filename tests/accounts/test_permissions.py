"""The account rules: a verified address before acting, two-factor where the marketplace requires it."""

from __future__ import annotations

import pytest
from allauth.mfa.models import Authenticator
from django.test import Client

from accounts.permissions import has_verified_email, require_second_factor, require_verified_email
from core.errors import PermissionDenied
from tests.factories import ReviewerFactory, UserFactory, unverified, verified

pytestmark = pytest.mark.django_db


def test_require_verified_email_refuses_unverified_and_address_less_accounts_and_names_the_fix():
    for user in (unverified(UserFactory(username="new")), UserFactory(username="nomail", email="")):
        with pytest.raises(PermissionDenied) as exc:
            require_verified_email(user, action="install an app")
        assert "Verify your e-mail address before you install an app" in exc.value.message
        assert "/accounts/email/" in exc.value.message and exc.value.field == "email"
    assert has_verified_email(verified(UserFactory(username="ok")))
    # An account an administrator made (no address record: nobody typed it at sign-up) is trusted.
    assert has_verified_email(UserFactory(username="made-by-staff"))


def test_second_factor_is_required_only_when_the_setting_says_so(settings):
    user = UserFactory(username="pat")
    settings.MFA_REQUIRED = False
    require_second_factor(user, action="publish a version")
    settings.MFA_REQUIRED = True
    with pytest.raises(PermissionDenied, match="Turn on two-factor authentication before you publish a version"):
        require_second_factor(user, action="publish a version")
    Authenticator.objects.create(user=user, type=Authenticator.Type.TOTP, data={"secret": "x"})
    require_second_factor(user, action="publish a version")


def test_staff_without_a_second_factor_are_sent_to_set_one_up_before_the_admin(settings):
    reviewer = ReviewerFactory(username="rita")
    client = Client()
    client.force_login(reviewer)
    settings.MFA_REQUIRED = False
    assert client.get("/admin/").status_code == 200
    settings.MFA_REQUIRED = True
    response = client.get("/admin/")
    assert response.status_code == 302 and response["Location"] == "/accounts/2fa/"
    page = client.get("/accounts/2fa/")
    assert "The admin needs two-factor authentication" in page.content.decode()
    Authenticator.objects.create(user=reviewer, type=Authenticator.Type.TOTP, data={"secret": "x"})
    assert client.get("/admin/").status_code == 200


def test_production_requires_a_second_factor_by_default():
    import ast
    from pathlib import Path

    source = (Path(__file__).resolve().parents[2] / "config" / "settings" / "production.py").read_text()
    assert 'MFA_REQUIRED = env.bool("MFA_REQUIRED", default=True)' in source
    ast.parse(source)
