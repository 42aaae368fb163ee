"""The one family of domain errors.

Services raise ApplicationError (or a subclass) with a message a person can act
on and, where it applies, the field it is about. The DRF exception handler
(core.api) and the form helper (core.forms) turn it into the same clear
message everywhere, with the HTTP status from `core.http.status_for`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


class ApplicationError(Exception):
    """A refused request: nothing was changed."""

    def __init__(self, message: str, *, field: str | None = None, code: str = "invalid"):
        super().__init__(message)
        self.message = message
        self.field = field
        self.code = code

    def as_dict(self) -> dict[str, list[str]]:
        return {self.field or "non_field_errors": [self.message]}


class FieldErrors(ApplicationError):
    """Several fields were refused at once: every field's messages, so a form shows them all in one pass.

    `message` and `field` are the first error (callers that show one message still can);
    `as_dict` carries them all, the way the DRF handler and core.forms show them.
    """

    def __init__(self, errors: dict[str, list[str]]):
        field, messages = next(iter(errors.items()))
        super().__init__(messages[0], field=None if field == "non_field_errors" else field)
        self.errors = errors

    def as_dict(self) -> dict[str, list[str]]:
        return {field: list(messages) for field, messages in self.errors.items()}


class ErrorCollector:
    """Run field checks one after another and keep every refusal instead of stopping at the first.

    errors = ErrorCollector()
    number = errors.check(clean_number, scheme, text)   # None when refused
    ...
    errors.raise_if_any()   # one FieldErrors (or the single ApplicationError as it was)
    """

    def __init__(self) -> None:
        self.raised: list[ApplicationError] = []

    def check(self, rule: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        try:
            return rule(*args, **kwargs)
        except ApplicationError as exc:
            self.add(exc)
            return None

    def add(self, exc: ApplicationError) -> None:
        self.raised.append(exc)

    def failed(self, field: str) -> bool:
        return any(field in exc.as_dict() for exc in self.raised)

    def __bool__(self) -> bool:
        return bool(self.raised)

    def raise_if_any(self) -> None:
        if not self.raised:
            return
        if len(self.raised) == 1:
            raise self.raised[0]
        errors: dict[str, list[str]] = {}
        for exc in self.raised:
            for field, messages in exc.as_dict().items():
                errors.setdefault(field, []).extend(m for m in messages if m not in errors.get(field, []))
        raise FieldErrors(errors)


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
