"""The one family of domain errors.

Services raise ApplicationError (or a subclass) with a message a person can act
on and, where it applies, the field it is about. The DRF exception handler
(marketplace.api_errors) and the form helper (marketplace.forms_helpers) turn it
into the same clear message everywhere.
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
