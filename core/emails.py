"""Sending e-mail: render a text and an HTML template, send, and never send the same one twice.

Every app builds its messages in its own `emails.py` (who, subject, context)
and sends them with a record of its own that says "this one went out":

- one message at a time, `send_email_once`: a row under a unique constraint,
  or a timestamp on the row the e-mail is about, locked while it is sent;
- many messages (a rollout's consent e-mails), an outbox: rows written in the
  transaction of the change they announce, each with its Message-ID, claimed
  by a sender and sent in batches over one SMTP connection (`send_batch`).

Tasks that run twice, or two workers running the same task, then send nothing
twice; a message resent after a crash carries the same Message-ID.
"""

from __future__ import annotations

import functools
import logging
import random
import re
import sys
from collections.abc import Callable, Iterable
from email._policybase import Compat32
from email.generator import BytesGenerator
from email.utils import parseaddr
from io import BytesIO
from typing import Any, TypeVar

from django.conf import settings
from django.core.mail import EmailMultiAlternatives, get_connection
from django.core.mail.backends.smtp import EmailBackend as SmtpBackend
from django.core.mail.message import make_msgid, sanitize_address
from django.db import transaction
from django.db.models import Value
from django.db.models.functions import Coalesce, NullIf
from django.template.loader import render_to_string

logger = logging.getLogger(__name__)

Record = TypeVar("Record")


def vendor_recipients(vendor: Any, kind: str = "") -> list[str]:
    """Who hears about a vendor's listings and versions: every active member with an address,
    and the vendor's contact address (lower-cased, each once, sorted); with `kind`
    (core.notifications.VENDOR_EMAIL_KINDS), less the addresses that turned that kind off."""
    # A member's notification address (their profile's, when they set one) wins over their primary one.
    members = (
        vendor.users.filter(is_active=True)
        .annotate(notify=Coalesce(NullIf("profile__notification_email", Value("")), "email"))
        .exclude(notify="")
        .values_list("notify", flat=True)
    )
    addresses = {email.strip().lower() for email in [*members, vendor.contact_email or ""] if email.strip()}
    return sorted(addresses - opted_out(addresses, kind)) if kind else sorted(addresses)


def opted_out(addresses: Iterable[str], kind: str) -> set[str]:
    """The addresses among `addresses` that turned e-mails of `kind` off (one query)."""
    from core.models import EmailPreference

    return set(
        EmailPreference.objects.filter(kind=kind, enabled=False, email__in=list(addresses)).values_list(
            "email", flat=True
        )
    )


@functools.lru_cache(maxsize=4)
def _domain_of(address: str) -> str:
    return parseaddr(address)[1].rpartition("@")[2] or "localhost"


def new_message_id() -> str:
    """A Message-ID in the sender's domain (not the host's name: looking that up can take seconds)."""
    return make_msgid(domain=_domain_of(settings.DEFAULT_FROM_EMAIL))


def keyed_message_id(key: str) -> str:
    """The same Message-ID every time for the same key (a retry of one e-mail)."""
    return f"<{key}@{_domain_of(settings.DEFAULT_FROM_EMAIL)}>"


def build_email(
    *,
    to: Iterable[str],
    subject: str,
    template: str,
    context: dict[str, Any],
    message_id: str = "",
    headers: dict[str, str] | None = None,
) -> EmailMultiAlternatives:
    """Render `<template>.txt` and `<template>.html` into one message (under `message_id` when given)."""
    return build_email_from(
        to=to,
        subject=subject,
        text=render_to_string(f"{template}.txt", context),
        html=render_to_string(f"{template}.html", context),
        message_id=message_id,
        headers=headers,
    )


def build_email_from(
    *,
    to: Iterable[str],
    subject: str,
    text: str,
    html: str,
    message_id: str = "",
    headers: dict[str, str] | None = None,
) -> EmailMultiAlternatives:
    """One message of a text and an HTML body rendered already (`build_email`, or an outbox that
    renders a template once for many recipients)."""
    message = EmailMultiAlternatives(
        subject,
        text,
        settings.DEFAULT_FROM_EMAIL,
        list(to),
        headers={**({"Message-ID": message_id} if message_id else {}), **(headers or {})} or None,
    )
    message.attach_alternative(html, "text/html")
    return message


def send_email(*, to: Iterable[str], subject: str, template: str, context: dict[str, Any]) -> None:
    """Render `<template>.txt` and `<template>.html` and send both as one message."""
    build_email(to=to, subject=subject, template=template, context=context).send()


def send_batch(
    messages: Iterable[tuple[Record, EmailMultiAlternatives]],
    *,
    mark_sent: Callable[[Record], None],
    mark_refused: Callable[[Record, Exception], None],
) -> int:
    """Send outbox messages over one SMTP connection; returns how many were sent.

    `mark_sent(record)` runs (and commits) right after the server accepted each
    message, so a crash can leave at most the message in flight unmarked; its
    retry reuses the record's Message-ID. A message the server refuses
    (SMTPRecipientsRefused, SMTPDataError...) is handed to `mark_refused` and
    the batch goes on; a lost connection raises, and the unsent claims expire.
    """
    import smtplib

    sent = 0
    with get_connection() as connection:
        smtp = isinstance(connection, SmtpBackend) and not connection.fail_silently
        senders: dict[tuple[str, str], str] = {}
        for record, message in messages:
            message.connection = connection
            try:
                if smtp:
                    _smtp_send(connection, message, senders)
                else:
                    message.send()
            except (smtplib.SMTPRecipientsRefused, smtplib.SMTPDataError, smtplib.SMTPSenderRefused) as exc:
                logger.warning("SMTP refused %r: %s", message.subject, exc)
                mark_refused(record, exc)
                continue
            mark_sent(record)
            sent += 1
    return sent


