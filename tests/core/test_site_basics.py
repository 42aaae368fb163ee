"""The basics of a finished site: branded 404, 403 and 500 pages with DEBUG off, a favicon, a skip
link, a message after signing out, password reset reachable from sign-in with branded pages and
mail, and the API docs (Swagger UI and ReDoc) from our own static files."""

from __future__ import annotations

import re

import pytest
from django.core import mail
from django.test import Client

from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def production_errors(settings):
    settings.DEBUG = False
    settings.ALLOWED_HOSTS = ["testserver"]


def test_unknown_page_is_the_branded_404(production_errors):
    response = Client().get("/no/such/page/")
    html = response.content.decode()
    assert response.status_code == 404
    assert 'data-testid="error-404"' in html and "Page not found" in html and "/no/such/page/" in html
    assert 'class="brand"' in html and 'class="skip-link"' in html  # the portal's own layout


@pytest.mark.urls("tests.core.error_urls")
def test_refused_and_failed_requests_get_branded_403_and_500(production_errors):
    refused = Client().get("/test-errors/refuse/")
    assert refused.status_code == 403 and 'data-testid="error-403"' in refused.content.decode()
    assert "Sign in" in refused.content.decode()

    failed = Client(raise_request_exception=False).get("/test-errors/fail/")
    html = failed.content.decode()
    assert failed.status_code == 500 and 'data-testid="error-500"' in html and "Something went wrong" in html
    assert "boom" not in html and "Traceback" not in html


def test_favicon_is_linked_and_favicon_ico_leads_to_it():
    html = Client().get("/").content.decode()
    href = re.search(r'<link rel="icon" href="([^"]+)"', html).group(1)
    assert href.endswith("favicon.svg")
    response = Client().get("/favicon.ico")
    assert response.status_code == 302 and response["Location"] == href


def test_skip_link_leads_to_the_main_content():
    html = Client().get("/apps/").content.decode()
    assert html.index('<a class="skip-link" href="#main">') < html.index('<header class="topbar">')
    assert '<main id="main"' in html


def test_signing_out_says_so():
    user = UserFactory(username="leaving", password="pass-word-1")
    client = Client()
    client.force_login(user)
    response = client.post("/accounts/logout/", follow=True)
    assert "You have signed out." in response.content.decode()


def test_forgot_password_link_and_branded_reset_pages_and_mail(settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    UserFactory(username="forgetful", email="forgetful@example.com")
    sign_in = Client().get("/accounts/login/").content.decode()
    assert '<a href="/accounts/password/reset/">Forgot your password?</a>' in sign_in
    reset = Client().get("/accounts/password/reset/").content.decode()
    assert 'class="brand"' in reset and "App Marketplace" in reset
    Client().post("/accounts/password/reset/", {"email": "forgetful@example.com"})
    [message] = mail.outbox
    assert message.subject.startswith("[App Marketplace]")
    assert message.body.startswith("Hello from App Marketplace!") and "/accounts/password/reset/key/" in message.body


def test_api_docs_pages_use_only_our_own_static_files():
    for path in ("/api/docs/", "/api/redoc/"):
        html = Client().get(path).content.decode()
        sources = re.findall(r'(?:src|href)="([^"]+)"', html)
        assert sources and all(s.startswith("/") for s in sources), (path, sources)  # no CDN, no web fonts
        assert "<script>" not in html  # no inline script (CSP)
    assert "redoc.standalone.js" in Client().get("/api/redoc/").content.decode()
