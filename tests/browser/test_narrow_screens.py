"""No portal page scrolls sideways on a 390 px phone (#15.5).

Every page the URL resolver knows (the vendor portal, the storefront, the site admin's pages,
consent and invitation links, the account pages) is opened in Chromium at 390 px, pointed at
real objects of a fixture tenant (the authorization matrix's world and ids), by a person who may
see it; the page may be no wider than the screen. The Django admin (the reviewers' desk, at
1366 px) and the API docs (Swagger UI and ReDoc's own layouts) are not portal pages.
"""

from __future__ import annotations

from django.conf import settings
from django.test import Client
from playwright.sync_api import expect

from tests.browser.conftest import SCREENSHOTS
from tests.security.matrix import QUERIES, access_for, fill, page_routes
from tests.security.world import make_catalogue, make_tenant

WIDTH = 390
SKIPPED_PREFIXES = ("admin/", "api/", "healthz", "favicon.ico", "media/", "demo/", "static/")
# Who opens a page: the first role the authorization table lets read it (a signed-in vendor or
# site admin sees the longest navigation).
ROLE_ORDER = ("vendor", "site_admin", "anonymous")


def _routes():
    for route in page_routes():
        if route.route.startswith(SKIPPED_PREFIXES) or route.namespace == "admin" or "(?P<" in route.route:
            continue
        access = access_for(route.namespace, route.name)
        roles = ["anonymous"] if access.redirects else [r for r in ROLE_ORDER if r in access.read]
        if roles:
            yield route, roles[0]


def _client(user) -> Client:
    client = Client(raise_request_exception=False)
    if user is not None:
        client.force_login(user)
    return client


def _session_cookie(client: Client, live_server_url: str) -> dict:
    return {
        "name": settings.SESSION_COOKIE_NAME,
        "value": client.cookies[settings.SESSION_COOKIE_NAME].value,
        "url": live_server_url,
    }


def test_no_portal_page_is_wider_than_a_phone(
    chromium_browser, live_server, transactional_db, django_capture_on_commit_callbacks
):
    make_catalogue()
    victim = make_tenant("alpha", django_capture_on_commit_callbacks)
    people = {"vendor": victim.vendor_user, "site_admin": victim.site_admin}
    contexts, clients = {}, {}
    for role in ROLE_ORDER:
        clients[role] = _client(people.get(role))
        context = chromium_browser.new_context(base_url=live_server.url, viewport={"width": WIDTH, "height": 844})
        context.set_default_timeout(15_000)
        if role in people:
            context.add_cookies([_session_cookie(clients[role], live_server.url)])
        contexts[role] = context.new_page()

    visited, too_wide = [], []
    for route, role in _routes():
        full = f"{route.namespace}:{route.name}" if route.namespace else route.name
        url = fill(route.route, victim) + QUERIES.get(full, "").format(key=victim.listing.key)
        # POST-only routes (405) and what is not a page (a download, a JSON descriptor) are not walked.
        answer = clients[role].get(url, follow=True)
        if answer.status_code == 405 or "text/html" not in answer.get("Content-Type", ""):
            continue
        page = contexts[role]
        response = page.goto(url)
        visited.append(url)
        width = page.evaluate("document.documentElement.scrollWidth")
        if width > WIDTH:
            SCREENSHOTS.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(SCREENSHOTS / f"narrow{url.replace('/', '_')}.png"), full_page=True)
            too_wide.append(f"{url} as {role} ({response.status}): {width}px")

    for page in contexts.values():
        page.context.close()
    assert len(visited) >= 40, visited  # the walk really covered the portal
    assert not too_wide, "\n".join(too_wide)


def test_navigation_folds_behind_menu_on_a_phone(page, transactional_db):
    page.set_viewport_size({"width": WIDTH, "height": 844})
    page.goto("/apps/")
    nav = page.locator("#site-nav")
    expect(nav).to_be_hidden()
    page.click("label.nav-toggle-label")
    expect(nav).to_be_visible()
    expect(nav.get_by_role("link", name="Sign in")).to_be_visible()
    page.set_viewport_size({"width": 1366, "height": 800})
    expect(page.locator("label.nav-toggle-label")).to_be_hidden()
    expect(nav).to_be_visible()