def _smtp_send(backend: Any, message: EmailMultiAlternatives, senders: dict[tuple[str, str], str]) -> None:
    """What the SMTP backend's send_messages does for one message on its open connection, with the
    sender's address worked out once per batch (parsing an address costs as much as rendering)."""
    encoding = message.encoding or settings.DEFAULT_CHARSET
    key = (message.from_email, encoding)
    if key not in senders:
        senders[key] = sanitize_address(message.from_email, encoding)
    recipients = [_sanitized(address, encoding) for address in message.recipients()]
    if not recipients:
        return
    with backend._lock:
        backend.connection.sendmail(senders[key], recipients, message_bytes(message))


# An address sanitize_address gives back as it is: a dot-atom local part and a plain ASCII domain
# (each label 1-63 characters), no display name. Anything else is parsed by Django.
_ATOM = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+"
_PLAIN_ADDRESS = re.compile(rf"(?=[^@]{{1,64}}@){_ATOM}(?:\.{_ATOM})*@[A-Za-z0-9-]{{1,63}}(?:\.[A-Za-z0-9-]{{1,63}})*")


def _sanitized(address: str, encoding: str) -> str:
    """django.core.mail.message.sanitize_address, without parsing the plain addresses an outbox sends to."""
    if isinstance(address, str) and _PLAIN_ADDRESS.fullmatch(address):
        return address
    return sanitize_address(address, encoding)


# A header value compat32 writes as it is: printable ASCII words, one space apart (no folding, no
# encoding: email.header.Header returns such a value unchanged when the line fits in 78 characters).
_PLAIN_HEADER = re.compile(r"[\x21-\x7e]+(?: [\x21-\x7e]+)*")


class _OutboxGenerator(BytesGenerator):
    """BytesGenerator writing the same bytes for Django's messages (policy compat32) with less work.

    The stock generator folds every header through email.header.Header and compiles a regular
    expression per multipart message to check its random boundary; for the outbox these cost
    more than rendering the templates. Here a header that compat32 would write unchanged (see
    `_PLAIN_HEADER`) is written directly, any other one is folded as before, and a boundary is
    accepted when it appears nowhere in the parts (stricter than the stock check, which looks
    for it only as a line of its own)."""

    def _write_headers(self, msg: Any) -> None:
        if type(self.policy) is not Compat32 or self.policy.max_line_length != 78:
            super()._write_headers(msg)
            return
        for name, value in msg.raw_items():
            if isinstance(value, str) and len(name) + len(value) <= 76 and _PLAIN_HEADER.fullmatch(value):
                self.write(f"{name}: {value}{self._NL}")
            else:
                self._fp.write(self.policy.fold_binary(name, value))
        self.write(self._NL)

    @classmethod
    def _make_boundary(cls, text: bytes | str | None = None) -> str:
        while True:
            boundary = "=" * 15 + f"{random.randrange(sys.maxsize):019d}" + "=="
            if text is None or (boundary.encode() if isinstance(text, bytes) else boundary) not in text:
                return boundary


def message_bytes(message: EmailMultiAlternatives) -> bytes:
    """What the SMTP backend sends for `message` (`message.message().as_bytes(linesep="\\r\\n")`), made faster."""
    fp = BytesIO()
    _OutboxGenerator(fp, mangle_from_=False).flatten(message.message(), linesep="\r\n")
    return fp.getvalue()


def send_email_once(
    *,
    claim: Callable[[], Record | None],
    to: Iterable[str],
    subject: str,
    template: str,
    context: dict[str, Any],
    mark_sent: Callable[[Record], None] | None = None,
    message_key: str = "",
    unsubscribe_kind: str = "",
    unsubscribe_site_id: int | None = None,
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

    `message_key` names what the e-mail is about (for example
    "review-decision.42"); it makes the Message-ID, so when the server accepted
    the message and the commit then failed, the retry sends the same message
    again, which the recipient's mailbox shows once.

    `unsubscribe_kind` (core.notifications): each recipient gets their own
    message with a signed link that turns this kind off for their address
    (`unsubscribe_url` in the context) and the List-Unsubscribe headers;
    `unsubscribe_site_id` scopes it to one site (a site admin's upgrade e-mails).
    """
    to = sorted(set(to))
    with transaction.atomic():
        record = claim()
        if record is None:
            return None
        if to and unsubscribe_kind:
            _send_with_unsubscribe(to, subject, template, context, message_key, unsubscribe_kind, unsubscribe_site_id)
        elif to:
            build_email(
                to=to,
                subject=subject,
                template=template,
                context=context,
                message_id=keyed_message_id(message_key) if message_key else "",
            ).send()
        else:
            logger.warning("No recipient for %r: nothing sent", subject)
        if mark_sent is not None:
            mark_sent(record)
    return record


def _send_with_unsubscribe(
    to: list[str],
    subject: str,
    template: str,
    context: dict[str, Any],
    message_key: str,
    kind: str,
    site_id: int | None = None,
) -> None:
    """One message per recipient, each with the unsubscribe link for its own address (over one connection)."""
    import hashlib

    from core.notifications import unsubscribe_headers, unsubscribe_url

    with get_connection() as connection:
        for email in to:
            url = unsubscribe_url(kind=kind, email=email, site_id=site_id)
            suffix = hashlib.sha256(email.encode()).hexdigest()[:12]
            message = build_email(
                to=[email],
                subject=subject,
                template=template,
                context={**context, "unsubscribe_url": url, "recipient": email},
                message_id=keyed_message_id(f"{message_key}.{suffix}") if message_key else "",
                headers=unsubscribe_headers(url),
            )
            message.connection = connection
            message.send()
