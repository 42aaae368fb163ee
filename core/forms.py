"""The form side of the one error family: put an ApplicationError next to its field."""

from __future__ import annotations

from django import forms

from core.errors import ApplicationError


def add_application_error(form: forms.Form, exc: ApplicationError, *, field_map: dict[str, str] | None = None) -> None:
    """Every message of the error next to its field (core.errors.FieldErrors carries several).

    A field the form does not show goes to the form's own errors, named, so the
    error summary at the top (templates/portal/_error_summary.html) still says which.
    `field_map` names the input that shows a service field (the version form types scopes
    into "Other scopes": a refused scope is told there).
    """
    for field, messages in exc.as_dict().items():
        field = (field_map or {}).get(field, field)  # a service field shown by another input of the form
        target = field if field in form.fields else None
        for message in messages:
            if form.has_error(target) and message in form.errors.get(target or "__all__", []):
                continue
            form.add_error(target, message)
