"""The e-mailed consent link and the site admin's pages."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.conf import settings
from django.core import mail, signing
from django.test import Client
from django.urls import reverse

from tests.factories import UserFactory
from upgrades.emails import CONSENT_LINK_SALT
from upgrades.models import ConsentLink, Installation, Rollout, SiteAdmin, Upgrade, UpgradeRequest

pytestmark = pytest.mark.django_db
LINK_RE = re.compile(r"https?://\S+/upgrades/consent/\S+/")


@pytest.fixture
def pending(world, django_capture_on_commit_callbacks):
    """A consent request on the first site, with the e-mail its admin received."""
    with django_capture_on_commit_callbacks(execute=True):
        v2 = world.publish("1.1.0", scopes=["read:jira-work", "write:jira-work"], pricing="paid")
    installation = world.installations[0]
    request = UpgradeRequest.objects.get(installation=installation)
    admin = world.admins[0]
    [message] = [m for m in mail.outbox if m.to == [admin.email]]
    url = LINK_RE.search(message.body).group(0)
    assert url.startswith(settings.PORTAL_BASE_URL)  # absolute links
    path = url[len(settings.PORTAL_BASE_URL) :]
    return {"world": world, "v2": v2, "request": request, "admin": admin, "path": path, "installation": installation}


def _csrf_client() -> Client:
    return Client(enforce_csrf_checks=True)


def _post(client: Client, path: str, action: str):
    page = client.get(path)
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.content.decode())
    if token is None:  # an error page has no form: post as a browser holding a valid CSRF token would
        return Client().post(path, {"action": action})
    return client.post(path, {"action": action, "csrfmiddlewaretoken": token.group(1)})


def _state(pending):
    pending["request"].refresh_from_db()
    installation = Installation.objects.get(pk=pending["installation"].pk)
    return pending["request"].state, installation.version.number


def test_get_shows_exactly_what_changes_and_changes_nothing(pending):
    client = _csrf_client()
    for _ in range(3):  # a mail scanner prefetching the link, then the admin
        response = client.get(pending["path"])
    assert response.status_code == 200
    html = response.content.decode()
    assert "write:jira-work" in html and "write</span>" in html  # added scope with its sensitivity
    assert "free -&gt; paid" in html
    assert "1.0.0" in html and "1.1.0" in html
    assert 'name="action" value="approve"' in html and "csrfmiddlewaretoken" in html
    assert _state(pending) == ("pending", "1.0.0")
    assert ConsentLink.objects.get(email=pending["admin"].email).used_at is None


def test_post_approve_upgrades_and_records_the_approver(pending):
    response = _post(_csrf_client(), pending["path"], "approve")
    assert response.status_code == 200
    assert "now runs <strong>1.1.0</strong>" in response.content.decode()
    assert _state(pending) == ("approved", "1.1.0")
    assert pending["request"].decided_by_email == pending["admin"].email
    upgrade = Upgrade.objects.get(request=pending["request"])
    assert upgrade.state == "applied"


def test_post_reject_keeps_the_old_version(pending):
    response = _post(_csrf_client(), pending["path"], "reject")
    assert response.status_code == 200 and "keeps" in response.content.decode()
    assert _state(pending) == ("rejected", "1.0.0")


def test_post_without_csrf_is_refused(pending):
    response = _csrf_client().post(pending["path"], {"action": "approve"})
    assert response.status_code == 403
    assert _state(pending) == ("pending", "1.0.0")


def test_double_click_approve_applies_once(pending):
    client = _csrf_client()
    page = client.get(pending["path"]).content.decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
    first = client.post(pending["path"], {"action": "approve", "csrfmiddlewaretoken": token})
    second = client.post(pending["path"], {"action": "approve", "csrfmiddlewaretoken": token})
    assert first.status_code == 200 and second.status_code == 409
    assert "already used" in second.content.decode()
    assert Upgrade.objects.filter(request=pending["request"]).count() == 1
    assert _state(pending) == ("approved", "1.1.0")


def test_replayed_link_after_reject_cannot_approve(pending):
    client = _csrf_client()
    _post(client, pending["path"], "reject")
    page = client.get(pending["path"])
    assert page.status_code == 409 and "already rejected" in page.content.decode()
    token = client.cookies["csrftoken"].value
    again = client.post(pending["path"], {"action": "approve", "csrfmiddlewaretoken": token})
    assert again.status_code == 409
    assert _state(pending) == ("rejected", "1.0.0")


def test_another_admin_link_after_a_decision_says_who_decided(db, catalogue, django_capture_on_commit_callbacks):
    from tests.upgrades.world import make_world

    world = make_world(sites=1, admins_per_site=2)
    with django_capture_on_commit_callbacks(execute=True):
        world.publish("1.1.0", scopes=["read:jira-work", "write:jira-work"])
    paths = [LINK_RE.search(m.body).group(0)[len(settings.PORTAL_BASE_URL) :] for m in mail.outbox]
    assert len(paths) == 2
    _post(_csrf_client(), paths[0], "approve")
    second = _post(_csrf_client(), paths[1], "approve")
    assert second.status_code == 409 and "already approved by" in second.content.decode()


@pytest.mark.parametrize(
    ("mangle", "status", "message"),
    [
        (lambda p: p[:-6] + "AAAAA/", 400, "it was changed or cut short"),
        (lambda p: p.replace(p.split("/")[-2], p.split("/")[-2][:20]), 400, "it was changed or cut short"),
    ],
)
def test_tampered_tokens_are_refused(pending, mangle, status, message):
    response = _post(_csrf_client(), mangle(pending["path"]), "approve")
    assert response.status_code == status and message in response.content.decode()
    assert _state(pending) == ("pending", "1.0.0")


def test_expired_link_is_refused(pending, settings):
    settings.UPGRADE_LINK_MAX_AGE = timedelta(seconds=-1)
    client = _csrf_client()
    response = client.get(pending["path"])
    assert response.status_code == 410 and "expired" in response.content.decode()
    response = client.post(pending["path"], {"action": "approve"})
    assert response.status_code in (403, 410)
    assert _state(pending) == ("pending", "1.0.0")


def test_token_of_another_request_is_refused(pending):
    other = UpgradeRequest.objects.exclude(pk=pending["request"].pk).first()
    token = pending["path"].rstrip("/").split("/")[-1]
    path = reverse("upgrades:consent", args=[other.pk, token])
    response = _post(_csrf_client(), path, "approve")
    assert response.status_code == 400 and "different upgrade request" in response.content.decode()
    other.refresh_from_db()
    assert other.state == "pending"


def test_wrong_recipient_is_refused(pending):
    link = ConsentLink.objects.get(email=pending["admin"].email)
    forged = signing.dumps(
        {"l": link.nonce.hex, "r": link.request_id, "e": "mallory@example.com"}, salt=CONSENT_LINK_SALT
    )
    response = _post(_csrf_client(), reverse("upgrades:consent", args=[link.request_id, forged]), "approve")
    assert response.status_code == 400 and "issued to another recipient" in response.content.decode()
    # A recipient who is no longer an admin of the site can't use their link either.
    SiteAdmin.objects.filter(email=pending["admin"].email).delete()
    response = _post(_csrf_client(), pending["path"], "approve")
    assert response.status_code == 400 and "no longer an admin" in response.content.decode()
    assert _state(pending) == ("pending", "1.0.0")


def test_token_signed_with_another_salt_is_refused(pending):
    link = ConsentLink.objects.get(email=pending["admin"].email)
    foreign = signing.dumps({"l": link.nonce.hex, "r": link.request_id, "e": link.email}, salt="something-else")
    response = _csrf_client().get(reverse("upgrades:consent", args=[link.request_id, foreign]))
    assert response.status_code == 400
    assert _state(pending) == ("pending", "1.0.0")


def test_site_admin_pages(pending):
    client = Client()
    user = pending["admin"].user
    client.force_login(user)
    sites = client.get(reverse("upgrades:sites"))
    assert sites.status_code == 200 and pending["world"].listing.name in sites.content.decode()
    site_page = client.get(reverse("upgrades:site", args=[pending["installation"].site_id]))
    assert site_page.status_code == 200 and "1.1.0" in site_page.content.decode()
    detail = client.get(reverse("upgrades:request", args=[pending["request"].pk]))
    assert detail.status_code == 200 and "write:jira-work" in detail.content.decode()
    response = client.post(reverse("upgrades:request", args=[pending["request"].pk]), {"action": "approve"})
    assert response.status_code == 302
    assert _state(pending) == ("approved", "1.1.0")


def test_site_pages_hide_other_sites(pending):
    client = Client()
    client.force_login(UserFactory())
    assert client.get(reverse("upgrades:site", args=[pending["installation"].site_id])).status_code == 404
    assert client.get(reverse("upgrades:request", args=[pending["request"].pk])).status_code == 404
    client.post(reverse("upgrades:request", args=[pending["request"].pk]), {"action": "approve"})
    assert _state(pending) == ("pending", "1.0.0")


def test_vendor_rollout_page_and_halt_resume(pending):
    world = pending["world"]
    rollout = Rollout.objects.get(version=pending["v2"])
    client = Client()
    client.force_login(world.vendor_user)
    page = client.get(reverse("upgrades:listing-rollouts", args=[world.listing.key]))
    html = page.content.decode()
    assert page.status_code == 200 and 'Awaiting consent: 3 <span class="muted">(100.0%)</span>' in html
    assert "<td>1.0.0</td><td>3</td><td>100.0%</td>" in html  # adoption: 3 installations on 1.0.0
    assert '<svg class="chart"' in html and "Installations per version" in html  # versions over time
    Rollout.objects.filter(pk=rollout.pk).update(state="running")
    page = client.get(reverse("upgrades:listing-rollouts", args=[world.listing.key]))
    assert f'action="/upgrades/rollouts/{rollout.pk}/halt/"' in page.content.decode()  # Halt lives here
    client.post(reverse("upgrades:rollout-halt", args=[rollout.pk]))
    rollout.refresh_from_db()
    assert rollout.state == "halted"
    stranger = Client()
    stranger.force_login(UserFactory())
    assert stranger.post(reverse("upgrades:rollout-resume", args=[rollout.pk])).status_code == 404
    client.post(reverse("upgrades:rollout-resume", args=[rollout.pk]))
    rollout.refresh_from_db()
    assert rollout.state in ("running", "completed")


def test_rollout_progress_tag_renders_for_the_listing_page(pending):
    from django.template import Context, Template

    html = Template("{% load upgrades_tags %}{% rollout_progress listing %}").render(
        Context({"listing": pending["world"].listing})
    )
    assert "Rollouts" in html and "Awaiting consent: 3" in html and "Versions in use" in html
    assert f"/upgrades/listings/{pending['world'].listing.key}/rollouts/" in html


def test_vendor_listing_page_shows_rollout_progress_and_adoption(pending):
    world = pending["world"]
    client = Client()
    client.force_login(world.vendor_user)
    response = client.get(f"/portal/listings/{world.listing.key}/")
    html = response.content.decode()
    assert response.status_code == 200
    assert 'Awaiting consent: 3 <span class="muted">(100.0%)</span>' in html
    assert 'class="adoption"' in html and "<td>1.0.0</td><td>3</td>" in html
    # The listing page links to the rollouts page, where Halt and Resume live.
    assert f'href="/upgrades/listings/{world.listing.key}/rollouts/"' in html and "/halt/" not in html


def test_site_admin_changes_settings_and_bad_input_changes_nothing(pending):
    site = pending["installation"].site
    client = Client()
    client.force_login(pending["admin"].user)
    url = reverse("upgrades:site-settings", args=[site.pk])
    response = client.post(url, {"maintenance_windows": "Sunday 01:00-05:00"})
    assert response.status_code == 302
    site.refresh_from_db()
    assert site.auto_update is False and site.maintenance_windows == [{"weekday": 6, "start": "01:00", "end": "05:00"}]
    bad = client.post(url, {"auto_update": "on", "maintenance_windows": "Sunday 05:00-05:00"})
    assert bad.status_code == 400 and "start and end are the same time" in bad.content.decode()
    site.refresh_from_db()
    assert site.auto_update is False and len(site.maintenance_windows) == 1
    stranger = Client()
    stranger.force_login(UserFactory())
    assert stranger.post(url, {"auto_update": "on"}).status_code == 404
    site.refresh_from_db()
    assert site.auto_update is False


# --- private testing: a version's members (issue 10, item 5) -------------------------------------


def _member_world(world):
    """A version in review whose members include the first site's admin."""
    from tests.factories import VersionFactory

    admin = world.admins[0]
    version = VersionFactory(
        listing=world.listing,
        number="2.0.0",
        state="in_review",
        scopes=["read:jira-work"],
        members=[admin.email.lower()],
        update_notes="The new timer.",
    )
    return admin, version


