"""REST API of OCP beta share links: the vendor makes, lists and revokes them (a vendor
member's token or session); a signed-in site admin installs through one. Thin: the
services in upgrades.services.beta decide."""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import exceptions, serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from upgrades import services
from upgrades.api.auth import SITE_AUTH
from upgrades.models import Site
from upgrades.selectors import beta as beta_selectors
from upgrades.services.beta import BETA_LINK_DEFAULT_DAYS, BETA_LINK_MAX_DAYS
from versions.selectors import version_get_for_user


class BetaLinkCreateInput(serializers.Serializer):
    expires_in_days = serializers.IntegerField(
        required=False, default=BETA_LINK_DEFAULT_DAYS, help_text=f"1 to {BETA_LINK_MAX_DAYS} days"
    )


class BetaLinkOutput(serializers.Serializer):
    id = serializers.IntegerField()
    version = serializers.IntegerField()
    url = serializers.CharField(help_text="Absolute URL to give the customer")
    token = serializers.CharField(help_text="What POST /beta-links/install takes")
    status = serializers.ChoiceField(choices=["active", "expired", "revoked"])
    created_at = serializers.DateTimeField()
    created_by = serializers.CharField(allow_null=True)
    expires_at = serializers.DateTimeField()
    revoked_at = serializers.DateTimeField(allow_null=True)
    installs = serializers.IntegerField()


class BetaInstallInput(serializers.Serializer):
    token = serializers.CharField()
    site = serializers.IntegerField(min_value=1, max_value=2**63 - 1)


class VersionBetaLinksApi(APIView):
    """GET: the beta version's share links with their install counts; POST: a new link."""

    @extend_schema(responses=BetaLinkOutput(many=True))
    def get(self, request: Request, pk: int) -> Response:
        version = version_get_for_user(user=request.user, pk=pk)
        links = beta_selectors.beta_share_link_list(version=version)
        return Response({"results": [beta_selectors.beta_link_data(link) for link in links]})

    @extend_schema(request=BetaLinkCreateInput, responses={201: BetaLinkOutput})
    def post(self, request: Request, pk: int) -> Response:
        version = version_get_for_user(user=request.user, pk=pk)
        data = BetaLinkCreateInput(data=request.data)
        data.is_valid(raise_exception=True)
        link = services.beta_share_link_create(
            version=version, actor=request.user, expires_in_days=data.validated_data["expires_in_days"]
        )
        link = beta_selectors.beta_share_link_get(version=version, pk=link.pk)
        return Response(beta_selectors.beta_link_data(link), status=status.HTTP_201_CREATED)


class VersionBetaLinkDetailApi(APIView):
    """DELETE: revoke (installations made through the link keep the beta); revoking twice changes nothing."""

    @extend_schema(request=None, responses=BetaLinkOutput)
    def delete(self, request: Request, pk: int, link_pk: int) -> Response:
        version = version_get_for_user(user=request.user, pk=pk)
        link = beta_selectors.beta_share_link_get(version=version, pk=link_pk)
        services.beta_share_link_revoke(link=link, actor=request.user)
        link = beta_selectors.beta_share_link_get(version=version, pk=link_pk)
        return Response(beta_selectors.beta_link_data(link))


class BetaInstallApi(APIView):
    """Install a beta through its share link on a site the signed-in user administers.

    This request is the admin's consent to the version's scopes and price, so a
    site token (a customer instance, not a person) can't make it.
    """

    authentication_classes = SITE_AUTH

    def permission_denied(self, request: Request, message=None, code=None):
        if isinstance(request.auth, Site):
            raise exceptions.PermissionDenied(
                "Installing a beta needs a signed-in site admin (session or user token): it records their consent."
            )
        return super().permission_denied(request, message=message, code=code)

    @extend_schema(
        request=BetaInstallInput, responses={201: OpenApiTypes.OBJECT}, auth=[{"tokenAuth": []}, {"cookieAuth": []}]
    )
    def post(self, request: Request) -> Response:
        data = BetaInstallInput(data=request.data)
        data.is_valid(raise_exception=True)
        record = services.beta_install(
            link_token=data.validated_data["token"], site=data.validated_data["site"], actor=request.user
        )
        installation = record.installation
        return Response(
            {
                "installation": installation.pk,
                "site": installation.site_id,
                "listing": installation.listing.key,
                "version": record.version.number,
                "from_version": record.from_version.number if record.from_version_id else None,
                "granted_scopes": record.granted_scopes,
                "license": record.license,
                "consent_reasons": record.consent_reasons,
                "upgrade": record.upgrade_id,
                "state": installation.state,
            },
            status=status.HTTP_201_CREATED,
        )
