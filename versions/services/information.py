"""Needs information: the reviewer's question moves a version out of review, the vendor's answer
(or their edit after a withdraw) brings it back.

The thread itself (the question, the reply) is the reviews app's (reviews.services.review_ask
and review_reply call these inside their transaction); here only the state machine: the row
locked, the rule checked, one VersionTransition audit row.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction

from marketplace.permissions import require_reviewer_for, require_vendor_member
from versions.models import Version
from versions.services._rules import _lock, _transition


def version_request_information(*, version: Version, actor: Any, comment: str) -> Version:
    """in review -> needs information; the comment is the reviewer's question."""
    with transaction.atomic():
        version = _lock(version)
        require_reviewer_for(actor, version.listing.vendor_id)
        return _transition(version, "request_information", actor=actor, comment=comment)


def version_information_provided(*, version: Version, actor: Any, comment: str) -> Version:
    """needs information -> in review; the comment is the vendor's answer. The reviewer keeps the version."""
    with transaction.atomic():
        version = _lock(version)
        require_vendor_member(actor, version.listing.vendor_id)
        return _transition(version, "information_provided", actor=actor, comment=comment)
