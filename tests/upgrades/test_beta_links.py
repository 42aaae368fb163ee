"""OCP beta share links: the vendor makes and revokes them, a site admin installs through
one (a fresh install or an upgrade, the press being the consent), every refusal says why
and changes nothing, and later betas reach the installation through the normal rollout."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.conf import settings
from django.core import signing
from django.test import Client
from django.utils import timezone
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from core.errors import ApplicationError, NotFound, TransitionNotAllowed
from tests.factories import (
    HostProductFactory,
    ListingFactory,
    MembershipFactory,
    UserFactory,
    VersionFactory,
)
from tests.upgrades.beta_world import make_beta_world, outsider_site, publish_beta
from upgrades import services
from upgrades.emails import CONSENT_LINK_SALT
from upgrades.models import BetaInstall, BetaShareLink, Installation, Upgrade, UpgradeRequest
from upgrades.share_links import beta_link_path, beta_link_token, beta_link_url
from versions.models import Version

pytestmark = pytest.mark.django_db


@pytest.fixture
def bw(db, catalogue):
    return make_beta_world()


def install(bw, site=None, link=None, actor=None):
    link = link or bw.link()
    return services.beta_install(link_token=beta_link_token(link), site=site or bw.new_site, actor=actor or bw.admin)


def snapshot():
    """Everything an install could change."""
    return (
        sorted(Installation.objects.values_list("pk", "version_id", "state", "license")),
        BetaInstall.objects.count(),
        Upgrade.objects.count(),
        UpgradeRequest.objects.count(),
    )


# --- the vendor's links -----------------------------------------------------------------------


def test_vendor_makes_an_absolute_signed_link_to_a_published_beta(bw):
    link = bw.link(expires_in_days=7)
    assert link.version == bw.beta and link.created_by == bw.vendor_user and link.revoked_at is None
    assert timedelta(days=7) - (link.expires_at - link.created_at) < timedelta(seconds=5)
    url = beta_link_url(link)
    assert url.startswith(settings.PORTAL_BASE_URL + "/upgrades/beta/")
    assert services.beta_link_check(link_token=beta_link_token(link)) == link
    assert bw.link().nonce != link.nonce  # every link is its own row


@pytest.mark.parametrize(
    ("case", "needle"),
    [
        ("release", "Only versions tagged -beta.N"),
        ("in_review", "is in review: a share link can be made once"),
        ("superseded", "is superseded by a newer beta"),
        ("manual", "Share links are for OCP beta versions"),
    ],
)
def test_only_a_published_ocp_beta_gets_a_link(bw, case, needle):
    if case == "release":
        version = bw.world.v1
    elif case == "in_review":
        version = VersionFactory(listing=bw.listing, number="1.1.0-beta.2", channel="beta", state="in_review")
    elif case == "superseded":
        publish_beta(bw.world, "1.1.0-beta.2")
        version = Version.objects.get(pk=bw.beta.pk)
    else:
        listing = ListingFactory(vendor=bw.listing.vendor, scheme="manual")
        version = VersionFactory(listing=listing, number="1.0.0-beta.1", channel="beta", state="published")
    with pytest.raises(ApplicationError) as exc:
        services.beta_share_link_create(version=version, actor=bw.vendor_user)
    assert exc.value.field == "version" and needle in exc.value.message
    assert not BetaShareLink.objects.exists()


@pytest.mark.parametrize("days", [0, 366, "soon", -3, True])
def test_link_lifetime_must_be_1_to_365_days(bw, days):
    with pytest.raises(ApplicationError) as exc:
        bw.link(expires_in_days=days)
    assert exc.value.field == "expires_in_days" and "1 to 365" in exc.value.message
    assert not BetaShareLink.objects.exists()


def test_only_members_of_the_vendor_make_or_revoke_links(bw):
    stranger = MembershipFactory().user  # a member of another vendor
    with pytest.raises(NotFound):
        services.beta_share_link_create(version=bw.beta, actor=stranger)
    link = bw.link()
    with pytest.raises(NotFound):
        services.beta_share_link_revoke(link=link, actor=stranger)
    link.refresh_from_db()
    assert link.revoked_at is None and BetaShareLink.objects.count() == 1


def test_revoking_twice_keeps_the_first_revocation(bw):
    link = bw.link()
    first = services.beta_share_link_revoke(link=link, actor=bw.vendor_user).revoked_at
    assert first is not None
    again = services.beta_share_link_revoke(link=link, actor=bw.vendor_user)
    assert again.revoked_at == first and again.revoked_by == bw.vendor_user


# --- installing ---------------------------------------------------------------------------------


def test_fresh_install_runs_the_beta_with_its_scopes_and_price(db, catalogue):
    bw = make_beta_world(beta_pricing="paid")
    record = install(bw)
    installation = record.installation
    assert installation.site == bw.new_site and installation.version == bw.beta
    assert installation.granted_scopes == ["read:jira-work", "write:jira-work"]
    assert installation.license == "paid" and installation.state == "active"
    assert record.from_version is None and record.upgrade is None
    assert record.installed_by == bw.admin and record.installed_by_email == bw.admin.email
    assert record.granted_scopes == ["read:jira-work", "write:jira-work"] and record.license == "paid"


def test_installing_on_a_site_with_an_older_version_upgrades_it_and_records_the_consent(bw):
    installation = Installation.objects.get(site=bw.old_site)
    UpgradeRequest.objects.create(
        installation=installation, from_version=bw.world.v1, to_version=bw.world.v1, reasons=[]
    )  # something still open for it: the beta replaces it
    record = install(bw, site=bw.old_site)
    installation.refresh_from_db()
    assert installation.version == bw.beta and installation.granted_scopes == ["read:jira-work", "write:jira-work"]
    assert record.from_version == bw.world.v1 and record.consent_reasons == []
    upgrade = record.upgrade
    assert upgrade.state == "applied" and upgrade.approved_by == bw.admin
    assert upgrade.hooks == []  # the app has no hook URLs: nothing called
    assert "beta share link" in upgrade.outcome
    assert UpgradeRequest.objects.get(installation=installation).state == "superseded"


def test_a_major_beta_upgrade_is_recorded_as_an_approved_request(bw):
    major = publish_beta(bw.world, "2.0.0-beta.1")
    link = services.beta_share_link_create(version=major, actor=bw.vendor_user)
    record = install(bw, site=bw.old_site, link=link)
    assert [r["code"] for r in record.consent_reasons] == ["major_upgrade"]
    request = UpgradeRequest.objects.get(installation=record.installation, to_version=major)
    assert request.state == "approved" and request.decided_by == bw.admin
    assert record.upgrade.request == request and record.installation.version == major


def test_pressing_install_twice_installs_once(bw):
    link = bw.link()
    install(bw, link=link)
    before = snapshot()
    with pytest.raises(TransitionNotAllowed) as exc:
        install(bw, link=link)
    assert exc.value.field == "site" and "already runs" in exc.value.message
    assert snapshot() == before and BetaInstall.objects.count() == 1


def test_refusals_change_nothing(bw):
    link = bw.link()
    token = beta_link_token(link)
    before = snapshot()

    def refused(**kwargs):
        with pytest.raises(ApplicationError) as exc:
            services.beta_install(**{"link_token": token, "site": bw.new_site, "actor": bw.admin, **kwargs})
        assert snapshot() == before
        return exc.value

    tampered = refused(link_token=token[:-2] + ("AA" if not token.endswith("AA") else "BB"))
    assert tampered.field == "token" and "changed or cut short" in tampered.message
    # The same payload signed with another salt (the consent e-mails') is no beta link.
    other_salt = signing.Signer(salt=CONSENT_LINK_SALT).sign_object({"l": link.pk, "n": link.nonce.hex})
    assert refused(link_token=other_salt).code == "link_invalid"

    stranger_site = outsider_site()
    assert isinstance(refused(site=stranger_site), NotFound)
    assert isinstance(refused(site=999_999), NotFound)  # an unknown site looks the same
    staff = UserFactory(is_staff=True, is_superuser=True)
    assert isinstance(refused(actor=staff), NotFound)  # staff consent for no customer

    bw.new_site.host_version = "8.0.0"  # outside the next beta's compatibility
    bw.new_site.save()
    incompatible_beta = publish_beta(bw.world, "1.1.0-beta.2", compatibility=[{"product": "jira", "min": "9.0"}])
    incompatible_link = services.beta_share_link_create(version=incompatible_beta, actor=bw.vendor_user)
    before = snapshot()
    error = refused(link_token=beta_link_token(incompatible_link))
    assert error.field == "site" and "does not run on Jira 8.0.0" in error.message

    superseded = refused()  # beta.1 was superseded by beta.2
    assert superseded.field == "version" and "no longer published" in superseded.message


def test_revoked_and_expired_links_install_nothing(bw):
    revoked = bw.link()
    services.beta_share_link_revoke(link=revoked, actor=bw.vendor_user)
    expired = bw.link()
    BetaShareLink.objects.filter(pk=expired.pk).update(expires_at=timezone.now() - timedelta(minutes=1))
    for link, code, words in [(revoked, "link_revoked", "revoked this link"), (expired, "link_expired", "expired on")]:
        with pytest.raises(ApplicationError) as exc:
            install(bw, link=link)
        assert exc.value.code == code and words in exc.value.message
    assert not Installation.objects.filter(site=bw.new_site).exists()


def test_a_site_already_on_a_newer_release_is_refused(bw):
    installation = Installation.objects.get(site=bw.old_site)
    newer = VersionFactory(listing=bw.listing, number="1.2.0", state="superseded")
    Installation.objects.filter(pk=installation.pk).update(version=newer)
    with pytest.raises(TransitionNotAllowed) as exc:
        install(bw, site=bw.old_site)
    assert "runs 1.2.0, newer than" in exc.value.message
    assert Installation.objects.get(pk=installation.pk).version == newer


def test_newer_betas_reach_the_beta_installation_through_the_rollout(bw, django_capture_on_commit_callbacks):
    beta_site_installation = install(bw, site=bw.new_site).installation
    ga_installation = Installation.objects.get(site=bw.old_site)
    with django_capture_on_commit_callbacks(execute=True):
        beta2 = publish_beta(bw.world, "1.1.0-beta.2", scopes=["read:jira-work", "write:jira-work"])
    beta_site_installation.refresh_from_db()
    ga_installation.refresh_from_db()
    assert beta_site_installation.version == beta2  # MINOR/PATCH within the beta: applied automatically
    assert ga_installation.version == bw.world.v1  # not on the beta channel: never offered a beta
    assert Upgrade.objects.get(installation=beta_site_installation, to_version=beta2).state == "applied"

    with django_capture_on_commit_callbacks(execute=True):
        major = publish_beta(bw.world, "2.0.0-beta.1", scopes=["read:jira-work", "write:jira-work"])
    request = UpgradeRequest.objects.get(installation=beta_site_installation, to_version=major)
    assert request.state == "pending" and request.reasons[0]["code"] == "major_upgrade"  # the admin is asked
    assert not UpgradeRequest.objects.filter(installation=ga_installation, to_version=major).exists()


# --- pages ----------------------------------------------------------------------------------------


def vendor_client(bw) -> Client:
    client = Client()
    client.force_login(bw.vendor_user)
    return client


def test_version_page_makes_lists_and_revokes_links(bw):
    client = vendor_client(bw)
    page = client.get(f"/portal/versions/{bw.beta.pk}/").content.decode()
    assert "Beta share links" in page and "Create share link" in page
    response = client.post(f"/portal/versions/{bw.beta.pk}/beta-links/", {"expires_in_days": "10"}, follow=True)
    link = BetaShareLink.objects.get()
    page = response.content.decode()
    assert "Share link made" in page and beta_link_url(link) in page
    install(bw, link=link)
    row = re.search(
        r'<tr data-beta-link="\d+">.*?</tr>', client.get(f"/portal/versions/{bw.beta.pk}/").content.decode(), re.S
    )
    assert 'data-testid="beta-link-installs">1<' in row.group(0) and "Revoke" in row.group(0)
    response = client.post(f"/portal/versions/{bw.beta.pk}/beta-links/{link.pk}/revoke/", follow=True)
    link.refresh_from_db()
    assert link.revoked_at is not None and "Link revoked" in response.content.decode()


def test_version_page_explains_why_no_link_can_be_made(bw):
    client = vendor_client(bw)
    waiting = VersionFactory(listing=bw.listing, number="1.1.0-beta.2", channel="beta", state="in_review")
    page = client.get(f"/portal/versions/{waiting.pk}/").content.decode()
    assert "can be made once the beta is reviewed and published" in page and "Create share link" not in page
    response = client.post(f"/portal/versions/{waiting.pk}/beta-links/", {"expires_in_days": "10"}, follow=True)
    assert "No link made" in response.content.decode() and not BetaShareLink.objects.exists()
    assert "Beta share links" not in client.get(f"/portal/versions/{bw.world.v1.pk}/").content.decode()


def test_another_vendor_cannot_make_or_revoke_links_from_the_portal(bw):
    link = bw.link()
    client = Client()
    client.force_login(MembershipFactory().user)
    assert client.post(f"/portal/versions/{bw.beta.pk}/beta-links/", {"expires_in_days": "5"}).status_code == 404
    assert client.post(f"/portal/versions/{bw.beta.pk}/beta-links/{link.pk}/revoke/").status_code == 404
    link.refresh_from_db()
    assert link.revoked_at is None and BetaShareLink.objects.count() == 1


def test_link_page_shows_the_beta_and_only_the_admins_sites(bw):
    outsider = outsider_site()
    path = beta_link_path(bw.link())
    anonymous = Client().get(path).content.decode()
    assert bw.beta.number in anonymous and "Sign in to install" in anonymous and "Fresh Site" not in anonymous
    client = Client()
    client.force_login(bw.admin)
    before = snapshot()
    page = client.get(path).content.decode()
    assert snapshot() == before  # looking changes nothing
    assert f"{bw.listing.key}@1.1.0-beta.1" in page and "write:jira-work" in page and ">write<" in page
    assert 'data-testid="beta-price">Free<' in page
    assert "Fresh Site" in page and "installs 1.1.0-beta.1" in page
    assert bw.old_site.name in page and "upgrades 1.0.0 to 1.1.0-beta.1" in page
    assert outsider.name not in page


def test_installing_from_the_page_needs_csrf_and_redirects_to_the_site(bw):
    path = beta_link_path(bw.link())
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(bw.admin)
    assert strict.post(path, {"site": bw.new_site.pk}).status_code == 403
    assert not Installation.objects.filter(site=bw.new_site).exists()

    client = Client()
    client.force_login(bw.admin)
    response = client.post(path, {"site": bw.new_site.pk}, follow=True)
    assert response.redirect_chain[-1][0] == f"/upgrades/sites/{bw.new_site.pk}/"
    assert "is installed at 1.1.0-beta.1 on Fresh Site" in response.content.decode()
    again = client.post(path, {"site": bw.new_site.pk})
    assert again.status_code == 409 and "already runs" in again.content.decode()
    assert BetaInstall.objects.count() == 1


def test_page_refusals(bw):
    link = bw.link()
    path = beta_link_path(link)
    client = Client()
    client.force_login(bw.admin)
    before = snapshot()
    assert client.post(path, {"site": outsider_site().pk}).status_code == 404
    assert client.post(path, {"site": ""}).status_code == 400
    assert Client().post(path, {"site": bw.new_site.pk}).status_code == 302  # to the sign-in page
    assert client.get(path[:-3] + "xx/").status_code == 400
    services.beta_share_link_revoke(link=link, actor=bw.vendor_user)
    gone = client.get(path)
    assert gone.status_code == 410 and "revoked this link" in gone.content.decode()
    assert snapshot() == before


# --- API ----------------------------------------------------------------------------------------


def token_client(user) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=user).key}")
    return client


def test_api_vendor_creates_lists_and_revokes(bw):
    client = token_client(bw.vendor_user)
    response = client.post(f"/api/v1/versions/{bw.beta.pk}/beta-links", {"expires_in_days": 3}, format="json")
    assert response.status_code == 201, response.content
    data = response.json()
    assert data["url"].startswith(settings.PORTAL_BASE_URL) and data["status"] == "active" and data["installs"] == 0
    listed = client.get(f"/api/v1/versions/{bw.beta.pk}/beta-links").json()["results"]
    assert [item["id"] for item in listed] == [data["id"]]
    revoked = client.delete(f"/api/v1/versions/{bw.beta.pk}/beta-links/{data['id']}")
    assert revoked.status_code == 200 and revoked.json()["status"] == "revoked"

    refused = client.post(f"/api/v1/versions/{bw.world.v1.pk}/beta-links", {}, format="json")
    assert refused.status_code == 400 and "Only versions tagged -beta.N" in refused.json()["version"][0]
    bad_days = client.post(f"/api/v1/versions/{bw.beta.pk}/beta-links", {"expires_in_days": 999}, format="json")
    assert bad_days.status_code == 400 and "expires_in_days" in bad_days.json()
    other = token_client(MembershipFactory().user)
    assert other.post(f"/api/v1/versions/{bw.beta.pk}/beta-links", {}, format="json").status_code == 404
    assert BetaShareLink.objects.count() == 1


def test_api_site_admin_installs(bw):
    token = beta_link_token(bw.link())
    client = token_client(bw.admin)
    response = client.post("/api/v1/beta-links/install", {"token": token, "site": bw.old_site.pk}, format="json")
    assert response.status_code == 201, response.content
    data = response.json()
    assert data["version"] == "1.1.0-beta.1" and data["from_version"] == "1.0.0" and data["state"] == "active"
    again = client.post("/api/v1/beta-links/install", {"token": token, "site": bw.old_site.pk}, format="json")
    assert again.status_code == 409 and "already runs" in again.json()["site"][0]

    outsider = client.post("/api/v1/beta-links/install", {"token": token, "site": outsider_site().pk}, format="json")
    assert outsider.status_code == 404
    bad = client.post("/api/v1/beta-links/install", {"token": "nope", "site": bw.new_site.pk}, format="json")
    assert bad.status_code == 400 and "token" in bad.json()

    _, raw = services.site_token_create(site=bw.new_site)
    instance = APIClient()
    instance.credentials(HTTP_AUTHORIZATION=f"Site {raw}")
    by_instance = instance.post("/api/v1/beta-links/install", {"token": token, "site": bw.new_site.pk}, format="json")
    assert by_instance.status_code == 403 and "signed-in site admin" in by_instance.json()["detail"]
    assert not Installation.objects.filter(site=bw.new_site).exists()


def test_incompatible_host_product_is_refused_on_the_api(bw):
    confluence_site = bw.new_site
    confluence_site.host_product = HostProductFactory(key="confluence", name="Confluence")
    confluence_site.save()
    beta = publish_beta(bw.world, "1.1.0-beta.2", compatibility=[{"product": "jira"}])
    token = beta_link_token(services.beta_share_link_create(version=beta, actor=bw.vendor_user))
    response = token_client(bw.admin).post(
        "/api/v1/beta-links/install", {"token": token, "site": confluence_site.pk}, format="json"
    )
    assert response.status_code == 400 and "does not run on Confluence" in response.json()["site"][0]


# --- the demo ------------------------------------------------------------------------------------


def test_demo_publishes_a_beta_with_one_link_that_siteadmin_can_use(db):
    from io import StringIO

    from django.contrib.auth import get_user_model
    from django.core.management import call_command

    out = StringIO()
    call_command("seed_demo", stdout=out)
    link = BetaShareLink.objects.get()
    assert link.version.number == "1.1.0-beta.1" and link.version.state == "published"
    assert Version.objects.get(listing=link.version.listing, number="1.1.0-beta.2").state == "in_review"
    assert beta_link_url(link) in out.getvalue()
    counts = (BetaShareLink.objects.count(), Version.objects.count())
    again = StringIO()
    call_command("seed_demo", stdout=again)
    assert (BetaShareLink.objects.count(), Version.objects.count()) == counts
    assert beta_link_url(link) in again.getvalue()  # the same link, shown again

    siteadmin = get_user_model().objects.get(username="siteadmin")
    token = re.search(r"/upgrades/beta/([^/\s]+)/", out.getvalue()).group(1)
    berlin = Installation.objects.get(listing=link.version.listing, site__name="Acme Customer Jira (Berlin)")
    record = services.beta_install(link_token=token, site=berlin.site_id, actor=siteadmin)
    assert record.from_version.number == "1.0.0" and record.installation.version == link.version
    # siteadmin is a member of beta.2 (in review): the private testing channel shows it to them.
    from upgrades.selectors.testing import versions_for_member

    assert [v.number for v in versions_for_member(user=siteadmin)] == ["1.1.0-beta.2"]


def test_a_link_does_not_open_a_private_listing_to_other_sites(bw):
    bw.listing.visibility = "private"
    bw.listing.save()
    bw.listing.allowed_sites.add(bw.old_site)
    link = bw.link()
    client = Client()
    client.force_login(bw.admin)
    page = client.get(beta_link_path(link)).content.decode()
    pk = bw.new_site.pk
    assert f'id="beta-site-{pk}" value="{pk}" disabled' in page
    with pytest.raises(ApplicationError) as exc:
        install(bw, site=bw.new_site, link=link)
    assert exc.value.field == "site" and "private app" in exc.value.message
    assert install(bw, site=bw.old_site, link=link).installation.version == bw.beta  # an allowed site may


def test_a_halted_beta_installs_nothing(bw):
    rollout = services.rollout_start(version_id=bw.beta.pk)
    services.rollout_halt(rollout=rollout, actor=bw.vendor_user)
    with pytest.raises(TransitionNotAllowed) as exc:
        install(bw)
    assert exc.value.field == "version" and "paused" in exc.value.message
    assert not Installation.objects.filter(site=bw.new_site).exists()


def test_the_link_page_says_a_halted_beta_installs_nothing(bw):
    """The page and the install ask the same rule (versions.policies.beta_site_refusal)."""
    from upgrades.selectors.beta import beta_sites_for_user

    rollout = services.rollout_start(version_id=bw.beta.pk)
    services.rollout_halt(rollout=rollout, actor=bw.vendor_user)
    rows = beta_sites_for_user(user=bw.admin, version=bw.beta)
    assert rows and all(row["refusal"] is not None and "paused" in row["refusal"].message for row in rows)


def test_link_page_queries_do_not_grow_with_the_admins_sites(bw):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from tests.factories import SiteAdminFactory, SiteFactory

    path = beta_link_path(bw.link())
    client = Client()
    client.force_login(bw.admin)
    client.get(path)  # warm the scope catalogue cache
    with CaptureQueriesContext(connection) as few:
        assert client.get(path).status_code == 200
    for _ in range(15):
        SiteAdminFactory(site=SiteFactory(host_product=bw.new_site.host_product), user=bw.admin, email=bw.admin.email)
    with CaptureQueriesContext(connection) as many:
        page = client.get(path)
    assert page.content.decode().count('name="site"') == 17
    assert len(many.captured_queries) == len(few.captured_queries), len(few.captured_queries)


def test_site_ids_out_of_range_or_not_ascii_digits_are_refused_with_a_message(bw):
    """10^25 overflows every integer column; "²" passes str.isdigit() and "١" reads as 1 with int()."""
    token = beta_link_token(bw.link())
    api = token_client(bw.admin)
    before = snapshot()
    huge = api.post("/api/v1/beta-links/install", {"token": token, "site": 10**25}, format="json")
    assert huge.status_code == 400 and "site" in huge.json()
    path = beta_link_path(bw.link())
    client = Client()
    client.force_login(bw.admin)
    for value in ("²", "١", str(10**25), "-1"):
        response = client.post(path, {"site": value})
        assert response.status_code in (400, 404), (value, response.status_code)
    assert snapshot() == before


def test_a_yanked_beta_installs_by_no_link(bw):
    """Issue #16: a yanked version is installable by nobody, share links included; un-yanked, the link works."""
    from versions.services.yanks import version_unyank, version_yank

    link = bw.link()
    version_yank(version=bw.beta, actor=bw.vendor_user, reason="Loses sync state.")
    with pytest.raises(ApplicationError) as exc:
        install(bw, link=link)
    assert exc.value.code == "version_yanked" and "Loses sync state." in exc.value.message
    assert not Installation.objects.filter(site=bw.new_site).exists()
    version_unyank(version=bw.beta, actor=bw.vendor_user)
    install(bw, link=link)
    assert Installation.objects.get(site=bw.new_site).version == bw.beta
