"""Who decides for a customer site: only its own admins. Marketplace staff (reviewers,
superusers) may see every site but decide for none; an e-mailed link decides as its
recipient, whoever's browser opens it; ids of other sites' installations reveal nothing."""

from __future__ import annotations

import re

import pytest
from django.core import mail
from django.urls import reverse

from core.errors import NotFound, PermissionDenied
from tests.factories import HostProductFactory, ReviewerFactory, UserFactory
from tests.upgrades.world import make_world
from upgrades import services
from upgrades.models import Installation, RequestState, Site, UpgradeRequest
from upgrades.permissions import require_site_admin

pytestmark = pytest.mark.django_db

CONSENT_PATH = re.compile(r"https?://[^/\s]+(/upgrades/consent/(\d+)/(\S+)/)")


@pytest.fixture
def consent_world(catalogue, django_capture_on_commit_callbacks):
    world = make_world(sites=2)
    with django_capture_on_commit_callbacks(execute=True):
        world.publish("1.1.0", scopes=["read:jira-work", "write:jira-work"])
    return world


def _staff_users(world):
    reviewer = ReviewerFactory()
    superuser = UserFactory(username="root", is_staff=True, is_superuser=True)
    # A reviewer who develops the app in question is no site admin either.
    developer_reviewer = ReviewerFactory()
    developer_reviewer.vendor_memberships.create(vendor=world.listing.vendor, role="developer")
    return [reviewer, superuser, developer_reviewer]


def test_staff_who_are_not_site_admins_are_refused_and_told_why(consent_world):
    site = consent_world.sites[0]
    for staff in _staff_users(consent_world):
        with pytest.raises(PermissionDenied) as exc:
            require_site_admin(staff, site)
        assert "only the site's own admins" in exc.value.message
    require_site_admin(consent_world.admins[0].user, site)  # the site's admin passes
    with pytest.raises(NotFound):
        require_site_admin(consent_world.admins[1].user, site)  # another site's admin: nothing to see


def test_staff_cannot_approve_accept_change_settings_or_move_a_site(consent_world):
    request = UpgradeRequest.objects.filter(installation=consent_world.installations[0]).get()
    site = consent_world.sites[0]
    for staff in _staff_users(consent_world):
        with pytest.raises(PermissionDenied):
            services.upgrade_request_approve(request_id=request.pk, actor=staff)
        with pytest.raises(PermissionDenied):
            services.upgrade_request_reject(request_id=request.pk, actor=staff)
        with pytest.raises(PermissionDenied):
            services.site_update_settings(site=site, actor=staff, auto_update=False, maintenance_windows="")
        with pytest.raises(PermissionDenied):
            services.site_migrate_product(
                site=site, host_product=HostProductFactory(key="bitbucket"), host_version="9.0.0", actor=staff
            )
    request.refresh_from_db()
    site.refresh_from_db()
    assert request.state == RequestState.PENDING
    assert site.auto_update is True and site.host_product.key == "jira"


def test_staff_decision_through_the_api_and_pages_changes_nothing(client, consent_world):
    request = UpgradeRequest.objects.filter(installation=consent_world.installations[0]).get()
    reviewer = _staff_users(consent_world)[0]
    client.force_login(reviewer)
    assert client.get(reverse("upgrades:site", args=[consent_world.sites[0].pk])).status_code == 200  # staff see
    response = client.post(f"/api/v1/upgrade-requests/{request.pk}/approve")
    assert response.status_code == 403
    assert "only the site's own admins" in response.json()["non_field_errors"][0]
    client.post(reverse("upgrades:request", args=[request.pk]), {"action": "approve"})
    request.refresh_from_db()
    assert request.state == RequestState.PENDING


def test_a_consent_link_decides_as_its_recipient_not_as_whoever_is_signed_in(client, consent_world):
    recipient = consent_world.admins[0]
    [message] = [m for m in mail.outbox if recipient.email in m.to and "approval" in m.subject]
    path = CONSENT_PATH.search(message.body).group(1)
    intruder = UserFactory(username="intruder")
    client.force_login(intruder)
    response = client.post(path, {"action": "approve"})
    assert response.status_code == 200
    request = UpgradeRequest.objects.get(installation=consent_world.installations[0])
    assert request.state == RequestState.APPROVED
    assert request.decided_by == recipient.user  # never the intruder
    assert request.decided_by_email == recipient.email


def test_the_upgrade_page_gives_one_answer_for_sites_you_do_not_administer(client, consent_world):
    stranger_admin = consent_world.admins[1].user  # admin of site 2 only
    own_installation = consent_world.installations[1]
    foreign_installation = consent_world.installations[0]
    client.force_login(stranger_admin)
    site_one = consent_world.sites[0].pk
    answers = set()
    for installation_id in (foreign_installation.pk, own_installation.pk, 999_999):
        with pytest.raises(NotFound) as exc:
            services.installation_upgrade(site_id=site_one, installation_id=installation_id, actor=stranger_admin)
        answers.add(exc.value.message)
    assert answers == {"No such site among the sites you administer."}
    # Through the API: the same 404 whether the installation exists or not.
    codes = {
        client.post(f"/api/v1/sites/{site_one}/installations/{pk}/upgrade").status_code
        for pk in (foreign_installation.pk, own_installation.pk, 999_999)
    }
    assert codes == {404}
    assert Installation.objects.get(pk=foreign_installation.pk).version == consent_world.v1
    assert Site.objects.count() == 2
