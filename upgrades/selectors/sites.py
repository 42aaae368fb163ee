"""Reads: the update check (the hot path), sites and installations, rollout progress, adoption."""

from __future__ import annotations

import functools
from typing import Any

from django.db.models import CharField, Exists, OuterRef, QuerySet
from django.db.models.expressions import RawSQL

from core.db import hot_cursor, model_from_values, prepared_statements_enabled
from core.errors import NotFound
from core.models import AuditEvent
from core.selectors import audit_for_objects
from core.tokens import token_digest
from marketplace.models import HostProduct
from marketplace.permissions import is_staff
from marketplace.selectors import scope_catalogue_stamp
from upgrades.models import (
    Installation,
    MigrationOffer,
    Site,
    SiteAdmin,
    SiteInvitation,
    SiteToken,
    Upgrade,
    UpgradeRequest,
)
from upgrades.permissions import site_admin_filter
from upgrades.selectors.updates import update_fingerprint, update_state_sql

# --- sites -------------------------------------------------------------------------------


def site_for_token(raw: str, *, with_update_fingerprint: bool = False) -> Site | None:
    """The site of an unrevoked token (one query; nothing cached, so a revocation holds at once).

    `with_update_fingerprint`: the same query also reads the update check's fingerprint
    (`site.update_fingerprint`), so answering an unchanged check with 304 costs one query. That
    query runs on every update check: compiled once per process and prepared once per database
    connection (core.db.hot_cursor).
    """
    if not with_update_fingerprint or not prepared_statements_enabled():
        # The ORM, with its converters (SQLite returns dates as text).
        tokens = SiteToken.active(raw).select_related("site__host_product")
        if not with_update_fingerprint:
            token = tokens.first()
            return token.site if token else None
        state_sql, state_params = update_state_sql(f'"{SiteToken._meta.db_table}"."site_id"')
        token = tokens.annotate(
            update_state=RawSQL(state_sql, state_params, output_field=CharField()), scope_stamp=scope_catalogue_stamp()
        ).first()
        if token is None:
            return None
        token.site.update_fingerprint = update_fingerprint(token.site, token.update_state)
        token.site.scope_stamp = token.scope_stamp
        return token.site
    sql, params = _token_with_update_state_sql()
    params = tuple(token_digest(raw) if p == _DIGEST_MARK else p for p in params)
    with hot_cursor() as cursor:
        cursor.execute(sql, params)
        row = cursor.fetchone()
    if row is None:
        return None
    site_width = len(_TOKEN_SITE_FIELDS)
    site = model_from_values(Site, row[:site_width], _TOKEN_SITE_FIELDS)
    site.host_product = model_from_values(HostProduct, row[site_width:-2], _TOKEN_PRODUCT_FIELDS)
    site.update_fingerprint = update_fingerprint(site, row[-2])
    site.scope_stamp = row[-1]  # the update check's consent rules: marketplace.selectors.scope_catalogue
    return site


# What the update check reads of the site and its product (in field order); the rest is deferred:
# loading timestamps and the maintenance windows' JSON cost a tenth of the 304's time.
_TOKEN_SITE_FIELDS = ("id", "name", "host_product_id", "host_version", "time_zone", "auto_update", "sandbox_vendor_id")
_TOKEN_PRODUCT_FIELDS = ("id", "key", "name")

# Stands for the token's digest in the SQL compiled once (a digest is 64 hex characters).
_DIGEST_MARK = "<digest>"


@functools.cache
def _token_with_update_state_sql() -> tuple[str, tuple]:
    """The unrevoked token's site, its host product (the fields the update check reads), the
    site's update state and the scope catalogue's stamp: one statement, compiled once per process."""
    state_sql, state_params = update_state_sql(f'"{SiteToken._meta.db_table}"."site_id"')
    columns = [f"site__{name}" for name in _TOKEN_SITE_FIELDS]
    columns += [f"site__host_product__{name}" for name in _TOKEN_PRODUCT_FIELDS]
    queryset = (
        SiteToken.objects.filter(digest=_DIGEST_MARK, revoked_at__isnull=True)
        .annotate(
            update_state=RawSQL(state_sql, state_params, output_field=CharField()), scope_stamp=scope_catalogue_stamp()
        )
        .values_list(*columns, "update_state", "scope_stamp")
    )
    return queryset.query.sql_with_params()


def site_list_for_user(*, user: Any) -> QuerySet[Site]:
    qs = Site.objects.select_related("host_product")
    if is_staff(user):
        return qs
    if not getattr(user, "is_authenticated", False):
        return qs.none()
    return qs.filter(Exists(SiteAdmin.objects.filter(site_admin_filter(user), site=OuterRef("pk"))))


def site_get_for_user(*, user: Any, pk: int) -> Site:
    site = site_list_for_user(user=user).filter(pk=pk).first()
    if site is None:
        raise NotFound("No such site among the sites you administer.")
    return site


def installation_list(*, site: Site) -> QuerySet[Installation]:
    return Installation.objects.filter(site=site).select_related("listing", "version").order_by("listing__name")


def site_apps(*, site: Site) -> list[Installation]:
    """A site's apps for its page: running, disabled and uninstalled, with their licences (one query)."""
    return list(
        Installation.objects.filter(site=site)
        .select_related("listing", "version", "licence")
        .order_by("listing__name", "pk")
    )


def site_history(*, site: Site) -> QuerySet[AuditEvent]:
    """The site's audit history for its admins: the site, its installations, their upgrades,
    upgrade requests and migration offers, newest first (one query; the caller checked the site is theirs).
    The vendors' side (versions, rollouts, share links) is not in it."""
    mine = {"installation__site_id": site.pk}
    return audit_for_objects(
        {
            "upgrades.site": [site.pk],
            "upgrades.installation": Installation.objects.filter(site_id=site.pk).values("pk"),
            "upgrades.upgrade": Upgrade.objects.filter(**mine).values("pk"),
            "upgrades.upgraderequest": UpgradeRequest.objects.filter(**mine).values("pk"),
            "upgrades.migrationoffer": MigrationOffer.objects.filter(**mine).values("pk"),
            "upgrades.sitetoken": SiteToken.objects.filter(site_id=site.pk).values("pk"),
            "upgrades.siteinvitation": SiteInvitation.objects.filter(site_id=site.pk).values("pk"),
            "upgrades.siteadmin": SiteAdmin.objects.filter(site_id=site.pk).values("pk"),
        }
    )


def site_team(*, site: Site) -> dict[str, Any]:
    """The site's admins, its open invitations and its tokens, for the site's page."""
    from django.utils import timezone

    return {
        "site_admins": SiteAdmin.objects.filter(site=site).select_related("user").order_by("email"),
        "site_invitations": SiteInvitation.objects.filter(
            site=site, accepted_at__isnull=True, revoked_at__isnull=True, expires_at__gt=timezone.now()
        ),
        "site_tokens": SiteToken.objects.filter(site=site).order_by("revoked_at", "-created_at"),
    }
