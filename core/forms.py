"""The form side of the one error family: put an ApplicationError next to its field."""

from __future__ import annotations

from django import forms

from core.errors import ApplicationError


def add_application_error(form: forms.Form, exc: ApplicationError) -> None:
    """Every message of the error next to its field (core.errors.FieldErrors carries several).

    A field the form does not show goes to the form's own errors, named, so the
    error summary at the top (templates/portal/_error_summary.html) still says which.
    """
    for field, messages in exc.as_dict().items():
        target = field if field in form.fields else None
        for message in messages:
            if form.has_error(target) and message in form.errors.get(target or "__all__", []):
                continue
            form.add_error(target, message)
