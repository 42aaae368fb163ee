"""One exception handler: domain errors become the same clear messages as DRF's own."""

from __future__ import annotations

from typing import Any

from rest_framework import status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from marketplace.errors import ApplicationError, NotFound, PermissionDenied, TransitionNotAllowed
from versions.models import ImmutableVersionError

_STATUS = {
    NotFound: status.HTTP_404_NOT_FOUND,
    PermissionDenied: status.HTTP_403_FORBIDDEN,
    TransitionNotAllowed: status.HTTP_409_CONFLICT,
}


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    if isinstance(exc, ApplicationError):
        code = next((s for cls, s in _STATUS.items() if isinstance(exc, cls)), status.HTTP_400_BAD_REQUEST)
        if exc.code == "not_found":
            code = status.HTTP_404_NOT_FOUND
        return Response(exc.as_dict(), status=code)
    if isinstance(exc, ImmutableVersionError):
        return Response({"non_field_errors": [str(exc)]}, status=status.HTTP_409_CONFLICT)
    return drf_exception_handler(exc, context)
