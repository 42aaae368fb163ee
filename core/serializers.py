"""Shapes every app's API shares: the one error body, and its place in the OpenAPI schema."""

from __future__ import annotations

from typing import Any

from drf_spectacular.extensions import OpenApiSerializerExtension
from drf_spectacular.utils import OpenApiResponse
from rest_framework import serializers

ERROR_DESCRIPTIONS: dict[int, str] = {
    400: "Invalid input: nothing was changed.",
    401: "No credentials, or credentials that are not valid.",
    403: "Not allowed to do this.",
    404: "No such object (or not one this caller may see).",
    409: "Valid, but collides with the object's current state: nothing was changed.",
    410: "Good once, no longer (an expired or revoked link, a withdrawn version).",
}


class ErrorSerializer(serializers.Serializer):
    """A refused request: `{"<field>": ["<message>", ...]}` (`non_field_errors` when no field applies).

    DRF's own refusals (not signed in, no permission, not found) say `{"detail": "<message>"}`;
    domain errors (core.errors) and input validation use the field form. Written by the
    exception handler (core.api), never by a view: this serializer only documents it.
    """

    detail = serializers.CharField(required=False, help_text="DRF's own refusals put their message here")


class ErrorSerializerSchema(OpenApiSerializerExtension):
    """The error body is a map from field name to messages, which a serializer can't declare."""

    target_class = "core.serializers.ErrorSerializer"

    def map_serializer(self, auto_schema: Any, direction: Any) -> dict[str, Any]:
        return {
            "type": "object",
            "description": ErrorSerializer.__doc__.split("\n")[0],
            "properties": {"detail": {"type": "string", "description": "DRF's own refusals put their message here"}},
            "additionalProperties": {"type": "array", "items": {"type": "string"}},
            "example": {"state": ["Only drafts can be submitted."]},
        }


def error_responses(*statuses: int) -> dict[int, OpenApiResponse]:
    """`responses=` entries for the refusals an operation can answer, each with the one error body."""
    return {code: OpenApiResponse(ErrorSerializer, description=ERROR_DESCRIPTIONS[code]) for code in statuses}
