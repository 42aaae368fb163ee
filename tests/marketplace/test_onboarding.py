"""Vendor onboarding through the services and pages: a vendor of one's own, invitations, roles."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from core.errors import ApplicationError, Conflict, PermissionDenied
from core.models import AuditEvent
from marketplace import services
from marketplace.models import Vendor, VendorInvitation, VendorMembership
from tests.factories import MembershipFactory, UserFactory, VendorFactory, unverified, verified

pytestmark = pytest.mark.django_db


def register(user, **overrides):
    fields = {"name": "Acme Apps", "slug": "acme-apps", "contact_email": "team@acme.example.com"}
    return services.vendor_register(actor=user, **{**fields, **overrides})


def invite(owner, vendor, email="dev@example.com", role="developer", django_capture_on_commit_callbacks=None):
    invitation = services.vendor_invitation_create(actor=owner, vendor=vendor, email=email, role=role)
    return invitation, invitation.link_token


@pytest.fixture
def owner():
    return verified(UserFactory(username="olivia", email="olivia@acme.example.com"))


@pytest.fixture
def vendor(owner):
    return register(owner)


def test_a_verified_user_creates_a_vendor_and_becomes_its_owner_with_audit_rows(owner):
    vendor = register(owner, support_email="help@acme.example.com")
    assert vendor.support_email == "help@acme.example.com"
    assert VendorMembership.objects.get(vendor=vendor).role == "owner"
    assert set(AuditEvent.objects.values_list("action", flat=True)) == {"vendor.create", "membership.add"}


@pytest.mark.parametrize(
    "overrides, field, text",
    [
        ({"name": ""}, "name", "Vendor name is required"),
        ({"slug": "Acme Apps!"}, "slug", "Slug 'acme apps!' is invalid"),
        ({"contact_email": "not-an-address"}, "contact_email", "is not an e-mail address"),
        ({"contact_email": ""}, "contact_email", "Contact e-mail is required"),
        ({"support_email": "nope"}, "support_email", "is not an e-mail address"),
    ],
)
def test_bad_vendor_input_names_the_field_and_creates_nothing(owner, overrides, field, text):
    with pytest.raises(ApplicationError) as exc:
        register(owner, **overrides)
    assert exc.value.field == field and text in exc.value.message
    assert not Vendor.objects.exists() and not AuditEvent.objects.exists()


def test_duplicate_vendor_name_or_slug_is_refused(owner, vendor):
    with pytest.raises(ApplicationError, match="already exists"):
        register(owner, slug="other-slug", name="ACME APPS")
    with pytest.raises(ApplicationError, match="slug 'acme-apps' is taken"):
        register(owner, name="Other name")
    assert Vendor.objects.count() == 1


def test_an_unverified_user_cannot_create_a_vendor():
    user = unverified(UserFactory(username="fresh"))
    with pytest.raises(PermissionDenied, match="Verify your e-mail address before you create a vendor"):
        register(user)
    assert not Vendor.objects.exists()


def test_invitation_is_emailed_once_and_accepted_by_the_verified_invitee(
    owner, vendor, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        invitation, link = invite(owner, vendor, email="Dev@Example.com", role="developer")
    assert invitation.email == "dev@example.com" and invitation.state == "pending"
    assert len(mail.outbox) == 1 and mail.outbox[0].to == ["dev@example.com"]
    assert link in mail.outbox[0].body and "join Acme Apps as developer" in mail.outbox[0].body
    stored = VendorInvitation.objects.get()
    assert link not in stored.digest and stored.sent_at is not None
    services.vendor_invitation_send(invitation_id=invitation.pk, link_token=link)  # a retried task sends nothing
    assert len(mail.outbox) == 1

    dev = verified(UserFactory(username="dev", email="dev@example.com"))
    membership = services.vendor_invitation_accept(user=dev, link_token=link)
    assert (membership.vendor, membership.role) == (vendor, "developer")
    assert VendorInvitation.objects.get().state == "accepted"
    assert AuditEvent.objects.filter(action="vendor_invitation.accept", to_state="accepted", actor=dev).exists()


def test_an_invitation_used_twice_is_refused_and_changes_nothing(owner, vendor):
    _, link = invite(owner, vendor)
    dev = verified(UserFactory(username="dev", email="dev@example.com"))
    services.vendor_invitation_accept(user=dev, link_token=link)
    other = verified(UserFactory(username="dev2", email="dev@example.com".replace("dev@", "dev2@")))
    with pytest.raises(Conflict, match="used already"):
        services.vendor_invitation_accept(user=other, link_token=link)
    with pytest.raises(Conflict, match="used already"):
        services.vendor_invitation_accept(user=dev, link_token=link)
    assert VendorMembership.objects.filter(vendor=vendor).count() == 2


def test_expired_revoked_tampered_and_other_address_invitations_are_refused(owner, vendor):
    dev = verified(UserFactory(username="dev", email="dev@example.com"))
    invitation, link = invite(owner, vendor)
    with pytest.raises(ApplicationError, match="not valid"):
        services.vendor_invitation_accept(user=dev, link_token=link[:-3] + "xyz")
    stranger = verified(UserFactory(username="eve", email="eve@example.com"))
    with pytest.raises(PermissionDenied, match=r"This invitation is for dev@example\.com"):
        services.vendor_invitation_accept(user=stranger, link_token=link)
    with pytest.raises(PermissionDenied, match="Verify your e-mail address"):
        services.vendor_invitation_accept(
            user=unverified(UserFactory(username="x", email="dev2@example.com")), link_token=link
        )
    VendorInvitation.objects.filter(pk=invitation.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    with pytest.raises(Conflict, match="expired"):
        services.vendor_invitation_accept(user=dev, link_token=link)
    VendorInvitation.objects.filter(pk=invitation.pk).update(expires_at=timezone.now() + timedelta(days=1))
    services.vendor_invitation_revoke(actor=owner, vendor=vendor, invitation_id=invitation.pk)
    with pytest.raises(Conflict, match="revoked"):
        services.vendor_invitation_accept(user=dev, link_token=link)
    assert not VendorMembership.objects.filter(user__in=[dev, stranger]).exists()


def test_a_vendor_link_is_no_site_link(owner, vendor):
    from upgrades.services import site_invitation_accept

    _, link = invite(owner, vendor)
    with pytest.raises(ApplicationError, match="not valid"):
        site_invitation_accept(user=verified(UserFactory(username="dev", email="dev@example.com")), link_token=link)


def test_inviting_a_member_or_an_open_address_again_is_refused(owner, vendor):
    member = verified(UserFactory(username="dev", email="dev@example.com"))
    services.vendor_member_add(vendor=vendor, user=member)
    with pytest.raises(ApplicationError, match="already belongs to Acme Apps"):
        invite(owner, vendor, email="dev@example.com")
    invite(owner, vendor, email="new@example.com")
    with pytest.raises(ApplicationError, match="already has an open invitation"):
        invite(owner, vendor, email="NEW@example.com")
    with pytest.raises(ApplicationError, match="not an e-mail address"):
        invite(owner, vendor, email="new@")
    with pytest.raises(ApplicationError, match="Role must be"):
        invite(owner, vendor, email="x@example.com", role="admin")
    assert VendorInvitation.objects.count() == 1


def test_accepting_for_a_vendor_one_already_belongs_to_is_refused(owner, vendor):
    _, link = invite(owner, vendor, email="dev@example.com")
    dev = verified(UserFactory(username="dev", email="dev@example.com"))
    services.vendor_member_add(vendor=vendor, user=dev)
    with pytest.raises(Conflict, match="You already belong to Acme Apps"):
        services.vendor_invitation_accept(user=dev, link_token=link)
    assert VendorInvitation.objects.get().state == "pending"


def test_only_owners_invite_change_roles_and_remove(owner, vendor):
    dev = MembershipFactory(vendor=vendor, role="developer").user
    verified(dev)
    with pytest.raises(PermissionDenied, match="Only an owner"):
        invite(dev, vendor)
    with pytest.raises(PermissionDenied):
        services.membership_change_role(
            actor=dev, vendor=vendor, membership_id=VendorMembership.objects.get(user=dev).pk, role="owner"
        )
    assert VendorMembership.objects.get(user=dev).role == "developer"


def test_the_last_owner_can_neither_leave_nor_be_demoted(owner, vendor):
    mine = VendorMembership.objects.get(user=owner)
    with pytest.raises(Conflict, match="keeps at least one owner"):
        services.membership_remove(actor=owner, vendor=vendor, membership_id=mine.pk)
    with pytest.raises(Conflict, match="keeps at least one owner"):
        services.membership_change_role(actor=owner, vendor=vendor, membership_id=mine.pk, role="developer")
    assert VendorMembership.objects.get(user=owner).role == "owner"
    second = MembershipFactory(vendor=vendor, role="developer")
    services.membership_change_role(actor=owner, vendor=vendor, membership_id=second.pk, role="owner")
    services.membership_remove(actor=owner, vendor=vendor, membership_id=mine.pk)
    assert list(VendorMembership.objects.values_list("role", flat=True)) == ["owner"]
    actions = list(AuditEvent.objects.filter(action__startswith="membership.").values_list("action", "to_state"))
    assert ("membership.change_role", "owner") in actions and ("membership.remove", "removed") in actions


def test_other_vendors_team_is_not_found(owner, vendor):
    other = VendorFactory(slug="rival")
    client = Client()
    client.force_login(owner)
    assert client.get(reverse("portal:vendor-team", args=["rival"])).status_code == 404
    assert (
        client.post(
            reverse("portal:vendor-invite", args=["rival"]), {"email": "a@b.example", "role": "owner"}
        ).status_code
        == 404
    )
    assert not VendorInvitation.objects.filter(vendor=other).exists()


def test_pages_create_vendor_invite_show_pending_and_refuse_removing_the_last_owner(owner):
    client = Client()
    client.force_login(owner)
    bad = client.post(
        reverse("portal:vendor-create"),
        {"name": "Acme Apps", "slug": "Bad Slug", "contact_email": "t@acme.example.com"},
    )
    assert bad.status_code == 400 and "Slug &#x27;bad slug&#x27; is invalid" in bad.content.decode()
    made = client.post(
        reverse("portal:vendor-create"),
        {"name": "Acme Apps", "slug": "acme-apps", "contact_email": "t@acme.example.com"},
        follow=True,
    )
    assert "Acme Apps is created and you are its owner" in made.content.decode()
    invited = client.post(
        reverse("portal:vendor-invite", args=["acme-apps"]),
        {"email": "dev@example.com", "role": "developer"},
        follow=True,
    )
    assert "Invitation sent to dev@example.com" in invited.content.decode()
    assert "dev@example.com" in invited.content.decode().split("Pending invitations")[1]
    mine = VendorMembership.objects.get(user=owner)
    refused = client.post(reverse("portal:member-remove", args=["acme-apps", mine.pk]))
    assert refused.status_code == 409 and "keeps at least one owner" in refused.content.decode()


def test_the_invitation_page_asks_strangers_to_sign_up_and_refuses_a_used_link(owner, vendor):
    _, link = invite(owner, vendor, email="dev@example.com")
    url = reverse("invitations:vendor", args=[link])
    page = Client().get(url).content.decode()
    assert "Create an account with dev@example.com" in page and "Acme Apps" in page
    dev = verified(UserFactory(username="dev", email="dev@example.com"))
    client = Client()
    client.force_login(dev)
    assert client.post(url).status_code == 302
    again = client.post(url)
    assert again.status_code == 409 and "used already" in again.content.decode()
    assert Client().get(reverse("invitations:vendor", args=["garbage"])).status_code == 404