def test_a_member_sees_the_version_on_the_sites_page_and_installs_it(world):
    admin, version = _member_world(world)
    client = _csrf_client()
    client.force_login(admin.user)
    listing_page = client.get(reverse("upgrades:sites")).content.decode()
    page_url = reverse("upgrades:tested-version", args=[version.pk])
    assert page_url in listing_page and "2.0.0" in listing_page
    response = client.get(page_url)
    html = response.content.decode()
    assert response.status_code == 200 and "The new timer." in html and "In review".lower() in html
    assert "upgrades 1.0.0 to 2.0.0" in html
    # A missing or foreign site: the message is next to the site choice, nothing changes.
    token = response.cookies["csrftoken"].value
    response = client.post(page_url, {"site": "²", "csrfmiddlewaretoken": token})
    assert response.status_code == 400 and "Site: choose one of your sites" in response.content.decode()
    response = client.post(page_url, {"site": str(world.sites[1].pk), "csrfmiddlewaretoken": token})
    assert response.status_code == 404 and "No such site among the sites you administer" in response.content.decode()
    assert Installation.objects.get(pk=world.installations[1].pk).version == world.v1
    response = client.post(page_url, {"site": str(world.sites[0].pk), "csrfmiddlewaretoken": token}, follow=True)
    assert "runs on" in response.content.decode()
    assert "under test</span>" in response.content.decode()  # the site's page marks the unpublished version
    assert Installation.objects.get(pk=world.installations[0].pk).version == version


