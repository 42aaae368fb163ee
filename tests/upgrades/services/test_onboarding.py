"""Customer onboarding: a site of one's own, its admins by invitation, its tokens for the update check."""

from __future__ import annotations

import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse
from rest_framework.test import APIClient

from core.errors import ApplicationError, Conflict, NotFound, PermissionDenied
from core.models import AuditEvent
from tests.factories import HostProductFactory, ReviewerFactory, SiteAdminFactory, UserFactory, unverified, verified
from upgrades import services
from upgrades.models import Site, SiteAdmin, SiteInvitation, SiteToken
from upgrades.permissions import is_site_admin

pytestmark = pytest.mark.django_db


@pytest.fixture
def customer():
    return verified(UserFactory(username="cora", email="cora@customer.example.com"))


@pytest.fixture
def jira():
    return HostProductFactory(key="jira", name="Jira")


@pytest.fixture
def site(customer, jira):
    return services.site_register(
        actor=customer, name="Cora's Jira", host_product=jira, host_version="9.12.4", time_zone="Europe/Paris"
    )


def test_a_verified_user_registers_a_site_and_becomes_its_admin(customer, site):
    assert (site.host_version, site.time_zone) == ("9.12.4", "Europe/Paris")
    assert is_site_admin(customer, site.pk)
    assert SiteAdmin.objects.get(site=site).user == customer
    assert {"site.create", "site_admin.add"} <= set(AuditEvent.objects.values_list("action", flat=True))


@pytest.mark.parametrize(
    "overrides, field",
    [({"name": " "}, "name"), ({"time_zone": "Moon/Base"}, "time_zone"), ({"host_product": None}, "host_product")],
)
def test_bad_site_input_names_the_field_and_creates_nothing(customer, jira, overrides, field):
    fields = {"name": "Site", "host_product": jira, "host_version": "9", "time_zone": "UTC", **overrides}
    with pytest.raises(ApplicationError) as exc:
        services.site_register(actor=customer, **fields)
    assert exc.value.field == field
    assert not Site.objects.exists()


def test_an_unverified_user_cannot_register_a_site(jira):
    with pytest.raises(PermissionDenied, match="Verify your e-mail address before you register a site"):
        services.site_register(actor=unverified(UserFactory(username="new")), name="S", host_product=jira)
    assert not Site.objects.exists()


def test_an_unverified_address_does_not_make_anyone_an_admin_of_a_site_listing_it():
    row = SiteAdminFactory(user=None, email="boss@customer.example.com")
    squatter = unverified(UserFactory(username="squat", email="boss@customer.example.com"))
    assert not is_site_admin(squatter, row.site_id)
    verified(squatter)
    assert is_site_admin(squatter, row.site_id)


def test_site_tokens_are_made_shown_once_and_revoked_by_the_sites_admins(customer, site):
    token, raw = services.site_token_create(site=site, name="production", actor=customer)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Site {raw}")
    assert client.get(f"/api/v1/sites/{site.pk}/updates").status_code == 200
    services.site_token_revoke(site=site, actor=customer, token_id=token.pk)
    refused = client.get(f"/api/v1/sites/{site.pk}/updates")
    assert refused.status_code == 401 and "Unknown or revoked site token" in refused.json()["detail"]
    rows = AuditEvent.objects.filter(object_type="upgrades.sitetoken", object_id=token.pk, actor=customer)
    assert sorted(rows.values_list("action", flat=True)) == ["site_token.create", "site_token.revoke"]


def test_staff_and_strangers_cannot_make_or_revoke_a_sites_tokens(customer, site):
    token, _ = services.site_token_create(site=site, name="production", actor=customer)
    with pytest.raises(PermissionDenied, match="not decide for it"):
        services.site_token_create(site=site, name="mine", actor=ReviewerFactory(username="staff"))
    with pytest.raises(NotFound):
        services.site_token_revoke(site=site, actor=verified(UserFactory(username="eve")), token_id=token.pk)
    assert SiteToken.objects.filter(site=site).count() == 1 and SiteToken.objects.get().revoked_at is None


def test_site_page_makes_a_token_shows_it_once_and_refuses_a_nameless_one(customer, site):
    client = Client()
    client.force_login(customer)
    nameless = client.post(reverse("upgrades:site-token-create", args=[site.pk]), {"name": ""})
    assert nameless.status_code == 400 and "This field is required" in nameless.content.decode()
    made = client.post(reverse("upgrades:site-token-create", args=[site.pk]), {"name": "production"})
    raw = made.context["new_token"]
    assert made.status_code == 200 and raw in made.content.decode()
    assert raw not in client.get(reverse("upgrades:site", args=[site.pk])).content.decode()
    other = SiteAdminFactory().site
    assert client.post(reverse("upgrades:site-token-create", args=[other.pk]), {"name": "x"}).status_code == 404
    assert not SiteToken.objects.filter(site=other).exists()


def test_site_admin_invitation_is_emailed_and_accepted_once(customer, site, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        invitation = services.site_invitation_create(actor=customer, site=site, email="ops@customer.example.com")
    assert mail.outbox[-1].to == ["ops@customer.example.com"] and invitation.link_token in mail.outbox[-1].body
    ops = verified(UserFactory(username="ops", email="ops@customer.example.com"))
    services.site_invitation_accept(user=ops, link_token=invitation.link_token)
    assert is_site_admin(ops, site.pk)
    with pytest.raises(Conflict, match="used already"):
        services.site_invitation_accept(user=ops, link_token=invitation.link_token)
    with pytest.raises(ApplicationError, match="already an admin"):
        services.site_invitation_create(actor=customer, site=site, email="ops@customer.example.com")
    assert SiteAdmin.objects.filter(site=site).count() == 2


def test_site_invitation_for_another_address_or_revoked_is_refused(customer, site):
    invitation = services.site_invitation_create(actor=customer, site=site, email="ops@customer.example.com")
    eve = verified(UserFactory(username="eve", email="eve@example.com"))
    with pytest.raises(PermissionDenied, match=r"This invitation is for ops@customer\.example\.com"):
        services.site_invitation_accept(user=eve, link_token=invitation.link_token)
    services.site_invitation_revoke(actor=customer, site=site, invitation_id=invitation.pk)
    ops = verified(UserFactory(username="ops", email="ops@customer.example.com"))
    with pytest.raises(Conflict, match="revoked"):
        services.site_invitation_accept(user=ops, link_token=invitation.link_token)
    assert not is_site_admin(ops, site.pk) and not is_site_admin(eve, site.pk)
    assert SiteInvitation.objects.get().state == "revoked"


def test_register_page_shows_errors_next_to_fields_and_registers(customer, jira):
    client = Client()
    client.force_login(customer)
    bad = client.post(reverse("upgrades:site-register"), {"name": "", "host_product": "999", "time_zone": "UTC"})
    html = bad.content.decode()
    assert bad.status_code == 400 and "Choose one of the products in the list." in html
    done = client.post(
        reverse("upgrades:site-register"),
        {"name": "Cora's Jira", "host_product": jira.pk, "host_version": "9.12", "time_zone": "Europe/Paris"},
        follow=True,
    )
    assert "is registered and you are its admin" in done.content.decode()
    assert Site.objects.get().name == "Cora's Jira"
