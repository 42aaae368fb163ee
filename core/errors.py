"""The one family of domain errors.

Services raise ApplicationError (or a subclass) with a message a person can act
on and, where it applies, the field it is about. The DRF exception handler
(core.api) and the form helper (core.forms) turn it into the same clear
message everywhere, with the HTTP status from `core.http.status_for`.
"""

from __future__ import annotations


class ApplicationError(Exception):
    """A refused request: nothing was changed."""

    def __init__(self, message: str, *, field: str | None = None, code: str = "invalid"):
        super().__init__(message)
        self.message = message
        self.field = field
        self.code = code

    def as_dict(self) -> dict[str, list[str]]:
        return {self.field or "non_field_errors": [self.message]}


class PermissionDenied(ApplicationError):
    def __init__(self, message: str = "You do not have permission to do this.", *, field: str | None = None):
        super().__init__(message, field=field, code="permission_denied")


class NotFound(ApplicationError):
    def __init__(self, message: str = "Not found.", *, field: str | None = None):
        super().__init__(message, field=field, code="not_found")


class TransitionNotAllowed(ApplicationError):
    """The object is not (or no longer) in a state that allows this transition."""

    def __init__(self, message: str, *, field: str | None = "state"):
        super().__init__(message, field=field, code="transition_not_allowed")


class Conflict(ApplicationError):
    """The request is valid but collides with the object's current state (HTTP 409)."""

    def __init__(self, message: str, *, field: str | None = None, code: str = "conflict"):
        super().__init__(message, field=field, code=code)


class ImmutableVersionError(Conflict):
    """A published (or otherwise frozen) version was asked to change: an ordinary refusal."""

    def __init__(self, message: str, *, field: str | None = None):
        super().__init__(message, field=field, code="immutable")
