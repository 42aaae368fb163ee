"""Install, disable, enable, uninstall and licences (upgrades.services.installs), and the one
host rule on the beta link path."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from core.errors import ApplicationError, Conflict, NotFound, PermissionDenied, TransitionNotAllowed
from core.models import AuditEvent
from tests.factories import HostProductFactory, SiteAdminFactory, SiteFactory, UserFactory
from tests.storefront.world import make_store, publish, store_listing
from tests.upgrades.beta_world import make_beta_world
from upgrades import services
from upgrades.models import Installation, Licence, Upgrade, UpgradeRequest
from upgrades.share_links import beta_link_token

pytestmark = pytest.mark.django_db


@pytest.fixture
def store(db):
    return make_store()


def install(store, key="timesheets-pro", site=None):
    return services.installation_install(site_id=(site or store.jira_site).pk, listing_key=key, actor=store.admin)


def actions(installation) -> list[tuple[str, str, str]]:
    return list(
        AuditEvent.objects.filter(object_type="upgrades.installation", object_id=installation.pk)
        .order_by("pk")
        .values_list("action", "from_state", "to_state")
    )


def test_staff_who_do_not_administer_the_site_may_not_install(store):
    staff = UserFactory(is_staff=True)
    with pytest.raises(PermissionDenied):
        services.installation_install(site_id=store.jira_site.pk, listing_key="timesheets-pro", actor=staff)
    assert not Installation.objects.exists()


def test_a_listing_the_site_may_not_see_is_not_found(store):
    private = store_listing("Private App", products=[store.jira], visibility="private")
    publish(private)
    with pytest.raises(NotFound, match="No app 'private-app' is available to Customer Jira"):
        install(store, "private-app")
    private.allowed_sites.add(store.jira_site)
    assert install(store, "private-app").state == "active"


def test_disable_enable_and_uninstall_each_write_their_row(store):
    installation = install(store)
    ids = {"site_id": store.jira_site.pk, "installation_id": installation.pk, "actor": store.admin}
    assert services.installation_disable(**ids).state == "disabled"
    with pytest.raises(Conflict, match="already disabled"):
        services.installation_disable(**ids)
    assert services.installation_enable(**ids).state == "active"
    with pytest.raises(Conflict, match="is not disabled"):
        services.installation_enable(**ids)
    assert services.installation_uninstall(**ids).state == "uninstalled"
    with pytest.raises(Conflict, match="is not installed on this site; nothing changed"):
        services.installation_uninstall(**ids)
    assert actions(installation) == [
        ("installation.install", "", "active"),
        ("installation.disable", "active", "disabled"),
        ("installation.enable", "disabled", "active"),
        ("installation.uninstall", "active", "uninstalled"),
    ]


def test_uninstall_ends_open_requests_and_scheduled_upgrades_and_keeps_the_row(store):
    installation = install(store)
    v2 = publish(store.timesheets, number="2.0.0", channel="next")
    request = UpgradeRequest.objects.create(
        installation=installation, from_version=installation.version, to_version=v2, reasons=[]
    )
    upgrade = Upgrade.objects.create(
        installation=installation, from_version=installation.version, to_version=v2, due_at=timezone.now()
    )
    services.installation_uninstall(site_id=store.jira_site.pk, installation_id=installation.pk, actor=store.admin)
    request.refresh_from_db()
    upgrade.refresh_from_db()
    assert request.state == "superseded" and upgrade.state == "superseded"
    assert Installation.objects.filter(pk=installation.pk, state="uninstalled").exists()
    # Installing again reuses the row (its history stays) and starts from the current release.
    again = install(store)
    assert again.pk == installation.pk and again.state == "active"
    assert actions(installation)[-1] == ("installation.install", "uninstalled", "active")


def test_another_sites_installation_is_not_found(store):
    installation = install(store)
    intruder = UserFactory()
    SiteAdminFactory(site=store.other_site, user=intruder)
    with pytest.raises(NotFound):
        services.installation_uninstall(site_id=store.other_site.pk, installation_id=installation.pk, actor=intruder)
    with pytest.raises(NotFound):
        services.installation_uninstall(site_id=store.jira_site.pk, installation_id=installation.pk, actor=intruder)
    installation.refresh_from_db()
    assert installation.state == "active"


# --- licences -----------------------------------------------------------------------------------


@pytest.fixture
def paid(store):
    listing = store_listing("Paid Reports", products=[store.jira], pricing="paid")
    publish(listing, pricing="paid")
    return install(store, "paid-reports")


def test_an_expired_trial_disables_the_app_until_the_licence_is_bought(store, paid):
    licence = Licence.objects.get(installation=paid)
    later = licence.expires_at + timedelta(seconds=1)
    assert services.licences_expire(now=later) == 1
    assert services.licences_expire(now=later) == 0  # twice changes nothing
    paid.refresh_from_db()
    licence.refresh_from_db()
    assert licence.state == "expired" and paid.state == "disabled" and paid.disabled_reason == "licence_expired"
    ids = {"site_id": store.jira_site.pk, "installation_id": paid.pk, "actor": store.admin}
    with pytest.raises(TransitionNotAllowed, match="licence has expired: buy the licence"):
        services.installation_enable(**ids)
    licence = services.licence_buy(**ids)
    paid.refresh_from_db()
    assert licence.state == "active" and (licence.expires_at - licence.started_at).days == 365
    assert paid.state == "active" and paid.disabled_reason == ""
    assert AuditEvent.objects.filter(object_type="upgrades.licence", action="licence.expire").count() == 1


def test_uninstalling_a_paid_app_cancels_its_licence_and_a_reinstall_keeps_the_one_trial(store, paid):
    ids = {"site_id": store.jira_site.pk, "installation_id": paid.pk, "actor": store.admin}
    services.installation_uninstall(**ids)
    licence = Licence.objects.get(installation=paid)
    assert licence.state == "cancelled"
    install(store, "paid-reports")
    licence.refresh_from_db()
    assert licence.state == "trial"  # within the first trial's dates: it goes on
    services.installation_uninstall(**ids)
    now = timezone.now()
    Licence.objects.filter(pk=licence.pk).update(
        started_at=now - timedelta(days=31), expires_at=now - timedelta(days=1)
    )
    again = install(store, "paid-reports")
    licence.refresh_from_db()
    assert licence.state == "expired" and again.state == "disabled" and again.disabled_reason == "licence_expired"


def test_a_free_app_has_no_licence_to_buy(store):
    installation = install(store)
    with pytest.raises(Conflict, match="is free"):
        services.licence_buy(site_id=store.jira_site.pk, installation_id=installation.pk, actor=store.admin)


# --- the host rule on the beta link path -----------------------------------------------------------


def test_a_beta_link_does_not_install_a_jira_only_app_on_a_confluence_site(db):
    bw = make_beta_world()
    jira = bw.old_site.host_product
    bw.world.listing.host_products.set([jira])
    confluence = HostProductFactory(key="confluence", name="Confluence")
    wiki = SiteFactory(name="Team Wiki", host_product=confluence, host_version="8.5.0")
    SiteAdminFactory(site=wiki, user=bw.admin, email=bw.admin.email)
    link = services.beta_share_link_create(version=bw.beta, actor=bw.world.vendor_user)
    with pytest.raises(ApplicationError, match="runs on Jira, not on Confluence \\(Team Wiki\\); nothing changed"):
        services.beta_install(link_token=beta_link_token(link), site=wiki, actor=bw.admin)
    assert not Installation.objects.filter(site=wiki).exists()


# --- a free app that becomes paid ------------------------------------------------------------------


def test_rejecting_a_free_apps_move_to_paid_disables_it_until_the_price_is_accepted(
    world, django_capture_on_commit_callbacks
):
    from tests.upgrades.world import publish as publish_version

    v2 = publish_version(world, "2.0.0", django_capture_on_commit_callbacks, pricing="paid")
    installation = world.installations[0]
    request = UpgradeRequest.objects.get(installation=installation)
    admin = world.admins[0].user
    services.upgrade_request_reject(request_id=request.pk, actor=admin)
    installation.refresh_from_db()
    assert installation.state == "disabled" and installation.disabled_reason == "paid_not_accepted"
    assert installation.version == world.v1
    ids = {"site_id": installation.site_id, "installation_id": installation.pk, "actor": admin}
    with pytest.raises(TransitionNotAllowed, match="is now a paid app: accept its price"):
        services.installation_enable(**ids)
    with django_capture_on_commit_callbacks(execute=True):
        services.installation_accept_price(**ids)
    installation.refresh_from_db()
    assert installation.state == "active" and installation.version == v2 and installation.license == "paid"
    assert Licence.objects.get(installation=installation).state == "trial"
    with pytest.raises(Conflict, match="no price waiting"):
        services.installation_accept_price(**ids)


def test_install_disable_enable_and_uninstall_each_tell_the_app(store):
    """The storefront's services send the app's signed lifecycle callbacks (the app contract)."""
    from marketplace.models import Listing
    from upgrades.models import Delivery

    Listing.objects.filter(key="timesheets-pro").update(
        lifecycle_urls={
            event: f"https://app.example.com/{event}" for event in ("installed", "uninstalled", "enabled", "disabled")
        }
    )
    installation = install(store)
    ids = {"site_id": store.jira_site.pk, "installation_id": installation.pk, "actor": store.admin}
    services.installation_disable(**ids)
    services.installation_enable(**ids)
    services.installation_uninstall(**ids)
    deliveries = Delivery.objects.filter(installation=installation).order_by("pk")
    assert [d.event for d in deliveries] == ["installed", "disabled", "enabled", "uninstalled"]
    assert all(d.url == f"https://app.example.com/{d.event}" for d in deliveries)
    installation.refresh_from_db()
    assert installation.shared_secret  # made on install, signs every later call


def test_an_unverified_address_may_not_install_until_it_is_verified(store):
    from tests.factories import unverified, verified

    unverified(store.admin)
    with pytest.raises(PermissionDenied) as exc:
        install(store)
    assert exc.value.field == "email" and "Verify your e-mail address before you install an app" in exc.value.message
    assert not Installation.objects.exists()
    verified(store.admin)
    assert install(store).state == "active"
