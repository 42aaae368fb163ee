"""Demo data for accounts: the demo users' addresses verified (they sign in by user name or
address), one pending vendor invitation and one site-admin invitation to try."""

from __future__ import annotations

from typing import TextIO

from allauth.account.models import EmailAddress
from django.conf import settings
from django.contrib.auth import get_user_model
from django.urls import reverse

from marketplace import services as catalogue
from marketplace.models import Vendor, VendorInvitation
from upgrades import services as site_services
from upgrades.models import Site, SiteInvitation

User = get_user_model()

VENDOR_INVITEE = "new.developer@acme.example.com"
SITE_INVITEE = "new.admin@customer.example.com"


def seed(stdout: TextIO) -> None:
    for user in User.objects.exclude(email=""):
        EmailAddress.objects.get_or_create(
            user=user, email=user.email.lower(), defaults={"verified": True, "primary": True}
        )
    owner = User.objects.filter(username="vendor").first()
    acme = Vendor.objects.filter(slug="acme-apps").first()
    if owner and acme and not VendorInvitation.objects.filter(vendor=acme, email=VENDOR_INVITEE).exists():
        invitation = catalogue.vendor_invitation_create(
            actor=owner, vendor=acme, email=VENDOR_INVITEE, role="developer"
        )
        url = settings.PORTAL_BASE_URL + reverse("invitations:vendor", args=[invitation.link_token])
        stdout.write(f"Vendor invitation for {VENDOR_INVITEE} (sign up with that address): {url}\n")
    siteadmin = User.objects.filter(username="siteadmin").first()
    site = Site.objects.filter(site_admins__user=siteadmin).order_by("pk").first() if siteadmin else None
    if site and not SiteInvitation.objects.filter(site=site, email=SITE_INVITEE).exists():
        invitation = site_services.site_invitation_create(actor=siteadmin, site=site, email=SITE_INVITEE)
        url = settings.PORTAL_BASE_URL + reverse("invitations:site", args=[invitation.link_token])
        stdout.write(f"Site-admin invitation for {SITE_INVITEE} to {site.name}: {url}\n")
