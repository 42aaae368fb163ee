"""Who calls the site API: a customer instance with `Authorization: Site <token>`, or a signed-in site admin."""

from __future__ import annotations

from typing import Any

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import exceptions, permissions
from rest_framework.request import Request
from rest_framework.views import APIView

from core.pagination import PageNumberPagination
from core.tokens import HashedTokenAuthentication
from upgrades import selectors
from upgrades.models import Site


class SiteTokenAuthentication(HashedTokenAuthentication):
    """`Authorization: Site <token>`: a customer instance acting for its own site only."""

    keyword = "Site"

    def lookup(self, raw: str) -> Site | None:
        return selectors.site_for_token(raw)


SITE_AUTH = [SiteTokenAuthentication, *APIView.authentication_classes]


class SiteUpdatesTokenAuthentication(SiteTokenAuthentication):
    """The update check's site token: the one lookup query also reads the answer's fingerprint
    (`site.update_fingerprint`), so an unchanged answer is a 304 after that single query."""

    def lookup(self, raw: str) -> Site | None:
        return selectors.site_for_token(raw, with_update_fingerprint=True)


SITE_UPDATES_AUTH = [SiteUpdatesTokenAuthentication, *APIView.authentication_classes]


class SiteOrSiteAdmin(permissions.BasePermission):
    message = "Send a site token (Authorization: Site <token>) or sign in as an admin of the site."

    def has_permission(self, request: Request, view: APIView) -> bool:
        return isinstance(request.auth, Site) or bool(request.user and request.user.is_authenticated)


class SitePagination(PageNumberPagination):
    """A page of one site's rows: the site's id rides along, as it did before lists were paged."""

    extra_schema = {"site": {"type": "integer", "description": "The site the rows belong to"}}


def site_for_request(request: Request, pk: int) -> Site:
    if isinstance(request.auth, Site):
        if request.auth.pk != pk:
            raise exceptions.NotFound("No such site for this token.")
        return request.auth
    return selectors.site_get_for_user(user=request.user, pk=pk)


class SiteTokenScheme(OpenApiAuthenticationExtension):
    """Documents `Authorization: Site <token>` in the OpenAPI schema."""

    target_class = "upgrades.api.auth.SiteTokenAuthentication"
    match_subclasses = True  # the update check's variant is the same header
    name = "siteToken"

    def get_security_definition(self, auto_schema: Any) -> dict[str, str]:
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": "A site's API token: `Site <token>` (made by its admins on the site's page; shown once).",
        }
