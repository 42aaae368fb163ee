"""REST API of notification preferences (issue #16 item 5): a person's vendor e-mails, and a
site admin's own e-mails for one site. People only (session or user token): a site token
is no person and has no preferences."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema
from rest_framework import generics, serializers
from rest_framework.request import Request
from rest_framework.response import Response

from core.notifications import VENDOR_EMAIL_KINDS, notification_address
from core.selectors import email_preferences
from core.serializers import error_responses
from core.services import email_preferences_set
from upgrades import selectors
from upgrades.models import AppliedUpgradeEmails
from upgrades.selectors.notifications import site_admin_of
from upgrades.services.notifications import site_notifications_set


class EmailPreferencesSerializer(serializers.Serializer):
    """One true/false per kind of vendor e-mail; a PUT may name only the kinds it changes."""

    email = serializers.EmailField(read_only=True, help_text="Your notification address (your profile sets it)")
    review_decisions = serializers.BooleanField(required=False, help_text=VENDOR_EMAIL_KINDS["review_decisions"])
    poll_failures = serializers.BooleanField(required=False, help_text=VENDOR_EMAIL_KINDS["poll_failures"])
    automatic_versions = serializers.BooleanField(required=False, help_text=VENDOR_EMAIL_KINDS["automatic_versions"])
    delivery_failures = serializers.BooleanField(required=False, help_text=VENDOR_EMAIL_KINDS["delivery_failures"])


class SiteNotificationsSerializer(serializers.Serializer):
    email = serializers.EmailField(read_only=True, help_text="The address this site's e-mails go to")
    consent_requests = serializers.CharField(
        read_only=True, help_text="Always 'immediately': requests to approve an upgrade can't be turned off"
    )
    applied_upgrades = serializers.ChoiceField(choices=AppliedUpgradeEmails.choices)


def _email_preferences_body(user: Any) -> dict[str, Any]:
    email = notification_address(user)
    return {"email": email, **email_preferences(email=email)}


class EmailPreferencesApi(generics.GenericAPIView):
    """Which of the portal's e-mails about your vendors' apps your notification address gets."""

    serializer_class = EmailPreferencesSerializer
    pagination_class = None
    filter_backends: list = []

    @extend_schema(responses={200: EmailPreferencesSerializer, **error_responses(401)})
    def get(self, request: Request) -> Response:
        return Response(EmailPreferencesSerializer(_email_preferences_body(request.user)).data)

    @extend_schema(
        request=EmailPreferencesSerializer, responses={200: EmailPreferencesSerializer, **error_responses(400, 401)}
    )
    def put(self, request: Request) -> Response:
        data = EmailPreferencesSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        email_preferences_set(
            email=notification_address(request.user), preferences=dict(data.validated_data), actor=request.user
        )
        return Response(EmailPreferencesSerializer(_email_preferences_body(request.user)).data)


class SiteNotificationsApi(generics.GenericAPIView):
    """Your own e-mails for one site you administer: applied upgrades immediately, as a daily digest, or off."""

    serializer_class = SiteNotificationsSerializer
    pagination_class = None
    filter_backends: list = []

    def _body(self, request: Request, pk: int) -> dict[str, Any]:
        site = selectors.site_get_for_user(user=request.user, pk=pk)
        admin = site_admin_of(user=request.user, site_id=site.pk)
        if admin is None:  # staff may see the site but have no e-mails of it
            from core.errors import NotFound

            raise NotFound("You are not an admin of this site: it sends you no e-mail.")
        return {"email": admin.email, "consent_requests": "immediately", "applied_upgrades": admin.applied_upgrades}

    @extend_schema(responses={200: SiteNotificationsSerializer, **error_responses(401, 404)})
    def get(self, request: Request, pk: int) -> Response:
        return Response(SiteNotificationsSerializer(self._body(request, pk)).data)

    @extend_schema(
        request=SiteNotificationsSerializer,
        responses={200: SiteNotificationsSerializer, **error_responses(400, 401, 403, 404)},
    )
    def put(self, request: Request, pk: int) -> Response:
        site = selectors.site_get_for_user(user=request.user, pk=pk)
        data = SiteNotificationsSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        site_notifications_set(site=site, actor=request.user, applied_upgrades=data.validated_data["applied_upgrades"])
        return Response(SiteNotificationsSerializer(self._body(request, pk)).data)
