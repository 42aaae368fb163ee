"""Who may act for a customer site."""

from __future__ import annotations

from typing import Any

from django.db.models import Q

from core.errors import NotFound
from marketplace.permissions import is_staff
from upgrades.models import Site, SiteAdmin


def site_admin_filter(user: Any) -> Q:
    """SiteAdmin rows that are this user: linked to the account, or by its e-mail address."""
    q = Q(user_id=user.pk)
    if getattr(user, "email", ""):
        q |= Q(email__iexact=user.email)
    return q


def is_site_admin(user: Any, site_id: int) -> bool:
    if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
        return False
    return SiteAdmin.objects.filter(site_admin_filter(user), site_id=site_id).exists()


def require_site_admin(user: Any, site: Site | int) -> None:
    """Site admins (and marketplace staff) act for a site; anyone else gets 'not found'."""
    site_id = site if isinstance(site, int) else site.pk
    if is_staff(user) or is_site_admin(user, site_id):
        return
    raise NotFound("No such site among the sites you administer.")
