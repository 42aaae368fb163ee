"""REST API for automatic versions: the descriptor pre-flight diff and forge deploys."""

from __future__ import annotations

from typing import Any

from django.core.files.uploadedfile import UploadedFile
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import generics, status
from rest_framework.authentication import SessionAuthentication
from rest_framework.parsers import BaseParser, FormParser, MultiPartParser
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response

from accounts.authentication import PersonalTokenAuthentication
from core.errors import ApplicationError
from core.parsers import SafeJSONParser
from core.serializers import error_responses
from marketplace.selectors import listing_get_for_user
from versions.serializers import (
    DeployInputSerializer,
    DeployOutputSerializer,
    DescriptorDiffOutputSerializer,
    DiffInputSerializer,
    ShareInputSerializer,
    ShareOutputSerializer,
)
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


def _document(value: Any, name: str) -> Any:
    if isinstance(value, str | dict):
        return value
    raise ApplicationError(f"{name} must be the descriptor's text or a JSON object.", field=name)


class DescriptorDiffApi(generics.GenericAPIView):
    """What a new descriptor would do: bump, next number, reasons, consent (writes nothing)."""

    serializer_class = DiffInputSerializer

    @extend_schema(request=DiffInputSerializer, responses={200: DescriptorDiffOutputSerializer, **error_responses(400)})
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
        return Response(DescriptorDiffOutputSerializer(report.as_dict()).data)


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
    serializer_class = DeployOutputSerializer

    @extend_schema(
        request={"application/yaml": str, "application/json": DeployInputSerializer},
        responses={
            201: OpenApiResponse(DeployOutputSerializer, description="A new version"),
            200: OpenApiResponse(DeployOutputSerializer, description="The same manifest as an earlier deploy"),
            **error_responses(400, 403, 404, 409),
        },
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
        body = DeployOutputSerializer({"created": created, "version": deploy.version}).data
        return Response(body, status=status.HTTP_201_CREATED if created else status.HTTP_200_OK)


class BundleShareApi(generics.GenericAPIView):
    """Share a bundle listing's app group: the next number is MAJOR.(shares of it).0.

    Every share makes a version (201), also when no component changed: such a
    version counts the MINOR up and is offered to no site.
    """

    serializer_class = ShareInputSerializer

    @extend_schema(
        request=ShareInputSerializer,
        responses={201: ShareOutputSerializer, **error_responses(400, 403, 404, 409)},
    )
    def post(self, request: Request, key: str) -> Response:
        listing = listing_get_for_user(user=request.user, key=key)
        data = ShareInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        version, changes = bundle_share(listing=listing, actor=request.user, **data.validated_data)
        body = ShareOutputSerializer({"created": True, "components_changed": changes, "version": version}).data
        return Response(body, status=status.HTTP_201_CREATED)
