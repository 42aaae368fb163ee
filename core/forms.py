"""The form side of the one error family: put an ApplicationError next to its field."""

from __future__ import annotations

from django import forms

from core.errors import ApplicationError


def add_application_error(form: forms.Form, exc: ApplicationError) -> None:
    field = exc.field if exc.field in form.fields else None
    form.add_error(field, exc.message)
