"""REST API: the update check (site token or site admin), installations,
upgrade requests, and rollout control for vendors. Thin: selectors and services."""

from __future__ import annotations

from typing import Any

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import exceptions, permissions
from rest_framework.authentication import BaseAuthentication, get_authorization_header
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from marketplace.selectors import listing_get_for_user
from upgrades import migration_selectors, selectors, services
from upgrades.models import RequestState, Site


class SiteTokenAuthentication(BaseAuthentication):
    """`Authorization: Site <token>`: a customer instance acting for its own site only."""

    keyword = "Site"

    def authenticate(self, request: Request) -> tuple[Any, Site] | None:
        parts = get_authorization_header(request).split()
        if not parts or parts[0].lower() != self.keyword.lower().encode():
            return None
        if len(parts) != 2:
            raise exceptions.AuthenticationFailed("Site token header: write 'Authorization: Site <token>'.")
        site = selectors.site_for_token(parts[1].decode(errors="replace"))
        if site is None:
            raise exceptions.AuthenticationFailed("Unknown or revoked site token.")
        from django.contrib.auth.models import AnonymousUser

        return AnonymousUser(), site

    def authenticate_header(self, request: Request) -> str:
        return self.keyword


SITE_AUTH = [SiteTokenAuthentication, *APIView.authentication_classes]


class SiteOrSiteAdmin(permissions.BasePermission):
    message = "Send a site token (Authorization: Site <token>) or sign in as an admin of the site."

    def has_permission(self, request: Request, view: APIView) -> bool:
        return isinstance(request.auth, Site) or bool(request.user and request.user.is_authenticated)


def _site(request: Request, pk: int) -> Site:
    if isinstance(request.auth, Site):
        if request.auth.pk != pk:
            raise exceptions.NotFound("No such site for this token.")
        return request.auth
    return selectors.site_get_for_user(user=request.user, pk=pk)


class SiteUpdatesApi(APIView):
    """The update check: for each installation, the newest version it may move to and whether it needs consent."""

    authentication_classes = SITE_AUTH
    permission_classes = [SiteOrSiteAdmin]

    @extend_schema(responses=OpenApiTypes.OBJECT)
    def get(self, request: Request, pk: int) -> Response:
        return Response(selectors.site_updates(site=_site(request, pk)))


class InstallationListApi(APIView):
    authentication_classes = SITE_AUTH
    permission_classes = [SiteOrSiteAdmin]

    @extend_schema(responses=OpenApiTypes.OBJECT)
    def get(self, request: Request, pk: int) -> Response:
        site = _site(request, pk)
        rows = [
            {
                "id": i.pk,
                "listing": i.listing.key,
                "version": i.version.number,
                "build_number": i.version.build_number,
                "granted_scopes": i.granted_scopes,
                "license": i.license,
                "state": i.state,
            }
            for i in selectors.installation_list(site=site)
        ]
        return Response({"site": site.pk, "results": rows})


class InstallationUpgradeApi(APIView):
    """A site admin's manual Upgrade (OCP major upgrades, declined or expired requests)."""

    @extend_schema(request=None, responses=OpenApiTypes.OBJECT)
    def post(self, request: Request, pk: int, installation_pk: int) -> Response:
        selectors.site_get_for_user(user=request.user, pk=pk)
        upgrade = services.installation_upgrade(installation_id=installation_pk, actor=request.user)
        return Response(
            {
                "upgrade": upgrade.pk,
                "state": upgrade.state,
                "version": upgrade.to_version.number,
                "hooks": upgrade.hooks,
            }
        )


def _request_data(r: Any) -> dict[str, Any]:
    return {
        "id": r.pk,
        "site": r.installation.site_id,
        "installation": r.installation_id,
        "listing": r.installation.listing.key,
        "from": r.from_version.number,
        "to": r.to_version.number,
        "reasons": r.reasons,
        "state": r.state,
        "decided_by": r.decider_label if r.decided_at else None,
        "decided_at": r.decided_at,
        "created_at": r.created_at,
    }


class UpgradeRequestListApi(APIView):
    @extend_schema(
        parameters=[OpenApiParameter("state", str, enum=[*RequestState.values, "all"], description="default: pending")],
        responses=OpenApiTypes.OBJECT,
    )
    def get(self, request: Request) -> Response:
        state = request.query_params.get("state", RequestState.PENDING)
        if state not in [*RequestState.values, "all"]:
            raise exceptions.ValidationError(
                {"state": [f"state must be one of {', '.join(RequestState.values)} or all."]}
            )
        qs = selectors.upgrade_request_list(user=request.user, state=None if state == "all" else state)
        return Response({"results": [_request_data(r) for r in qs[:200]]})


class UpgradeRequestDecisionApi(APIView):
    action = "approve"

    @extend_schema(request=None, responses=OpenApiTypes.OBJECT)
    def post(self, request: Request, pk: int) -> Response:
        selectors.upgrade_request_get_for_user(user=request.user, pk=pk)
        if self.action == "approve":
            services.upgrade_request_approve(request_id=pk, actor=request.user)
        else:
            services.upgrade_request_reject(request_id=pk, actor=request.user)
        return Response(_request_data(selectors.upgrade_request_get_for_user(user=request.user, pk=pk)))