def test_nobody_but_a_member_sees_the_version(world):
    _, version = _member_world(world)
    page_url = reverse("upgrades:tested-version", args=[version.pk])
    for user in (world.admins[1].user, world.vendor_user, UserFactory(is_staff=True, is_superuser=True)):
        client = Client()
        client.force_login(user)
        assert version.number not in client.get(reverse("upgrades:sites")).content.decode()
        response = client.get(page_url)
        assert response.status_code == 404 and "2.0.0" not in response.content.decode()
        assert client.post(page_url, {"site": str(world.sites[0].pk)}).status_code == 404
    assert Installation.objects.get(pk=world.installations[0].pk).version == world.v1
    assert Client().get(page_url).status_code == 302  # sign in first


def test_the_vendor_sees_how_many_test_sites_run_the_version(world):
    admin, version = _member_world(world)
    from upgrades.services import member_install

    member_install(version_id=version.pk, site=world.sites[0].pk, actor=admin.user)
    client = Client()
    client.force_login(world.vendor_user)
    html = client.get(reverse("portal:version-detail", args=[version.pk])).content.decode()
    assert "It runs on 1 of their site," in html and world.sites[0].name not in html


# --- human words (#15 item 6) -------------------------------------------------------------------


def test_the_consent_page_says_what_each_added_scope_lets_the_app_do(pending):
    from marketplace.models import Scope

    Scope.objects.filter(name="write:jira-work").update(description="Create and edit issues and worklogs")
    html = _csrf_client().get(pending["path"]).content.decode()
    assert "Create and edit issues and worklogs <code" in html


def test_the_site_page_shows_app_states_in_words_with_zoned_times(pending):
    client = Client()
    client.force_login(pending["admin"].user)
    html = client.get(reverse("upgrades:site", args=[pending["installation"].site_id])).content.decode()
    assert "Running, an update waits for you" in html
    assert ">pending_consent<" not in html and "pending_consent</span>" not in html
