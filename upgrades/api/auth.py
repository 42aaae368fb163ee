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
    """`Authorization: Site <token>`: a customer instance acting for its own site only.

    A view that sets `site_token_reads_fingerprint = True` (the update check) has the one
    lookup query also read the answer's fingerprint (`site.update_fingerprint`), so an
    unchanged answer is a 304 after that single query. One class, so the OpenAPI schema
    has one `siteToken` scheme.
    """

    keyword = "Site"

    def authenticate(self, request: Request) -> Any:
        view = (getattr(request, "parser_context", None) or {}).get("view")
        self.with_update_fingerprint = bool(getattr(view, "site_token_reads_fingerprint", False))
        return super().authenticate(request)

    def lookup(self, raw: str) -> Site | None:
        return selectors.site_for_token(raw, with_update_fingerprint=getattr(self, "with_update_fingerprint", False))


SITE_AUTH = [SiteTokenAuthentication, *APIView.authentication_classes]


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
    name = "siteToken"

    def get_security_definition(self, auto_schema: Any) -> dict[str, str]:
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": "A site's API token: `Site <token>` (made by its admins on the site's page; shown once).",
        }
