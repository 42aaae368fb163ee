"""upgrades.emails.outbox_reverse: the outbox's links are the ones reverse() makes."""

from __future__ import annotations

import pytest
from django.urls import NoReverseMatch, reverse, set_script_prefix

from upgrades.emails import outbox_reverse

MARKERS = (987654321, "tokenQQmarker")


@pytest.mark.parametrize(
    "args",
    [
        (1, "eyJsIjoiYWIiLCJyIjoxfQ:1tQZ3c:Xy-Z_09abc"),
        (4_000_000_000, "a"),
        (0, "x:y"),
        (7, "needs quoting: space é~"),  # not verbatim: reverse() itself
        (7, "tokenQQmarker"),
    ],
)
def test_consent_links_are_reverses(args):
    assert outbox_reverse("upgrades:consent", MARKERS, args) == reverse("upgrades:consent", args=list(args))


def test_what_reverse_refuses_is_refused():
    with pytest.raises(NoReverseMatch):
        outbox_reverse("upgrades:consent", MARKERS, (-1, "abc"))
    with pytest.raises(NoReverseMatch):
        outbox_reverse("upgrades:consent", MARKERS, (1, ""))


def test_a_script_prefix_is_kept():
    try:
        set_script_prefix("/portal/")
        assert outbox_reverse("upgrades:site", (987654321,), (42,)) == reverse("upgrades:site", args=[42])
        assert outbox_reverse("upgrades:site", (987654321,), (42,)).startswith("/portal/")
    finally:
        set_script_prefix("/")
    assert outbox_reverse("upgrades:site", (987654321,), (42,)) == reverse("upgrades:site", args=[42])
