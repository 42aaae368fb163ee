"""The one error family carries several field errors at once (core.errors.FieldErrors)."""

from __future__ import annotations

import pytest
from django import forms

from core.errors import ApplicationError, ErrorCollector, FieldErrors
from core.forms import add_application_error


def refuse(field: str, message: str) -> None:
    raise ApplicationError(message, field=field)


def test_the_collector_keeps_every_refusal_and_raises_them_together():
    errors = ErrorCollector()
    assert errors.check(lambda: 5) == 5
    assert errors.check(refuse, "number", "Number is bad.") is None
    errors.check(refuse, "notes", "Notes are required.")
    errors.check(refuse, "number", "Number is taken.")
    assert errors.failed("number") and not errors.failed("pricing")
    with pytest.raises(FieldErrors) as caught:
        errors.raise_if_any()
    assert caught.value.as_dict() == {
        "number": ["Number is bad.", "Number is taken."],
        "notes": ["Notes are required."],
    }
    assert caught.value.message == "Number is bad." and caught.value.field == "number"


def test_one_refusal_is_raised_as_it_was_and_none_raises_nothing():
    errors = ErrorCollector()
    errors.raise_if_any()
    errors.check(refuse, "notes", "Notes are required.")
    with pytest.raises(ApplicationError) as caught:
        errors.raise_if_any()
    assert type(caught.value) is ApplicationError and caught.value.field == "notes"


class NotesForm(forms.Form):
    number = forms.CharField(required=False)
    notes = forms.CharField(required=False)


def test_the_form_helper_puts_each_message_next_to_its_field_and_the_unknown_ones_on_the_form():
    form = NotesForm({"number": "x", "notes": ""})
    assert form.is_valid()
    add_application_error(
        form,
        FieldErrors({"number": ["Number is bad."], "notes": ["Notes are required."], "build_number": ["Too low."]}),
    )
    assert form.errors["number"] == ["Number is bad."]
    assert form.errors["notes"] == ["Notes are required."]
    assert form.non_field_errors() == ["Too low."]
