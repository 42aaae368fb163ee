"""Sending e-mail: render a text and an HTML template, send, and never send the same one twice.

Every app builds its messages in its own `emails.py` (who, subject, context)
and sends them through `send_email_once`, with a record of its own that says
"this one went out": a row under a unique constraint, or a timestamp on the
row the e-mail is about. Tasks that run twice, or two workers running the same
task, then send nothing twice.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from typing import Any, TypeVar

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.db.models import Value
from django.db.models.functions import Coalesce, NullIf
from django.template.loader import render_to_string

logger = logging.getLogger(__name__)

Record = TypeVar("Record")


def vendor_recipients(vendor: Any) -> list[str]:
    """Who hears about a vendor's listings and versions: every active member with an address,
    and the vendor's contact address (lower-cased, each once, sorted)."""
    # A member's notification address (their profile's, when they set one) wins over their primary one.
    members = (
        vendor.users.filter(is_active=True)
        .annotate(notify=Coalesce(NullIf("profile__notification_email", Value("")), "email"))
        .exclude(notify="")
        .values_list("notify", flat=True)
    )
    addresses = {email.strip().lower() for email in [*members, vendor.contact_email or ""] if email.strip()}
    return sorted(addresses)


def send_email(*, to: Iterable[str], subject: str, template: str, context: dict[str, Any]) -> None:
    """Render `<template>.txt` and `<template>.html` and send both as one message."""
    message = EmailMultiAlternatives(
        subject, render_to_string(f"{template}.txt", context), settings.DEFAULT_FROM_EMAIL, list(to)
    )
    message.attach_alternative(render_to_string(f"{template}.html", context), "text/html")
    message.send()


def send_email_once(
    *,
    claim: Callable[[], Record | None],
    to: Iterable[str],
    subject: str,
    template: str,
    context: dict[str, Any],
    mark_sent: Callable[[Record], None] | None = None,
) -> Record | None:
    """Send an e-mail unless it was sent already; returns the record, or None when nothing was sent.

    `claim()` runs first, in the transaction, and returns the record that says
    this e-mail is being sent, or None when it was sent already. It must lock
    that record (select_for_update, or an insert under a unique constraint) so
    a concurrent run waits for this one and then finds it sent. The message is
    sent inside the same transaction: when sending fails, the record rolls back
    and the next run (the task's retry) sends it. `mark_sent(record)` then
    notes the sending on the record, for records that keep a time of sending.
    With no recipients the record is kept and nothing is sent (nobody to tell).
    """
    to = sorted(set(to))
    with transaction.atomic():
        record = claim()
        if record is None:
            return None
        if to:
            send_email(to=to, subject=subject, template=template, context=context)
        else:
            logger.warning("No recipient for %r: nothing sent", subject)
        if mark_sent is not None:
            mark_sent(record)
    return record
