"""core.emails.message_bytes: the outbox's faster flattening writes exactly the bytes Django's
SMTP backend would (`message.message().as_bytes(linesep="\\r\\n")`), header by header."""

from __future__ import annotations

import email
import random

import pytest
from django.core.mail.message import sanitize_address

from core.emails import _sanitized, build_email_from, message_bytes


def _pair(**kwargs):
    """The same message flattened both ways (the random boundary and the Date made equal)."""
    message = build_email_from(**kwargs)
    mime = message.message()
    ours = message_bytes(message)
    boundary = email.message_from_bytes(ours).get_boundary()
    mime.set_boundary(boundary)
    stock = mime.as_bytes(linesep="\r\n")
    date = email.message_from_bytes(ours)["Date"]
    stock = stock.replace(f"Date: {mime['Date']}".encode(), f"Date: {date}".encode())
    return ours, stock


@pytest.mark.parametrize(
    "subject,to,text,html,headers",
    [
        ("Plain 1.1.0 needs your approval on Site 7", ["admin7@example.com"], "Hello,\n\nok\n", "<p>ok</p>", {}),
        # Long enough to fold, non-ASCII (RFC 2047), double spaces, tabs, trailing space.
        ("A subject " * 12, ["a@example.com"], "x\n", "<p>x</p>", {}),
        ("Ünïcödé Sïte approves Åpp 2.0", ["Jörg Müller <jorg@example.com>"], "Grüße\n", "<p>Grüße</p>", {}),
        ("Two  spaces\tand a tab ", ["a@example.com", "b@example.com"], "y\n", "<p>y</p>", {}),
        (
            "Applied",
            ["a@example.com"],
            "a very long line " * 80,  # over 998 characters: quoted-printable
            "<p>z</p>",
            {
                "List-Unsubscribe": "<https://portal.example.com/unsubscribe/" + "x" * 120 + ">",
                "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
            },
        ),
    ],
)
def test_the_bytes_are_the_stock_generators(subject, to, text, html, headers):
    ours, stock = _pair(
        to=to, subject=subject, text=text, html=html, message_id="<1.2.3@marketplace.localhost>", headers=headers
    )
    assert ours == stock


def test_random_header_values_are_written_as_the_stock_generator_writes_them():
    rng = random.Random(14)
    alphabet = "ab=?;,:<>@\"'()[]\\. -_/\té"
    for _ in range(300):
        subject = "".join(rng.choice(alphabet) for _ in range(rng.randint(1, 90)))
        ours, stock = _pair(to=["a@example.com"], subject=subject, text="t\n", html="<p>t</p>", message_id="<r@x>")
        assert ours == stock, subject


def test_plain_addresses_are_taken_as_django_would_sanitize_them():
    rng = random.Random(16)
    alphabet = "aZ09.-_+@!#'é\" <>()"
    samples = ["admin1@scale.example.com", "A.B+c@Example.COM", "x@" + "d" * 63 + ".com", "x@" + "d" * 64 + ".com"]
    samples += ["l" * 64 + "@example.com", "l" * 65 + "@example.com", "a..b@example.com", "a@b..c", "Name <a@b.c>"]
    samples += ["".join(rng.choice(alphabet) for _ in range(rng.randint(3, 30))) for _ in range(3000)]
    for address in samples:
        try:
            expected = sanitize_address(address, "utf-8")
        except Exception as exc:  # whatever Django raises, the fast path must raise too
            expected = type(exc)
        try:
            got = _sanitized(address, "utf-8")
        except Exception as exc:
            got = type(exc)
        assert got == expected, address
