"""REST API for automatic versions: the descriptor pre-flight diff and forge deploys."""

from __future__ import annotations

from typing import Any

from django.core.files.uploadedfile import UploadedFile
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import generics, serializers, status
from rest_framework.authentication import SessionAuthentication
from rest_framework.parsers import BaseParser, FormParser, MultiPartParser
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response

from accounts.authentication import PersonalTokenAuthentication
from core.errors import ApplicationError
from core.parsers import SafeJSONParser
from marketplace.selectors import listing_get_for_user
from versions.serializers import VersionOutputSerializer
from versions.services import automatic as services_automatic
from versions.services.bundles import bundle_share

MAX_MANIFEST_BYTES = 1024 * 1024


class ManifestTextParser(BaseParser):
    """A manifest posted as the raw body (YAML or plain text): the text is the data."""

    media_type = "*/*"

    def parse(self, stream, media_type=None, parser_context=None):
        body = stream.read(MAX_MANIFEST_BYTES + 1) if stream is not None else b""
        if len(body) > MAX_MANIFEST_BYTES:
            raise ApplicationError(f"The manifest is larger than {MAX_MANIFEST_BYTES} bytes.", field="manifest")
        return body


class YamlParser(ManifestTextParser):
    media_type = "application/yaml"


class XYamlParser(ManifestTextParser):
    media_type = "application/x-yaml"


class TextYamlParser(ManifestTextParser):
    media_type = "text/yaml"


class PlainTextParser(ManifestTextParser):
    media_type = "text/plain"


class DiffInputSerializer(serializers.Serializer):
    old = serializers.JSONField(help_text="The current descriptor: its text, or (JSON) the object itself")
    new = serializers.JSONField(help_text="The new descriptor: its text, or (JSON) the object itself")
    scheme = serializers.ChoiceField(choices=["connect", "forge"], default="connect")
    # `from` is a Python keyword: the field is declared below.

    def get_fields(self) -> dict[str, Any]:
        fields = super().get_fields()
        fields["from"] = serializers.CharField(required=False, allow_null=True, max_length=255)
        return fields


DiffOutput = inline_serializer(
    "DescriptorDiffOutput",
    {
        "bump": serializers.ChoiceField(choices=["major", "minor", "patch", "none"]),
        "next": serializers.CharField(allow_null=True),
        "reasons": serializers.ListField(child=serializers.CharField()),
        "consent_required": serializers.BooleanField(),
        "scopes_added": serializers.ListField(child=serializers.CharField()),
        "scopes_removed": serializers.ListField(child=serializers.CharField()),
        "free_to_paid": serializers.BooleanField(),
    },
)


def _document(value: Any, name: str) -> Any:
    if isinstance(value, str | dict):
        return value
    raise ApplicationError(f"{name} must be the descriptor's text or a JSON object.", field=name)


class DescriptorDiffApi(generics.GenericAPIView):
    """What a new descriptor would do: bump, next number, reasons, consent (writes nothing)."""

    serializer_class = DiffInputSerializer

    @extend_schema(request=DiffInputSerializer, responses=DiffOutput)
    def post(self, request: Request) -> Response:
        data = DiffInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        report = services_automatic.descriptor_diff(
            old=_document(values["old"], "old"),
            new=_document(values["new"], "new"),
            scheme=values["scheme"],
            from_number=values.get("from"),
        )
        return Response(report.as_dict())


DeployOutput = inline_serializer(
    "DeployOutput",
    {
        "created": serializers.BooleanField(),
        "version": VersionOutputSerializer(),
    },
)


class DeployCreateApi(generics.GenericAPIView):
    """A forge production deploy: the manifest becomes the listing's next version.

    Send the manifest as the body (Content-Type application/yaml, text/yaml or
    application/json), or as JSON {"manifest": "<YAML text>"}. The same manifest
    twice gives the same version (200 instead of 201).
    """

    authentication_classes = [PersonalTokenAuthentication, SessionAuthentication]
    permission_classes = [IsAuthenticated]
    parser_classes = [
        SafeJSONParser,
        YamlParser,
        XYamlParser,
        TextYamlParser,
        PlainTextParser,
        FormParser,
        MultiPartParser,
    ]
    serializer_class = VersionOutputSerializer

    @extend_schema(
        request={"application/yaml": str, "application/json": dict}, responses={201: DeployOutput, 200: DeployOutput}
    )
    def post(self, request: Request, key: str) -> Response:
        listing = listing_get_for_user(user=request.user, key=key)
        manifest: Any = request.data
        if isinstance(manifest, dict) and "manifest" in manifest:
            manifest = manifest["manifest"]
        elif hasattr(manifest, "dict") and not isinstance(manifest, dict):  # a QueryDict from a form post
            manifest = manifest.get("manifest", "")
        if isinstance(manifest, UploadedFile):  # multipart with the manifest as a file
            if manifest.size > MAX_MANIFEST_BYTES:
                raise ApplicationError(f"The manifest is larger than {MAX_MANIFEST_BYTES} bytes.", field="manifest")
            manifest = manifest.read()
        deploy, created = services_automatic.deploy_create(listing=listing, actor=request.user, manifest=manifest)
        body = {"created": created, "version": VersionOutputSerializer(deploy.version).data}
        return Response(body, status=status.HTTP_201_CREATED if created else status.HTTP_200_OK)


class ShareInputSerializer(serializers.Serializer):
    major = serializers.IntegerField(help_text="MAJOR, typed by the vendor; the MINOR counts shares of it")
    components = serializers.JSONField(help_text='[{"name": "api", "version": "2026.11.1"}, ...]')
    update_notes = serializers.CharField(required=False, allow_blank=True, default="", trim_whitespace=False)


class BundleShareApi(generics.GenericAPIView):
    """Share a bundle listing's app group: the next number is MAJOR.(shares of it).0.

    The same components as the live version give back the live version (200).
    """

    serializer_class = ShareInputSerializer

    @extend_schema(request=ShareInputSerializer, responses={201: DeployOutput, 200: DeployOutput})
    def post(self, request: Request, key: str) -> Response:
        listing = listing_get_for_user(user=request.user, key=key)
        data = ShareInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        version, created = bundle_share(listing=listing, actor=request.user, **data.validated_data)
        body = {"created": created, "version": VersionOutputSerializer(version).data}
        return Response(body, status=status.HTTP_201_CREATED if created else status.HTTP_200_OK)
