"""Who may act for a customer site."""

from __future__ import annotations

from typing import Any

from django.db.models import Q

from accounts.permissions import email_unverified_exists, require_verified_email
from core.errors import NotFound, PermissionDenied
from marketplace.permissions import is_staff
from upgrades.models import Site, SiteAdmin


def site_admin_filter(user: Any) -> Q:
    """SiteAdmin rows that are this user: linked to the account, or by its e-mail address.

    The address counts only once it is verified (or was set by an administrator):
    typing someone's address at sign-up must not make you their site's admin.
    """
    q = Q(user_id=user.pk)
    if getattr(user, "email", ""):
        q |= Q(email__iexact=user.email) & ~Q(email_unverified_exists(user, user.email))
    return q


def is_site_admin(user: Any, site_id: int) -> bool:
    if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
        return False
    return SiteAdmin.objects.filter(site_admin_filter(user), site_id=site_id).exists()


STAFF_DECIDE_NOTHING = (
    "Marketplace staff may see this site but not decide for it: only the site's own admins "
    "approve upgrades, accept offers, change its settings or move it to another product."
)


def require_site_admin(user: Any, site: Site | int) -> None:
    """Only a site's own admins decide for it (consent, offers, settings, product moves).

    Marketplace staff may see every site, but staff consent for no customer: a
    staff user who is not an admin of this site is refused, and says why. Anyone
    else gets 'not found', so site ids reveal nothing.
    """
    site_id = site if isinstance(site, int) else site.pk
    if is_site_admin(user, site_id):
        return
    if is_staff(user):
        raise PermissionDenied(STAFF_DECIDE_NOTHING)
    raise NotFound("No such site among the sites you administer.")


def require_verified_email_to_install(user: Any) -> None:
    """An install is a consent to the app's scopes and price: only from a verified address
    (accounts' one rule; require_site_admin is checked before this)."""
    require_verified_email(user, action="install an app")
