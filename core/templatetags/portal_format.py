"""Formats every page shares (a builtin: no `{% load %}` needed, see TEMPLATES in settings).

- `{{ moment|when }}`: a date and time with its time zone, in a <time> element
  (`2026-11-28 05:20 UTC`): a reader never guesses which clock a time is on.
- `{{ form|error_links }}`: every field error of a form with the element to
  jump to, for the error summary (templates/portal/_error_summary.html).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django import template
from django.forms import Form
from django.utils import timezone
from django.utils.dateformat import format as date_format
from django.utils.html import format_html

register = template.Library()

WHEN_FORMAT = "Y-m-d H:i T"


@register.filter
def when(value: Any, fmt: str = WHEN_FORMAT) -> str:
    """A time shown to a person: always with the zone it is in (the active time zone)."""
    if not isinstance(value, datetime):
        return "" if value in (None, "") else str(value)
    local = timezone.localtime(value) if timezone.is_aware(value) else value
    text = date_format(local, fmt)
    if "T" not in fmt and "e" not in fmt and "O" not in fmt:
        text = f"{text} {date_format(local, 'T')}"
    return format_html('<time datetime="{}">{}</time>', local.isoformat(timespec="seconds"), text)


def error_anchor(form: Form, name: str) -> str:
    """The id a summary link jumps to: the input itself, else the field's wrapper (templates/portal/_field.html)."""
    bound = form[name]
    widget_id = bound.id_for_label
    if widget_id and not bound.is_hidden:
        return widget_id
    return f"field-{bound.html_name}"


@register.filter
def error_links(form: Any) -> list[dict[str, str]]:
    if not isinstance(form, Form) or not form.errors:
        return []
    links = [{"anchor": "", "label": "", "message": str(message)} for message in form.non_field_errors()]
    for name, messages in form.errors.items():
        if name == "__all__" or name not in form.fields:
            continue
        label = form.fields[name].label or name.replace("_", " ").capitalize()
        for message in messages:
            links.append({"anchor": error_anchor(form, name), "label": str(label), "message": str(message)})
    return links