def _rollout_data(item: dict[str, Any]) -> dict[str, Any]:
    r, p = item["rollout"], item["progress"]
    counts = {k: p[k] for k in ("applied", "scheduled", "awaiting_consent", "rejected", "failed", "expired", "total")}
    return {"id": r.pk, "version": r.version.number, "state": r.state, "created_at": r.created_at, "counts": counts}


class ListingRolloutsApi(APIView):
    @extend_schema(responses=OpenApiTypes.OBJECT)
    def get(self, request: Request, key: str) -> Response:
        listing = listing_get_for_user(user=request.user, key=key)
        panel = selectors.listing_rollout_panel(listing=listing)
        return Response(
            {
                "listing": listing.key,
                "rollouts": [_rollout_data(i) for i in panel["rollouts"]],
                "adoption": panel["adoption"],
            }
        )


class RolloutControlApi(APIView):
    action = "halt"

    @extend_schema(request=None, responses=OpenApiTypes.OBJECT)
    def post(self, request: Request, pk: int) -> Response:
        rollout = selectors.rollout_get_for_user(user=request.user, pk=pk)
        if self.action == "halt":
            rollout = services.rollout_halt(rollout=rollout, actor=request.user)
        else:
            rollout = services.rollout_resume(rollout=rollout, actor=request.user)
        return Response({"id": rollout.pk, "state": rollout.state})


class SiteMigrationsApi(APIView):
    """POST: move the site to another host product (a site admin); GET: its moves, newest first."""

    authentication_classes = SITE_AUTH
    permission_classes = [SiteOrSiteAdmin]

    @extend_schema(responses=OpenApiTypes.OBJECT)
    def get(self, request: Request, pk: int) -> Response:
        site = _site(request, pk)
        migrations = list(migration_selectors.product_migration_list(site=site)[:20])
        return Response({"site": site.pk, "results": [_migration_data(m) for m in migrations]})

    @extend_schema(request=OpenApiTypes.OBJECT, responses={201: OpenApiTypes.OBJECT})
    def post(self, request: Request, pk: int) -> Response:
        if isinstance(request.auth, Site):
            raise exceptions.PermissionDenied("Moving a site to another product needs a signed-in site admin.")
        site = selectors.site_get_for_user(user=request.user, pk=pk)
        migration = services.site_migrate_product(
            site=site,
            host_product=request.data.get("host_product"),
            host_version=request.data.get("host_version"),
            actor=request.user,
        )
        return Response(_migration_data(migration), status=201)


def _migration_data(migration: Any) -> dict[str, Any]:
    offers = list(migration_selectors.migration_offer_list(migration=migration))
    return migration_selectors.product_migration_data(migration, offers)


class MigrationOffersApi(APIView):
    """The move's offers: per installation the version offered, or why there is none."""

    authentication_classes = SITE_AUTH
    permission_classes = [SiteOrSiteAdmin]

    @extend_schema(responses=OpenApiTypes.OBJECT)
    def get(self, request: Request, pk: int, migration_pk: int) -> Response:
        site = _site(request, pk)
        migration = (
            migration_selectors.product_migration_list(site=site).select_related("site").filter(pk=migration_pk).first()
        )
        if migration is None:
            raise exceptions.NotFound("No such product move for this site.")
        return Response(_migration_data(migration))


class MigrationOfferAcceptApi(APIView):
    """One-click upgrade; when the upgrade needs consent, this request is the site admin's consent."""

    @extend_schema(request=None, responses=OpenApiTypes.OBJECT)
    def post(self, request: Request, pk: int, offer_pk: int) -> Response:
        offer = migration_selectors.migration_offer_get_for_user(user=request.user, site_pk=pk, pk=offer_pk)
        offer = services.migration_offer_accept(offer=offer, actor=request.user)
        offer = migration_selectors.migration_offer_list(migration=offer.migration).get(pk=offer.pk)
        return Response(migration_selectors.migration_offer_data(offer))


class MigrationOfferKeepApi(APIView):
    """Switch an app back on at its installed version, when that version runs on the site's new product."""

    @extend_schema(request=None, responses=OpenApiTypes.OBJECT)
    def post(self, request: Request, pk: int, offer_pk: int) -> Response:
        offer = migration_selectors.migration_offer_get_for_user(user=request.user, site_pk=pk, pk=offer_pk)
        offer = services.migration_offer_keep(offer=offer, actor=request.user)
        offer = migration_selectors.migration_offer_list(migration=offer.migration).get(pk=offer.pk)
        return Response(migration_selectors.migration_offer_data(offer))


class SiteTokenScheme(OpenApiAuthenticationExtension):
    """Documents `Authorization: Site <token>` in the OpenAPI schema."""

    target_class = "upgrades.api.SiteTokenAuthentication"
    name = "siteToken"

    def get_security_definition(self, auto_schema: Any) -> dict[str, str]:
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": "A site's API token: `Site <token>` (made in the admin; shown once).",
        }
