"""One map from the domain errors to HTTP statuses, used by the API and by pages alike."""

from __future__ import annotations

from core.errors import ApplicationError, Conflict, NotFound, PermissionDenied, TransitionNotAllowed

# Most specific first: the first class the error is an instance of decides.
ERROR_STATUS: tuple[tuple[type[ApplicationError], int], ...] = (
    (NotFound, 404),
    (PermissionDenied, 403),
    (TransitionNotAllowed, 409),
    (Conflict, 409),
)


# Codes that say more than their class: a link that was good once and is no longer is 410 Gone.
CODE_STATUS: dict[str, int] = {
    "not_found": 404,
    "transition_not_allowed": 409,
    "link_expired": 410,
    "link_revoked": 410,
    "version_unavailable": 410,
}


def status_for(exc: ApplicationError) -> int:
    """The HTTP status of a refused request (400 when nothing more specific applies)."""
    if exc.code in CODE_STATUS:
        return CODE_STATUS[exc.code]
    for cls, status in ERROR_STATUS:
        if isinstance(exc, cls):
            return status
    return 400
