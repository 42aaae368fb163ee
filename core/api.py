"""One exception handler: domain errors become the same clear messages as DRF's own."""

from __future__ import annotations

from typing import Any

from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from core.errors import ApplicationError
from core.http import status_for


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    if isinstance(exc, ApplicationError):
        return Response(exc.as_dict(), status=status_for(exc))
    response = drf_exception_handler(exc, context)
    if response is not None and isinstance(response.data, dict) and "detail" not in response.data:
        response.data = {str(field): _messages(value) for field, value in response.data.items()}
    elif response is not None and isinstance(response.data, list):
        response.data = {"non_field_errors": _messages(response.data)}
    return response


def _messages(value: Any, where: str = "") -> list[str]:
    """A field's errors as a flat list of sentences (core.serializers.ErrorSerializer's shape).

    DRF nests the errors of list items and nested objects (`{"host_products": {"0": [...]}}`,
    `[{}, {"name": [...]}]`); the one error body says each message once, prefixed with where
    inside the field it applies: "item 0: Enter a valid slug.", "components.web: ...".
    """
    prefix = f"{where}: " if where else ""
    if isinstance(value, dict):
        return [m for key, inner in value.items() for m in _messages(inner, _join(where, key))]
    if isinstance(value, list | tuple):
        if all(not isinstance(v, dict | list | tuple) for v in value):
            return [f"{prefix}{v}" for v in value]
        return [m for i, inner in enumerate(value) if inner for m in _messages(inner, _join(where, i))]
    return [f"{prefix}{value}"]


def _join(where: str, key: Any) -> str:
    part = f"item {key}" if isinstance(key, int) or str(key).isdigit() else str(key)
    return f"{where}, {part}" if where else part
