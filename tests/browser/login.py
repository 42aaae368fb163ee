"""Signing in the way a person does, for the browser tests."""

from __future__ import annotations


def login(page, username: str, password: str, next_url: str = "/portal/") -> None:
    """Sign in through the real login form (allauth's: user name or e-mail address)."""
    page.goto(f"/accounts/login/?next={next_url}")
    page.fill("#id_login", username)
    page.fill("#id_password", password)
    with page.expect_navigation():
        page.click("button[type=submit]")
    # The next page's deferred scripts have run before a test types into it (no race under load).
    page.wait_for_load_state("load")
